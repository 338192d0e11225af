"""Files served alike to everyone carry no session cookie, whatever their ``Cache-Control`` (session 34).

Before, only a ``public`` answer (a static file under the current digest, a model file under its
current ``v``) went without one: the same file under an old digest (a page from before a deploy),
under ``/static/`` unversioned, or a model file without its current ``v`` answered a first visit
with ``Set-Cookie: moodtape_session=...``, a session nothing there needed, on an answer a cache
in front may still keep (``no-cache`` lets it store one, to revalidate).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from tests.web.raw_http import everything_sent, serving_raw

from moodtape.web.delivery import IMMUTABLE

#: A digest no release has: what a page from before a deploy links (12 hex digits, as the current one).
OLD_DIGEST = "0" * 12


def _answer(app: Flask, path: str, headers: str = "") -> tuple[int, dict[str, list[str]]]:
    """The status and headers (lower-case names, every value) of ``GET path`` on a real server."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n".encode()
    with serving_raw(app, None) as target:
        head = everything_sent(target, request, 20.0).partition(b"\r\n\r\n")[0]
    status = int(head.split(b" ", 2)[1])
    fields: dict[str, list[str]] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return status, fields


def _current_digest(app: Flask) -> str:
    found = re.search(r"/static/v/([0-9a-f]{12})/", app.test_client(use_cookies=False).get("/").get_data(as_text=True))
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    "path",
    [
        f"/static/v/{OLD_DIGEST}/style.css",
        f"/static/v/{OLD_DIGEST}/js/api.js",
        "/static/style.css",
        "/ondevice/emotion.onnx",
        f"/ondevice/yunet.onnx?v={OLD_DIGEST}",
    ],
)
def test_a_file_revalidated_on_each_use_sets_no_cookie(app: Flask, path: str) -> None:
    """Before: ``Cache-Control: no-cache`` and a fresh session's ``Set-Cookie`` on a first visit."""
    status, fields = _answer(app, path)
    assert status == 200 and fields["cache-control"] == ["no-cache"]
    assert "set-cookie" not in fields


def test_a_file_under_the_current_digest_still_sets_no_cookie(app: Flask) -> None:
    status, fields = _answer(app, f"/static/v/{_current_digest(app)}/style.css")
    assert status == 200 and fields["cache-control"] == [IMMUTABLE]
    assert "set-cookie" not in fields


def test_a_revalidation_under_an_old_digest_sets_no_cookie(app: Flask) -> None:
    """A cache revalidating its copy (``If-None-Match``) gets its 304, still without a session."""
    _, first = _answer(app, f"/static/v/{OLD_DIGEST}/style.css")
    status, fields = _answer(app, f"/static/v/{OLD_DIGEST}/style.css", f"If-None-Match: {first['etag'][0]}\r\n")
    assert status == 304 and "set-cookie" not in fields


def test_pages_and_api_answers_still_begin_a_session(app: Flask) -> None:
    for path in ("/", "/api/config"):
        status, fields = _answer(app, path)
        assert status == 200 and any(value.startswith("moodtape_session=") for value in fields["set-cookie"]), path
