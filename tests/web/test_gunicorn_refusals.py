"""``serve --processes N`` (gunicorn) refuses bad requests exactly as one process does: JSON, security headers.

Before, gunicorn answered a bad request line, a bad header or ``Transfer-Encoding`` with
``Content-Length`` with an HTML page without the security headers (found by an outside probe), and
then its own worker did, with its own limits. Now each worker runs the one-process server
(``moodtape.web.gunicorn_worker``), so each answer here is compared with that server's. One case
changed with that: a 5 KB address, over gunicorn's 4 KB request-line limit, is answered like in
one-process mode (the limit is 64 KiB for the request line and headers together); a 70 KB one is
refused with 431.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import serving_buffered
from test_multiprocess import _finish, _start

from services import free_port

REQUESTS = {
    "lower-case method": b"get /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "NUL in the address": b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n",
    "70 KB address": b"GET /healthz?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "70 KB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    "header without colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nFoo\r\n\r\n",
    "Transfer-Encoding and Content-Length": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "two Content-Lengths": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    ),
    "unknown expectation": b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\nabc",
    "chunk size not hex": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    "900 MB body announced": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: image/png\r\n"
        b"Content-Length: 900000000\r\n\r\n"
    ),
}


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if sys.platform == "win32":
        pytest.skip("gunicorn runs only on POSIX")
    port = free_port()
    process = _start(tmp_path_factory.mktemp("gunicorn"), port)  # ready when it returns
    try:
        yield port
    finally:
        process.terminate()
        _finish(process)


@pytest.fixture
def one_process_port(app: Flask) -> Iterator[int]:
    with serving_buffered(app) as server:
        yield server.bound_port


def _answer(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the answer (read to its ``Content-Length``: it may keep the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        answer = b""
        while (parsed := _parse(answer)) is None:
            chunk = sock.recv(65536)
            assert chunk, f"closed without a complete answer: {answer[:200]!r}"
            answer += chunk
    return parsed


def _parse(answer: bytes) -> tuple[int, dict[str, str], bytes] | None:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    return (int(lines[0].split()[1]), headers, body[:length]) if len(body) >= length else None


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REQUESTS))
def test_refusals_are_the_one_process_servers_json(port: int, one_process_port: int, name: str) -> None:
    status, headers, body = _answer(port, REQUESTS[name])
    assert 400 <= status < 500, (status, body[:200])
    assert headers["content-type"] == "application/json", body[:200]
    assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["message"]
    alone, _, alone_body = _answer(one_process_port, REQUESTS[name])
    assert (status, error) == (alone, json.loads(alone_body)["error"])
