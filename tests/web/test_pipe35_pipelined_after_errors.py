"""A request pipelined behind an error is answered, or the error says ``Connection: close`` and closes.

A helper saw ``POST /nope`` with a 1000-byte body answered 404 and the ``GET /healthz`` pipelined
behind it on the same connection left unanswered. Not reproduced in session 35 (this server in the
tests, ``moodtape serve``, ``--processes 2`` under gunicorn, and over TLS: the GET was answered each
time); these pin the rule down for each kind of error a client may meet, as HTTP/1.1 clients
(browsers, requests' pools) reuse the connection and a silent drop reads as a failed next request.
"""

from __future__ import annotations

import json
import socket
from typing import BinaryIO

import pytest
from webtools import AppFactory, running_server

NEXT = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
BODY = b"a" * 1000


def _post(path: bytes, body: bytes, *headers: bytes) -> bytes:
    lines = [b"POST " + path + b" HTTP/1.1", b"Host: x", *headers, b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


#: Errors of the app, and the status each gets: the connection stays open and the next request is answered.
KEPT = {
    "POST with a body, no route": (_post(b"/nope", BODY), 404),
    "POST with a JSON body, no route": (
        _post(b"/api/nope", b"{}" + b" " * 998, b"Content-Type: application/json"),
        404,
    ),
    "POST with a body, a GET route": (_post(b"/healthz", BODY), 405),
    "PUT with a body, a GET route": (_post(b"/api/config", BODY).replace(b"POST", b"PUT", 1), 405),
    "GET with a body, no route": (b"GET /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + BODY, 404),
    "GET with a body": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + BODY, 200),
    "POST chunked, no route": (
        b"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        404,
    ),
    "POST without the CSRF token": (
        _post(b"/api/feedback", b'{"action": "skip"}', b"Content-Type: application/json"),
        403,
    ),
}
#: Refusals by the request's head: answered with ``Connection: close``, then the connection closes.
CLOSED = {
    "413, JSON over 64 KiB": _post(b"/api/feedback", b"{" * 70_000, b"Content-Type: application/json"),
    "415, not JSON": _post(b"/api/feedback", BODY, b"Content-Type: text/plain"),
    "403, another site's body": _post(b"/nope", BODY, b"Sec-Fetch-Site: cross-site"),
}


def _answer(reader: BinaryIO) -> tuple[int, dict[str, str], bytes] | None:
    """The next answer on the connection (status, headers in lower case, body), or None once it closed."""
    status = reader.readline()
    if not status:
        return None
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status.split()[1]), headers, reader.read(int(headers.get("content-length", "0")))


def _exchange(port: int, first: bytes, most: int = 2) -> list[tuple[int, dict[str, str], bytes]]:
    """Send ``first`` and a GET /healthz behind it in one write; the answers, up to ``most`` or until the
    server closes (a connection left open and silent fails the test with a timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(first + NEXT)
        reader = conn.makefile("rb")
        answers = []
        while len(answers) < most and (answer := _answer(reader)) is not None:
            answers.append(answer)
    return answers


@pytest.mark.parametrize(("first", "status"), KEPT.values(), ids=KEPT.keys())
def test_the_request_behind_an_error_of_the_app_is_answered(make_app: AppFactory, first: bytes, status: int) -> None:
    with running_server(make_app()) as url:
        answers = _exchange(int(url.rsplit(":", 1)[1]), first)
    assert [a[0] for a in answers] == [status, 200]
    assert "close" not in answers[0][1].get("connection", "").lower()
    assert json.loads(answers[1][2])["status"] == "ok"


@pytest.mark.parametrize("first", CLOSED.values(), ids=CLOSED.keys())
def test_a_refusal_that_ends_the_connection_says_so(make_app: AppFactory, first: bytes) -> None:
    with running_server(make_app()) as url:
        answers = _exchange(int(url.rsplit(":", 1)[1]), first)
    assert len(answers) == 1, [a[0] for a in answers]  # then the server closed: no answer to the GET
    status, headers, _ = answers[0]
    assert status in (403, 413, 415) and headers.get("connection", "").lower() == "close"


def test_a_bad_json_body_with_a_valid_session_leaves_the_connection_open(make_app: AppFactory) -> None:
    """A 400 from the app's own checks (bad JSON, with the session cookie and the CSRF token)."""
    with running_server(make_app()) as url:
        port = int(url.rsplit(":", 1)[1])
        (_, headers, body), *_ = _exchange(port, b"GET /api/config HTTP/1.1\r\nHost: x\r\n\r\n", most=1)
        cookie = headers["set-cookie"].split(";", 1)[0].encode()
        token = json.loads(body)["csrf_token"].encode()
        session = (b"Content-Type: application/json", b"Cookie: " + cookie, b"X-CSRF-Token: " + token)
        first = _post(b"/api/feedback", b"{bad", *session)
        answers = _exchange(port, first)
    assert [a[0] for a in answers] == [400, 200]
    assert b"not valid JSON" in answers[0][2]
