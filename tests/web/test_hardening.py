"""Findings of the hardening review (issue 10), each reproduced against the app and refused."""

from __future__ import annotations

import gzip
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, post_calibration, same_session

from moodtape.config import Settings
from moodtape.errors import ModelError
from moodtape.web import create_app
from moodtape.web.secret_key import FILE_NAME


def _error(reply: Any, status: int) -> dict[str, str]:
    assert reply.status_code == status, reply.get_data(as_text=True)
    body = reply.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return dict(body["error"])


# --- numbers and JSON with bounds -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/recommendations", "/api/export"])
@pytest.mark.parametrize(
    "probabilities",
    [
        '{"sad": 1' + "0" * 400 + "}",  # OverflowError in float() before
        "[" * 3000 + "]" * 3000,  # RecursionError before
        '{"sad": NaN}',
        '{"sad": Infinity}',
        '{"sad": 1e999}',
        "x" * 5000,
    ],
    ids=["400-digits", "3000-deep", "nan", "infinity", "float-overflow", "long"],
)
def test_hostile_probabilities_are_a_400(client: FlaskClient, path: str, probabilities: str) -> None:
    _error(client.get(f"{path}?probabilities={quote(probabilities)}"), 400)


@pytest.mark.parametrize("value", ["1e400", "nan", "-inf", "9" * 5000])
def test_hostile_valence_is_a_400(client: FlaskClient, value: str) -> None:
    _error(client.get(f"/api/recommendations?valence={value}&arousal=0"), 400)


@pytest.mark.parametrize("seed", ["9" * 400, "1" * 30, "-1", "0x10"])
def test_hostile_seed_is_a_400(client: FlaskClient, seed: str) -> None:
    _error(client.get(f"/api/recommendations?emotion=sad&seed={seed}"), 400)


