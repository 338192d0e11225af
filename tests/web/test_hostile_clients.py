"""Requests from clients nobody here wrote: valid HTTP that the server must answer as HTTP says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

STATIC = Path(__file__).resolve().parents[2] / "src" / "moodtape" / "web" / "static"


def test_if_match_star_is_met_by_a_file_that_exists(client: FlaskClient) -> None:
    """``If-Match: *`` holds whenever the file is there (RFC 9110 §13.1.1); it was answered 412."""
    for encoding in ("identity", "gzip"):
        met = client.get("/static/style.css", headers={"If-Match": "*", "Accept-Encoding": encoding})
        assert met.status_code == 200, encoding
    part = client.get("/static/style.css", headers={"If-Match": "*", "Range": "bytes=0-5"})
    assert part.status_code == 206 and part.get_data() == (STATIC / "style.css").read_bytes()[:6]
    missing = client.get("/static/no-such-file.css", headers={"If-Match": "*"})
    assert missing.status_code == 404 and missing.mimetype == "application/json"


def test_an_unsupported_http_version_is_named_with_the_fix() -> None:
    """A client speaking HTTP/2.0 in clear text got code ``http_error`` and "HTTP Version Not Supported"."""
    from moodtape.web.refusals import refusal

    _, body = refusal(505, "HTTP Version Not Supported")
    error = json.loads(body)["error"]
    assert error["code"] == "http_version_not_supported"
    assert "HTTP/1.1" in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "takes"),
    [("GET", "/api/analyze", "POST"), ("POST", "/api/config", "GET"), ("PUT", "/api/history", "DELETE, GET")],
)
def test_a_wrong_method_is_told_which_methods_the_path_takes(
    client: FlaskClient, method: str, path: str, takes: str
) -> None:
    """It said "The method is not allowed for the requested URL.", naming nothing to send instead."""
    refused = client.open(path, method=method)
    assert refused.status_code == 405 and refused.get_json()["error"]["code"] == "method_not_allowed"
    assert f"it takes {takes} " in refused.get_json()["error"]["message"]
    assert "Allow" in refused.headers


@pytest.mark.parametrize("query", ["", "?v=000000000000"])
def test_a_model_asked_for_without_its_digest_is_not_cached_for_a_year(client: FlaskClient, query: str) -> None:
    """Every address of a model file was "immutable" for a year, so one fetched without ``v`` (or with
    an old one) outlived the model it held; only the current digest's address may be kept so."""
    current = client.get("/api/ondevice").get_json()["models"]["emotion"]
    assert "immutable" in client.get(current).headers["Cache-Control"]
    other = client.get("/ondevice/emotion.onnx" + query)
    assert other.status_code == 200 and other.headers["Cache-Control"] == "no-cache"


def test_a_model_answered_no_cache_is_revalidated_not_fetched_again(client: FlaskClient) -> None:
    """The ``no-cache`` answer had no ETag, so a cache could not revalidate it: every use downloaded
    the whole file (3.6 MB for the emotion model). Now it has one, and sending it back gets a 304."""
    first = client.get("/ondevice/emotion.onnx")
    etag = first.headers.get("ETag")
    assert etag and first.headers["Cache-Control"] == "no-cache"
    again = client.get("/ondevice/emotion.onnx", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["Cache-Control"] == "no-cache"
    other = client.get("/ondevice/emotion.onnx", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.get_data() == first.get_data()
