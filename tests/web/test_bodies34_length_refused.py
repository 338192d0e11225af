"""A body the app would refuse unread is refused by its head when sent at once too (session 34).

A client that waits for ``100 Continue`` was refused before it sent such a body (session 33). One
that sends its body at once (Python's urllib, requests and httpx, browsers' fetch) had it all read
and held for the app to refuse: 5 MB with ``Content-Length`` to ``/api/feedback``, all 5,000,000
bytes in the body buffer, for the app's 413 "at most 64 KiB". Now the server answers with the app's
own refusal once the body has come, read and dropped as it comes (the "Readable 413s" drain of
web/buffered_server.py), so that the client reads its answer rather than a broken pipe.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from tests.web.raw_http import Target, serving_raw
from tests.web.test_bodies34_chunked_small_json import _session

from moodtape.web import buffered_server
from moodtape.web.buffered_server import _DrainingParser
from moodtape.web.refusals import ENCODED_BODY, NOT_JSON, SMALL_JSON_BYTES, SMALL_JSON_TOO_LARGE

#: What the client sends: far over the small JSON bound, far under the upload limit (10 MiB).
SENT = 5_000_000
#: A route of each endpoint whose body is a small JSON object, with its method.
SMALL_JSON_ROUTES = [
    ("POST", "/api/feedback"),
    ("POST", "/api/lists/" + "0" * 32 + "/undo"),
    ("DELETE", "/api/history"),
    ("PUT", "/api/history/consent"),
]


def _json_of(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    return b'{"x": "' + b"a" * (size - 9) + b'"}'


@contextmanager
def _counting_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The most bytes any request's body buffer held while the block ran (one number, in a list)."""
    held = [0]
    received = _DrainingParser.received

    def counting(parser: _DrainingParser, data: bytes) -> Any:
        taken = received(parser, data)
        if parser.body_rcv is not None:
            held[0] = max(held[0], len(parser.body_rcv.buf))
        return taken

    monkeypatch.setattr(buffered_server._DrainingParser, "received", counting)
    yield held


def _request(method: str, path: str, body: bytes, headers: str) -> bytes:
    """A request with ``body`` after its head."""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body
    )


def _first_answer_waiting(target: Target, method: str, path: str, length: int, headers: str) -> tuple[int, Any]:
    """The status and JSON body (None when none) of the first answer to the head of a request whose
    body of ``length`` bytes waits for ``100 Continue`` (no body is sent)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n{headers}"
    with target.connect(30.0) as sock:
        sock.sendall(head.encode() + b"Expect: 100-continue\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data and (more := sock.recv(65536)):
            data += more
        if data.startswith(b"HTTP/1.1 100 "):
            return 100, None
        while more := sock.recv(65536):  # a refusal closes the connection
            data += more
    return _answers(data)[0]


def _everything_sent(target: Target, request: bytes) -> bytes:
    """All the server sends to ``request`` (sent whole, at once), until it closes the connection or
    has sent one whole answer and nothing more comes in a moment."""
    with target.connect(30.0) as sock:
        sock.sendall(request)
        data = b""
        sock.settimeout(2.0)
        try:
            while more := sock.recv(65536):
                data += more
        except TimeoutError:
            pass  # a connection kept open after the answer
    return data


def _answers(data: bytes) -> list[tuple[int, dict[str, Any] | None]]:
    """The status and JSON body (None when it is none) of each answer in ``data``."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next((int(line[15:]) for line in lines if line.lower().startswith(b"content-length:")), 0)
        body, data = rest[:length], rest[length:]
        found.append((int(lines[0].split(b" ")[1]), json.loads(body) if body.startswith(b"{") else None))
    return found


def _auth(port: int) -> str:
    """A session cookie and its CSRF token as header lines: the app's own checks pass, so that what
    it answers is about the body."""
    cookie, token = _session(port)
    return f"Cookie: {cookie}\r\nX-CSRF-Token: {token}\r\n"