def test_feedback_nested_2000_deep_is_a_400(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = '{"action": ' + "[" * 2000 + "]" * 2000 + "}"
    reply = client.post("/api/feedback", data=body, headers=csrf, content_type="application/json")
    _error(reply, 400)


def test_feedback_with_a_lone_surrogate_is_a_400(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = '{"action": "like", "key": "\\ud800", "artist": "A"}'
    _error(client.post("/api/feedback", data=body, headers=csrf, content_type="application/json"), 400)


def test_a_huge_feedback_body_is_refused(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = json.dumps({"action": "like", "key": "k", "artist": "a", "padding": "x" * 100_000})
    reply = client.post("/api/feedback", data=body, headers=csrf, content_type="application/json")
    assert _error(reply, 413)["message"].startswith("the JSON body is too")


def test_a_nul_character_in_feedback_is_a_400(client: FlaskClient, csrf: dict[str, str]) -> None:
    """PostgreSQL's text cannot hold NUL: before, the store's error came out as a 500 there."""
    body = json.dumps({"action": "like", "key": "a\u0000b", "artist": "A"})
    reply = client.post("/api/feedback", data=body, headers=csrf, content_type="application/json")
    assert "NUL" in _error(reply, 400)["message"]
    assert client.get("/api/history").get_json()["items"] == []


def test_a_key_given_twice_in_a_json_body_is_a_400(client: FlaskClient, csrf: dict[str, str]) -> None:
    """Python kept the last of two ``action`` keys, a filter in front may read the first."""
    body = '{"action": "like", "key": "Song 1|Artist 1", "artist": "Artist 1", "action": "dislike"}'
    reply = client.post("/api/feedback", data=body, headers=csrf, content_type="application/json")
    assert "given twice" in _error(reply, 400)["message"]


@pytest.mark.parametrize(
    "query",
    [
        "/api/history?confirm=true&confirm=false",
        "/api/history?confirm=true&confirm=true",
        "/api/history?confirm=true&strict=",
        "/api/history?confirm=true&x=%00",
    ],
    ids=["disagreeing", "repeated", "empty", "nul"],
)
def test_a_repeated_empty_or_nul_parameter_deletes_nothing(
    client: FlaskClient, csrf: dict[str, str], query: str, astronaut_jpeg_bytes: bytes
) -> None:
    """Werkzeug reads the first of repeated values: ``confirm=true&confirm=false`` deleted everything."""
    post_calibration(client, astronaut_jpeg_bytes, headers=csrf)
    _error(client.delete(query, headers=csrf), 400)
    assert client.get("/api/calibration").get_json()["calibrated"] is True


@pytest.mark.parametrize("query", ["emotion=sad&emotion=happy", "stream=", "emotion="])
def test_analyze_and_calibration_refuse_ambiguous_queries(
    client: FlaskClient, csrf: dict[str, str], query: str, astronaut_jpeg_bytes: bytes
) -> None:
    for path in ("/api/analyze", "/api/calibration"):
        reply = client.post(f"{path}?{query}", data=astronaut_jpeg_bytes, headers=csrf, content_type="image/jpeg")
        _error(reply, 400)
    assert client.get("/api/calibration").get_json()["calibrated"] is False


@pytest.mark.parametrize("value", ["\uff11", "\u0661", "\u00b9"])
def test_non_ascii_digits_are_not_numbers(client: FlaskClient, value: str) -> None:
    """``float("１")`` is 1.0; the API's numbers are ASCII, as its whole numbers already were."""
    digit = json.loads(f'"{value}"')
    _error(client.get(f"/api/recommendations?valence={quote(digit)}&arousal=0"), 400)


def test_unknown_fields_are_ignored(client: FlaskClient, csrf: dict[str, str]) -> None:
    """The one rule for fields nobody asked for: ignored, in JSON bodies and query strings alike."""
    body = {"action": "like", "key": "Song 1|Artist 1", "artist": "Artist 1", "colour": "blue"}
    assert client.post("/api/feedback", json=body, headers=csrf).status_code == 200
    assert client.get("/api/recommendations?emotion=sad&colour=blue").status_code == 200


# --- internals never reach clients ------------------------------------------------------------


def test_a_model_that_fails_to_load_is_a_503_without_paths(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, astronaut_jpeg_bytes: bytes
) -> None:
    def broken() -> Any:
        raise ModelError("model file not found: /srv/secret/place/model.onnx")

    client = make_app(analyzer=broken).test_client()
    with caplog.at_level(logging.ERROR):
        reply = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg")
    error = _error(reply, 503)
    assert "/srv" not in error["message"] and "MOODTAPE_MODEL" in error["message"]
    assert "/srv/secret/place/model.onnx" in caplog.text  # the operator keeps the detail


def test_a_bad_model_setting_refuses_to_build_the_app(tmp_path: Path) -> None:
    from moodtape.errors import SettingsError

    with pytest.raises(SettingsError, match="MOODTAPE_MODEL"):
        create_app(Settings({"MOODTAPE_DATA_DIR": str(tmp_path), "MOODTAPE_MODEL": str(tmp_path / "gone.onnx")}))


# --- sessions, keys, HSTS ---------------------------------------------------------------------


def test_a_client_chosen_session_id_is_replaced(client: FlaskClient) -> None:
    client.set_cookie("moodtape_session", "aaaaaaaaaaaaaaaa")
    reply = client.get("/api/config")
    cookie = reply.headers.get("Set-Cookie", "")
    assert cookie.startswith("moodtape_session=") and "aaaaaaaaaaaaaaaa" not in cookie


def test_a_forged_signature_is_replaced_and_a_real_cookie_kept(client: FlaskClient) -> None:
    issued = client.get("/api/config").headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert client.get("/api/config").headers.get("Set-Cookie") is None  # kept: no new cookie
    session = issued.partition(".")[0]
    client.set_cookie("moodtape_session", f"{session}.{'0' * 32}")
    assert client.get("/api/config").headers.get("Set-Cookie", "").startswith("moodtape_session=")


def test_the_generated_secret_key_survives_a_restart(tmp_path: Path) -> None:
    settings = Settings({"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_OFFLINE": "true"})
    first, second = create_app(settings), create_app(settings)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    kept = tmp_path / "data" / FILE_NAME
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64


def test_a_set_secret_key_is_used_and_nothing_written(tmp_path: Path) -> None:
    settings = Settings({"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_SECRET_KEY": "k" * 40})
    assert create_app(settings).config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "data" / FILE_NAME).exists()


def test_shared_state_without_a_shared_key_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = {"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_REDIS_URL": "redis://127.0.0.1:1/0"}
    with caplog.at_level(logging.WARNING, logger="moodtape.web.app"):
        create_app(Settings(base))
    assert any("MOODTAPE_SECRET_KEY is not" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="moodtape.web.app"):
        create_app(Settings({**base, "MOODTAPE_SECRET_KEY": "k" * 40}))
        create_app(Settings({"MOODTAPE_DATA_DIR": str(tmp_path / "data")}))  # one machine, no Redis
    assert not any("MOODTAPE_SECRET_KEY" in record.getMessage() for record in caplog.records)


def test_csrf_token_still_valid_after_restart(tmp_path: Path) -> None:
    settings = Settings({"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_OFFLINE": "true"})
    before: Flask = create_app(settings)
    client = before.test_client()
    token = csrf_headers(client)
    after = same_session(create_app(settings), client)
    assert csrf_headers(after) == token


def test_hsts_only_under_https(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_behind_a_trusted_proxy(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_PROXY_HOPS="1").test_client()
    reply = client.get("/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in reply.headers


def test_a_planted_cookie_sent_first_does_not_cut_the_visitor_off(app: Flask) -> None:
    """A cookie of the same name set for a parent domain or a sub-path comes first in the header;
    before, only the first was read, so every request started a new session."""
    browser = app.test_client(use_cookies=False)  # sends exactly the Cookie header given
    own = browser.get("/api/config")
    cookie = own.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    header = {"Cookie": f"moodtape_session=planted.{'0' * 32}; moodtape_session={cookie}"}
    reply = browser.get("/api/config", headers=header)
    assert "Set-Cookie" not in reply.headers and reply.get_json()["csrf_token"] == own.get_json()["csrf_token"]


def _cookie_of(reply: Any) -> str:
    return str(reply.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])


def test_a_planted_signed_cookie_does_not_hand_the_visit_to_its_planter(app: Flask) -> None:
    """The planter visits, keeps its own validly signed cookie and plants it (for a parent domain or
    a sub-path, so it is sent first). Before, the visitor's calibration and lists went into the
    planter's session, which the planter then read."""
    browser = app.test_client(use_cookies=False)
    planter, visitor = _cookie_of(browser.get("/api/config")), _cookie_of(browser.get("/api/config"))
    both = {"Cookie": f"moodtape_session={planter}; moodtape_session={visitor}"}
    reply = browser.get("/api/config", headers=both)
    assert "Set-Cookie" not in reply.headers, "the visitor's own cookie is left as it is"
    token = reply.get_json()["csrf_token"]
    for own in (planter, visitor):
        alone = browser.get("/api/config", headers={"Cookie": f"moodtape_session={own}"}).get_json()["csrf_token"]
        assert token != alone, "neither session is the one used"
    # The planted cookie stays in the browser: the visit must still work, request after request
    # (a fresh session each time made every change a CSRF 403, for as long as the plant stayed).
    for seed in range(3):
        made = browser.post(f"/api/lists?emotion=sad&n=3&seed={seed}", headers={**both, "X-CSRF-Token": token})
        assert made.status_code == 201 and "Set-Cookie" not in made.headers
        token = browser.get("/api/config", headers=both).get_json()["csrf_token"]
    listed = browser.get("/api/history", headers=both).get_json()["items"]
    assert len(listed) == 3
    assert browser.get("/api/history", headers={"Cookie": f"moodtape_session={planter}"}).get_json()["items"] == []


def test_the_same_session_sent_twice_is_still_that_session(app: Flask) -> None:
    browser = app.test_client(use_cookies=False)
    own = browser.get("/api/config")
    cookie = _cookie_of(own)
    reply = browser.get("/api/config", headers={"Cookie": f"moodtape_session={cookie}; moodtape_session={cookie}"})
    assert "Set-Cookie" not in reply.headers and reply.get_json()["csrf_token"] == own.get_json()["csrf_token"]


def test_over_https_the_cookie_is_host_only_and_the_plain_name_is_not_read(make_app: AppFactory) -> None:
    """``__Host-`` cookies can only come from this host over HTTPS, for the whole site: none can
    be planted from a sibling subdomain or over plain HTTP."""
    browser = make_app(MOODTAPE_PROXY_HOPS="1").test_client(use_cookies=False)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    first = browser.get("/api/config", headers=https)
    set_cookie = first.headers["Set-Cookie"]
    assert set_cookie.startswith("__Host-moodtape_session=") and "Secure" in set_cookie and "Path=/" in set_cookie
    assert "Domain" not in set_cookie
    own = _cookie_of(first)
    again = browser.get("/api/config", headers={**https, "Cookie": f"__Host-moodtape_session={own}"})
    assert "Set-Cookie" not in again.headers and again.get_json()["csrf_token"] == first.get_json()["csrf_token"]
    planted = _cookie_of(browser.get("/api/config"))  # a valid plain-HTTP cookie, planted
    fresh = browser.get("/api/config", headers={**https, "Cookie": f"moodtape_session={planted}"})
    assert fresh.headers["Set-Cookie"].startswith("__Host-") and _cookie_of(fresh) != planted


def test_forwarded_host_and_port_are_not_trusted(make_app: AppFactory) -> None:
    """The documented proxies pass the browser's Host on and set neither header: a client's own
    X-Forwarded-Host must not reach the answers (Location) nor the CSRF origin check."""
    client = make_app(MOODTAPE_PROXY_HOPS="1").test_client()
    site = "http://moodtape.example.org:8444"
    spoofed = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "1234", "X-Forwarded-For": "203.0.113.9"}
    moved = client.get("/api//calibration", headers=spoofed, base_url=site)
    assert moved.status_code == 308 and "evil.example" not in moved.headers["Location"]
    assert ":1234" not in moved.headers["Location"]
    token = {"X-CSRF-Token": client.get("/api/config", base_url=site).get_json()["csrf_token"]}
    assert (
        client.delete("/api/calibration", headers={**token, **spoofed, "Origin": site}, base_url=site).status_code
        == 200
    )
    forged = {**token, **spoofed, "Origin": "http://evil.example:1234"}
    assert client.delete("/api/calibration", headers=forged, base_url=site).status_code == 403


def test_a_method_the_path_does_not_take_is_a_405_whatever_its_parameters(client: FlaskClient) -> None:
    """Routing answers first: a TRACE with an empty parameter was told about the parameter (400)."""
    for path in ("/api/recommendations?probabilities=", "/api/lists?emotion=", "/api/export?x=1&x=2"):
        refused = client.open(path, method="TRACE")
        assert refused.status_code == 405 and refused.get_json()["error"]["code"] == "method_not_allowed", path


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "GZIP"])
def test_a_compressed_request_body_is_refused_as_such(client: FlaskClient, coding: str) -> None:
    """Nothing decodes request bodies, so a gzipped picture was "not a picture" and gzipped JSON
    "not UTF-8 JSON": the client was sent looking in the wrong place. RFC 9110 asks for a 415."""
    body = gzip.compress(b'{"history": true}')
    headers = {**csrf_headers(client), "Content-Encoding": coding, "Content-Type": "application/json"}
    refused = client.put("/api/history/consent", data=body, headers=headers)
    assert refused.status_code == 415 and refused.get_json()["error"]["code"] == "unsupported_media_type"
    assert "Content-Encoding" in refused.get_json()["error"]["message"]
    plain = {**csrf_headers(client), "Content-Encoding": "identity"}
    assert client.put("/api/history/consent", json={"history": True}, headers=plain).status_code == 200
    # Nothing encoded without a body; and routing's own answers come first.
    assert client.get("/api/config", headers={"Content-Encoding": coding}).status_code == 200
    assert client.post("/api/nope", data=body, headers=headers).status_code == 404
    assert client.open("/api/history/consent", method="TRACE", data=body, headers=headers).status_code == 405
