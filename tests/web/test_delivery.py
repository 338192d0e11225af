"""Fast delivery: versioned static URLs cached for a year, modules preloaded, gzip for text."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory

from moodtape.web.delivery import IMMUTABLE, MIN_COMPRESS_BYTES, StaticVersion

STATIC = Path(__file__).resolve().parents[2] / "src" / "moodtape" / "web" / "static"


def _page(client: FlaskClient) -> str:
    return client.get("/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)


def test_page_links_every_module_and_file_under_one_versioned_folder(client: FlaskClient) -> None:
    html = _page(client)
    digests = set(re.findall(r'(?:href|src)="/static/v/([0-9a-f]{12})/', html))
    assert len(digests) == 1, digests
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/v/[0-9a-f]{12}/(js/[a-z]+\.js)">', html))
    on_disk = {f"js/{p.name}" for p in (STATIC / "js").glob("*.js")} - {"js/app.js"}
    # Every module the entry point may import is fetched at once, not one import level at a time.
    assert preloaded == on_disk
    assert re.search(r'<script type="module" src="/static/v/[0-9a-f]{12}/js/app.js">', html)


def test_versioned_files_are_immutable_and_old_versions_revalidate(client: FlaskClient) -> None:
    digest = re.search(r"/static/v/([0-9a-f]{12})/style.css", _page(client)).group(1)  # type: ignore[union-attr]
    current = client.get(f"/static/v/{digest}/js/api.js")
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == IMMUTABLE
    assert current.get_data() == (STATIC / "js" / "api.js").read_bytes()
    old = client.get("/static/v/000000000000/js/api.js")
    assert old.status_code == 200 and old.headers["Cache-Control"] == "no-cache"
    assert client.get(f"/static/v/{digest}/js/../../app.py").status_code == 404


def test_digest_changes_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("body{}")
    version = StaticVersion(tmp_path, recheck_seconds=0)
    first = version.digest()
    assert version.digest() == first
    (tmp_path / "a.css").write_text("body{color:red}")
    assert version.digest() != first


def test_the_folder_is_looked_at_again_only_after_the_recheck_interval(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("body{}")
    version = StaticVersion(tmp_path, recheck_seconds=3600)
    first = version.digest()
    (tmp_path / "a.css").write_text("body{color:red}")
    assert version.digest() == first  # one page asks ~30 times: no walk of the folder each time
    version.recheck_seconds = 0
    assert version.digest() != first


def test_text_is_gzipped_when_accepted(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert html.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in html.headers["Vary"]
    assert b"<!doctype html>" in gzip.decompress(html.get_data())
    digest = re.search(r"/static/v/([0-9a-f]{12})/", _page(client)).group(1)  # type: ignore[union-attr]
    css = client.get(f"/static/v/{digest}/style.css", headers={"Accept-Encoding": "gzip"})
    raw = (STATIC / "style.css").read_bytes()
    assert css.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(css.get_data()) == raw
    assert len(css.get_data()) < len(raw) / 3
    plain = client.get(f"/static/v/{digest}/style.css", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.get_data() == raw


def test_a_gzipped_file_revalidates_with_its_own_etag(client: FlaskClient) -> None:
    """The browser keeps the gzipped copy and sends its ETag back: that must earn a 304, not the
    whole file again on every reload."""
    digest = re.search(r"/static/v/([0-9a-f]{12})/", _page(client)).group(1)  # type: ignore[union-attr]
    path = f"/static/v/{digest}/style.css"
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    tag = first.headers["ETag"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == tag
    changed = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": '"other"'})
    assert changed.status_code == 200 and gzip.decompress(changed.get_data()) == (STATIC / "style.css").read_bytes()


@pytest.mark.parametrize("asked", ["items=0-5", "bytes=abc", "bytes 0-5", "bytes=0-1,2-3"])
def test_a_range_not_in_bytes_or_malformed_is_ignored(client: FlaskClient, asked: str) -> None:
    raw = (STATIC / "style.css").read_bytes()
    whole = client.get("/static/style.css", headers={"Range": asked, "Accept-Encoding": "identity"})
    assert whole.status_code == 200 and whole.get_data() == raw


def test_a_precondition_that_fails_is_the_json_error_not_the_file(client: FlaskClient) -> None:
    for encoding in ("identity", "gzip"):
        failed = client.get("/static/style.css", headers={"If-Match": '"not-this-one"', "Accept-Encoding": encoding})
        assert failed.status_code == 412 and failed.mimetype == "application/json", encoding
        assert failed.get_json()["error"]["code"] == "precondition_failed"
        assert "Content-Encoding" not in failed.headers


def test_if_match_with_the_files_etag_is_met_for_a_browser_that_takes_gzip(client: FlaskClient) -> None:
    """A review found the gzipped copy's own ETag checked against If-Match too: a browser (which
    always accepts gzip) could never meet it, and got a 412 carrying the compressed file."""
    tag = client.get("/static/style.css", headers={"Accept-Encoding": "identity"}).headers["ETag"]
    met = client.get("/static/style.css", headers={"If-Match": tag, "Accept-Encoding": "gzip"})
    assert met.status_code == 200 and met.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(met.get_data()) == (STATIC / "style.css").read_bytes()


def test_a_range_in_bytes_is_still_served_or_refused(client: FlaskClient) -> None:
    raw = (STATIC / "style.css").read_bytes()
    part = client.get("/static/style.css", headers={"Range": "bytes=0-5"})
    assert part.status_code == 206 and part.get_data() == raw[:6]
    assert client.get("/static/style.css", headers={"Range": f"bytes={len(raw) + 10}-"}).status_code == 416


def test_small_and_binary_responses_are_left_alone(client: FlaskClient) -> None:
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert len(small.get_data()) < MIN_COMPRESS_BYTES and "Content-Encoding" not in small.headers
    digest = re.search(r"/static/v/([0-9a-f]{12})/", _page(client)).group(1)  # type: ignore[union-attr]
    icon = client.get(f"/static/v/{digest}/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert icon.status_code == 200


def test_privacy_and_model_card_pages(app: Flask, client: FlaskClient) -> None:
    privacy = " ".join(client.get("/privacy").get_data(as_text=True).split())
    assert "<h1>Privacy statement</h1>" in privacy and "No image is written to disk" in privacy
    card = client.get("/model-card").get_data(as_text=True)
    assert "<h1>Model card</h1>" in card and "FER2013" in card
    page = _page(client)
    assert 'href="/privacy"' in page and 'href="/model-card"' in page


def test_answers_caches_may_keep_carry_no_session_and_the_page_is_private(make_app: AppFactory) -> None:
    """A shared cache that stored a Set-Cookie with a year-long public file would hand that session
    to every visitor; the page holds the session's CSRF token, so only the browser may keep it."""
    fresh = make_app().test_client(use_cookies=False)  # a first visit: no cookie yet
    page = fresh.get("/")
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert "moodtape_session=" in page.headers.get("Set-Cookie", "")
    digest = re.search(r"/static/v/([0-9a-f]{12})/", page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    for path in (f"/static/v/{digest}/style.css", f"/static/v/{digest}/js/api.js"):
        reply = fresh.get(path)
        assert reply.headers["Cache-Control"] == IMMUTABLE and "public" in IMMUTABLE
        assert "Set-Cookie" not in reply.headers, path
    assert "moodtape_session=" in fresh.get("/api/config").headers.get("Set-Cookie", "")  # private answers still do
