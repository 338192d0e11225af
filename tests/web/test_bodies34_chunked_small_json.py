"""A chunked body for an endpoint that takes a small JSON object is read only to the app's bound (session 34).

Before, the server read and held such a body up to the upload limit (10 MiB) and the app then
refused it (413 "at most 64 KiB"): 5 MB sent chunked to ``/api/feedback`` were all read, where
the same body with a ``Content-Length`` is refused before ``100 Continue``. Now the server refuses it
with the app's own 413 once more than 64 KiB of data (or a chunk declared past it) has come.
"""

from __future__ import annotations

import json
import select
import socket
from typing import Any

import pytest
from flask import Flask
from tests.web.raw_http import serving_raw
from waitress.adjustments import Adjustments

from moodtape.web import buffered_server
from moodtape.web.buffered_server import MAX_HEADER_BYTES, _DrainingParser
from moodtape.web.refusals import SMALL_JSON_BYTES, SMALL_JSON_TOO_LARGE

#: What curl sends a chunk as (and the size each chunk here has).
CHUNK = 64 * 1024
#: The body a client sends: far over the small bound, far under the upload limit.
SENT = 5_000_000
#: Bytes the server's channel reads from a socket at once (waitress's ``recv_bytes``).
READ = Adjustments.recv_bytes
#: The upload limit of the app's server (MOODTAPE_MAX_UPLOAD_BYTES's default, with the form's headroom).
BODY_LIMIT = 10 * 1024 * 1024 + 64 * 1024


def _head(path: str = "/api/feedback", *, host: str = "127.0.0.1", extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\n{extra}\r\n"
    ).encode()


def _chunked(data: bytes, size: int = CHUNK) -> list[bytes]:
    """``data`` framed as chunks of ``size`` bytes, the last (empty) chunk included."""
    pieces = [data[at : at + size] for at in range(0, len(data), size)]
    return [b"%x\r\n" % len(piece) + piece + b"\r\n" for piece in pieces] + [b"0\r\n\r\n"]


def _json_of(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    return b'{"x": "' + b"a" * (size - 9) + b'"}'


def _parser(app: Flask) -> _DrainingParser:
    parser = _DrainingParser(Adjustments(max_request_header_size=MAX_HEADER_BYTES, max_request_body_size=BODY_LIMIT))
    parser.application = app
    return parser


def _read_until_done(parser: _DrainingParser, stream: list[bytes]) -> int:
    """Feed ``stream`` to ``parser`` in reads of :data:`READ` bytes, as the server's channel does;
    the bytes it took before it was done."""
    taken, data = 0, b"".join(stream)
    while taken < len(data) and not parser.completed:
        taken += parser.received(data[taken : taken + READ])
    return taken


def test_a_chunked_body_past_the_bound_is_refused_once_the_bound_is_passed(app: Flask) -> None:
    """Before: all 5 MB (and their framing) taken, and the request handed to the app complete."""
    parser = _parser(app)
    taken = _read_until_done(parser, [_head(), *_chunked(_json_of(SENT))])
    assert parser.completed and parser.error is not None
    assert (parser.error.code, parser.error.api_code, parser.error.body) == (413, "too_large", SMALL_JSON_TOO_LARGE)
    # The head, the first 64 KiB chunk, and the read that held the second one's size line.
    assert taken <= len(_head()) + len(_chunked(_json_of(SENT))[0]) + READ


def test_a_chunk_declared_past_the_bound_is_refused_in_the_read_of_its_size_line(app: Flask) -> None:
    """Not once its 64 KiB + 1 have come: the size alone says the body is too large."""
    parser = _parser(app)
    size_line = b"%x\r\n" % (SMALL_JSON_BYTES + 1)
    taken = _read_until_done(parser, [_head(), size_line, b"a" * (SMALL_JSON_BYTES + 1), b"\r\n0\r\n\r\n"])
    assert parser.completed and parser.error is not None and parser.error.code == 413
    assert taken <= len(_head()) + READ


@pytest.mark.parametrize("size", [SMALL_JSON_BYTES, SMALL_JSON_BYTES - 1])
def test_a_chunked_body_within_the_bound_is_read_whole(app: Flask, size: int) -> None:
    """The bound is the app's: a body of exactly 64 KiB, in small chunks or one, goes to the app."""
    for chunk in (1000, SMALL_JSON_BYTES):
        parser = _parser(app)
        stream = [_head(), *_chunked(_json_of(size), chunk)]
        assert _read_until_done(parser, stream) == sum(map(len, stream))
        assert parser.completed and parser.error is None
        assert parser.get_body_stream().read() == _json_of(size)


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (_head("/api/analyze"), "a route that takes uploads"),
        (_head("/api/feedback", host="a, b"), "a Host the app refuses first"),
        (_head("/api/%66eedback"), "a target with an escape, which the app answers otherwise"),
        (_head("/api/nowhere"), "no route: the app's 404"),
    ],
)
def test_other_chunked_bodies_are_still_read_to_the_upload_limit(app: Flask, head: bytes, why: str) -> None:
    parser = _parser(app)
    stream = [head, *_chunked(_json_of(4 * SMALL_JSON_BYTES))]
    assert _read_until_done(parser, stream) == sum(map(len, stream)), why
    assert parser.error is None, why