@pytest.mark.parametrize(("method", "path"), SMALL_JSON_ROUTES)
def test_a_json_body_over_its_bound_is_drained_not_held(
    app: Flask, monkeypatch: pytest.MonkeyPatch, method: str, path: str
) -> None:
    """Before: the 5,000,000 bytes held in the body buffer, then the app's 413. Now none are held, and
    the client, which sent it all without waiting, still reads the 413 in the app's words; a request
    it pipelined after the body is not served (the connection closes, as after any refusal)."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Type: application/json\r\n" + _auth(target.port)
        pipelined = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        data = _everything_sent(target, _request(method, path, _json_of(SENT), headers) + pipelined)
    assert _answers(data) == [(413, {"error": {"code": "too_large", "message": SMALL_JSON_TOO_LARGE}})]
    assert held[0] == 0, held


def test_a_body_that_is_no_json_is_drained_not_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the bound, but not JSON: the app's 415; before, its 60,000 bytes held for the app."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Type: text/plain\r\n" + _auth(target.port)
        data = _everything_sent(target, _request("POST", "/api/feedback", b"a" * 60_000, headers))
    assert _answers(data) == [(415, {"error": {"code": "unsupported_media_type", "message": NOT_JSON}})]
    assert held[0] == 0, held


def test_a_compressed_picture_is_drained_not_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app decodes no ``Content-Encoding``: its 415, on any route (the server's words, which do not
    name the coding, as to a client waiting for ``100 Continue``); before, 5,000,000 bytes held."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Type: image/jpeg\r\nContent-Encoding: gzip\r\n" + _auth(target.port)
        data = _everything_sent(target, _request("POST", "/api/analyze", b"\x1f\x8b" + b"a" * SENT, headers))
    assert _answers(data) == [(415, {"error": {"code": "unsupported_media_type", "message": ENCODED_BODY}})]
    assert held[0] == 0, held


def test_another_sites_request_is_told_so_without_its_body_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 403 ``csrf_failed`` that the app gives, and that a client waiting for ``100 Continue`` gets
    before its body; before, the 5,000,000 bytes were held for the app to say so."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Type: application/json\r\nSec-Fetch-Site: cross-site\r\n" + _auth(target.port)
        data = _everything_sent(target, _request("POST", "/api/feedback", _json_of(SENT), headers))
    [(status, shown)] = _answers(data)
    assert status == 403 and shown is not None and shown["error"]["code"] == "csrf_failed", shown
    assert held[0] == 0, held


def test_urllib_reads_the_apps_413_without_its_body_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's urllib sends the body at once and reads the answer once it is sent: a connection closed
    under it would be a "broken pipe" (URLError), not the 413. Before: the same 413, 5,000,000 bytes held."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        cookie, token = _session(target.port)
        request = urllib.request.Request(
            f"http://127.0.0.1:{target.port}/api/feedback",
            data=_json_of(SENT),
            headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": token},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        said = refused.value.read()  # while the server runs: its stop closes a connection still sending
    assert refused.value.code == 413
    assert json.loads(said) == {"error": {"code": "too_large", "message": SMALL_JSON_TOO_LARGE}}
    assert held[0] == 0, held


#: Bodies sent with a ``Content-Length``: those the server refuses before ``100 Continue``, and those
#: it asks for (the app may want them, or answers them otherwise).
BODIES = [
    ("POST", "/api/feedback", "Content-Type: application/json\r\n", SMALL_JSON_BYTES + 1),
    ("PUT", "/api/history/consent", "Content-Type: application/x-www-form-urlencoded\r\n", 100),
    ("POST", "/api/analyze", "Content-Type: image/jpeg\r\nContent-Encoding: br\r\n", 100_000),
    ("OPTIONS", "/api/feedback", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", 100),
    ("POST", "/api/analyze", "Content-Type: image/jpeg\r\n", 100_000),  # a picture may be that large
    ("POST", "/api/analyze", "Content-Type: image/jpeg\r\nContent-Encoding: identity\r\n", 100_000),
    ("POST", "/api/feedback", "Content-Type: application/json\r\n", SMALL_JSON_BYTES),  # at the bound
    ("POST", "/api/feedback", "Content-Type: application/merge-patch+json\r\n", 100),  # JSON all the same
    ("POST", "/api/%66eedback", "Content-Type: text/plain\r\n", 100_000),  # escaped: the app's to route
    ("POST", "//api/feedback", "Content-Type: text/plain\r\n", 100_000),  # a second slash: the app's too
    ("POST", "/api/nowhere", "Content-Type: text/plain\r\n", 100_000),  # no route: the app's 404 says so
    ("OPTIONS", "/api/feedback", "Content-Type: application/json\r\n", SMALL_JSON_BYTES + 1),  # Flask's Allow
    ("OPTIONS", "/api/feedback", "Content-Type: text/plain\r\n", 100),
]


def test_bodies_are_dropped_just_where_they_are_refused_before_continue(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conditions are those of the refusal before ``100 Continue``: a body sent at once is dropped
    (none of it held) exactly where a client waiting for ``100 Continue`` is refused, with the same
    status, code and message; every other body is read and held for the app, as before. Before, every
    body sent at once was held."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        auth = _auth(target.port)
        for method, path, headers, length in BODIES:
            body = _json_of(length) if "json" in headers and "Encoding" not in headers else b"a" * length
            waited = _first_answer_waiting(target, method, path, length, headers + auth)
            held[0] = 0
            sent = _answers(
                _everything_sent(target, _request(method, path, body, headers + auth + "Connection: close\r\n"))
            )
            where = (method, path, headers, length, waited, sent)
            if waited[0] == 100:
                assert held[0] == length, where
            else:
                assert held[0] == 0 and sent == [waited], where
