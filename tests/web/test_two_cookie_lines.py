"""A session cookie sent in the second of two ``Cookie`` lines still names the session (session 27).

waitress joins a repeated header with ``", "``, and Werkzeug reads ``a=1, moodtape_session=…`` as no
cookie at all: a client sending one ``Cookie`` line per cookie (a script, a proxy passing HTTP/2's
cookie crumbs on) lost its session on every request, and each change it made was refused with 403.
Before the fix the probe below answered with a new session's cookie and an empty history.
"""

from __future__ import annotations

import json

from flask import Flask
from raw_http import Target, first_answer, serving_raw
from webtools import AppFactory


def _session_and_token(app: Flask) -> tuple[str, str]:
    client = app.test_client()
    token = client.get("/api/config").get_json()["csrf_token"]
    cookie = client.get_cookie("moodtape_session")
    assert cookie is not None
    assert client.post("/api/lists?emotion=sad", headers={"X-CSRF-Token": token}).status_code == 201
    return cookie.value, token


def _ask(target: Target, lines: list[bytes], request_line: bytes) -> tuple[int, bytes, bytes]:
    """``request_line`` with ``lines`` as its headers, each line as it is (repeated names included)."""
    request = request_line + b"\r\nHost: localhost\r\n" + b"".join(line + b"\r\n" for line in lines)
    return first_answer(target, request + b"Connection: close\r\n\r\n", timeout=10.0)


def test_the_session_cookie_in_a_second_cookie_line_is_read(make_app: AppFactory) -> None:
    app = make_app()
    session, token = _session_and_token(app)
    with serving_raw(app, None) as target:
        for lines in (
            [b"Cookie: theme=dark", b"Cookie: moodtape_session=" + session.encode()],
            [b"Cookie: moodtape_session=" + session.encode(), b"Cookie: theme=dark; lang=en"],
            [b"Cookie: moodtape_session=forged.1.00", b"Cookie: moodtape_session=" + session.encode()],
        ):
            status, head, body = _ask(target, lines, b"GET /api/history HTTP/1.1")
            assert status == 200, lines
            assert b"set-cookie" not in head.lower(), lines  # no new session handed out
            assert len(json.loads(body)["items"]) == 1, lines
            status, _, _ = _ask(
                target,
                [*lines, b"X-CSRF-Token: " + token.encode(), b"Content-Length: 0"],
                b"PUT /api/history/consent HTTP/1.1",
            )
            assert status in (400, 415), lines  # past the CSRF check: the body is what is wrong


def test_an_unsigned_value_in_a_second_line_is_still_ignored(make_app: AppFactory) -> None:
    with serving_raw(make_app(), None) as target:
        status, head, body = _ask(
            target, [b"Cookie: a=1", b"Cookie: moodtape_session=chosen-by-me"], b"GET /api/history HTTP/1.1"
        )
    assert status == 200 and json.loads(body)["items"] == []
    assert b"moodtape_session=chosen-by-me" not in head
    assert b"set-cookie: moodtape_session=" in head.lower()  # a new session of the server's own