def _session(target_port: int) -> tuple[str, str]:
    """A session cookie and its CSRF token, from ``GET /api/config`` on the server at ``target_port``."""
    with socket.create_connection(("127.0.0.1", target_port), timeout=10) as sock:
        sock.sendall(b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while more := sock.recv(65536):
            data += more
    head, _, body = data.partition(b"\r\n\r\n")
    cookie = next(line[12:].split(b";")[0] for line in head.split(b"\r\n") if line.lower().startswith(b"set-cookie: "))
    return cookie.decode(), json.loads(body)["csrf_token"]


def _send_until_answered(sock: socket.socket, chunks: list[bytes]) -> bytes:
    """Send ``chunks`` one by one, stopping once the server has answered (or stopped reading); the
    answer, read to its end."""
    for chunk in chunks:
        if select.select([sock], [], [], 0)[0]:
            break
        try:
            sock.sendall(chunk)
        except OSError:  # the server answered, read no more and closed: the answer is there to read
            break
    data = b""
    while not _whole_answer(data) and (more := sock.recv(65536)):
        data += more
    return data


def _whole_answer(data: bytes) -> bool:
    """Whether ``data`` holds an answer's head and all of the body its ``Content-Length`` says."""
    head, ended, body = data.partition(b"\r\n\r\n")
    lengths = [int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(ended) and bool(lengths) and len(body) >= lengths[0]


def test_a_real_server_reads_little_of_a_large_chunked_body(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that sends 5 MB chunked (as curl does, in 64 KiB chunks, with its session and token)
    gets the app's 413 after the server read only the bound's worth; before, 5,000,000 bytes."""
    read_at_end: list[int] = []
    received = _DrainingParser.received

    def counting(parser: _DrainingParser, data: bytes) -> Any:
        taken = received(parser, data)
        if parser.completed and parser.body_rcv is not None and not read_at_end:
            read_at_end.append(parser.body_bytes_received)
        return taken

    monkeypatch.setattr(buffered_server._DrainingParser, "received", counting)
    with serving_raw(app, None) as target:
        cookie, token = _session(target.port)
        extra = f"Cookie: {cookie}\r\nX-CSRF-Token: {token}\r\nOrigin: http://127.0.0.1\r\n"
        with target.connect(30.0) as sock:
            answer = _send_until_answered(sock, [_head(extra=extra), *_chunked(_json_of(SENT))])
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), head[:60]
    assert json.loads(body) == {"error": {"code": "too_large", "message": SMALL_JSON_TOO_LARGE}}
    assert read_at_end and read_at_end[0] <= SMALL_JSON_BYTES + 2 * CHUNK, read_at_end
