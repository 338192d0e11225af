"""``serve --processes N`` (gunicorn) refuses bad requests in the API's JSON shape (found by an outside probe).

Before, gunicorn answered a bad request line, a 5 KB address, a bad header or ``Transfer-Encoding``
with ``Content-Length`` with an HTML page without the security headers, and a chunked body with a
broken chunk size was a 500.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("gunicorn", reason="gunicorn runs only on POSIX")

from gunicorn.http.errors import InvalidChunkSize
from test_multiprocess import _finish, _free_port, _start, _wait_ready
from werkzeug.exceptions import BadRequest

from moodtape.web.gunicorn_worker import _CheckedInput, _JsonErrorSocket

REQUESTS = {
    "lower-case method": b"get /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "NUL in the address": b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n",
    "5 KB address": b"GET /healthz?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "header without colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nFoo\r\n\r\n",
    "Transfer-Encoding and Content-Length": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "unknown expectation": b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 3\r\n\r\nabc",
    "chunk size not hex": (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
}


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if sys.platform == "win32":
        pytest.skip("gunicorn runs only on POSIX")
    port = _free_port()
    process = _start(tmp_path_factory.mktemp("gunicorn"), port)
    try:
        _wait_ready(port, process)
        yield port
    finally:
        process.terminate()
        _finish(process)


def _answer(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REQUESTS))
def test_gunicorn_refusals_are_json_with_the_security_headers(port: int, name: str) -> None:
    status, headers, body = _answer(port, REQUESTS[name])
    assert 400 <= status < 500, (status, body[:200])
    assert headers["content-type"] == "application/json", body[:200]
    assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["message"]


class _Socket:
    def __init__(self) -> None:
        self.sent = b""

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def gettimeout(self) -> float:
        return 1.0


def test_gunicorns_html_page_is_replaced_by_the_json_refusal() -> None:
    sock = _Socket()
    wrapped = _JsonErrorSocket(sock)
    assert wrapped.gettimeout() == 1.0  # everything but sendall is the real socket's
    wrapped.sendall(b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>...")
    head, _, body = sock.sent.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 URI Too Long\r\n") and b"Content-Type: application/json" in head
    assert f"Content-Length: {len(body)}".encode() in head and b"X-Frame-Options: DENY" in head
    assert json.loads(body) == {"error": {"code": "uri_too_long", "message": "the address is too long"}}


def test_a_broken_chunk_read_by_the_app_is_a_bad_request() -> None:
    class Broken(io.BytesIO):
        def read(self, size: Any = None) -> bytes:
            raise InvalidChunkSize(b"zz")

        def readline(self, size: Any = None) -> bytes:
            raise InvalidChunkSize(b"zz")

    for read in (_CheckedInput(Broken()).read, _CheckedInput(Broken()).readline):
        with pytest.raises(BadRequest, match="chunked"):
            read()
    assert _CheckedInput(io.BytesIO(b"a\nb\n")).readlines() == [b"a\n", b"b\n"]
    assert _CheckedInput(io.BytesIO(b"abc")).read(2) == b"ab"
