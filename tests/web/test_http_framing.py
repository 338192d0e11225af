"""Odd but legal HTTP framing against the plain-HTTP server, over raw sockets (found by an outside probe).

Each answer must come at once, with the API's JSON error shape and the security headers when it
is an error; none may leave the client waiting.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from moodtape.web.buffered_server import BufferedServer


@pytest.fixture
def port(app: Flask) -> Iterator[int]:
    server = BufferedServer(app, "127.0.0.1", 0, threads=2)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server.bound_port
    finally:
        server.stop()


def _answer(port: int, request: bytes, timeout: float = 5.0) -> tuple[list[int], dict[str, str], bytes]:
    """Every status line the server sent (interim ``100`` included), the last answer's headers and body.

    Raises:
        TimeoutError: no complete final answer within ``timeout`` seconds.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            statuses, headers, body, done = _parse(data)
            if done:
                return statuses, headers, body
            try:
                more = sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(f"no complete answer; got {data[:200]!r}") from None
            if not more:
                raise TimeoutError(f"closed without a complete answer; got {data[:200]!r}")
            data += more


def _parse(data: bytes) -> tuple[list[int], dict[str, str], bytes, bool]:
    statuses: list[int] = []
    while b"\r\n\r\n" in data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        statuses.append(int(lines[0].split()[1]))
        if statuses[-1] == 100:
            continue
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        return statuses, headers, data[:length], len(data) >= length
    return statuses, {}, b"", False


def test_a_get_with_expect_continue_is_answered(port: int) -> None:
    """Before: ``100 Continue`` and then nothing: waitress waited for a body a GET does not have."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    statuses, _, body = _answer(port, request)
    assert statuses[-1] == 200 and json.loads(body)["status"] == "ok"


def test_an_empty_post_with_expect_continue_is_answered(port: int) -> None:
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n"
        b"Connection: close\r\n\r\n"
    )
    statuses, headers, body = _answer(port, request)
    assert statuses == [400] and headers["content-type"] == "application/json"
    assert "no image" in json.loads(body)["error"]["message"]


def test_a_too_large_body_announced_with_expect_continue_gets_413_before_sending_it(port: int) -> None:
    """Before: ``100 Continue`` (inviting 900 MB) and a wait; the client is told "no" without sending it."""
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: image/png\r\n"
        b"Content-Length: 900000000\r\n\r\n"
    )
    statuses, headers, body = _answer(port, request)
    assert statuses == [413]
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)["error"]["code"] == "too_large"


def test_a_body_sent_after_100_continue_is_still_read(port: int) -> None:
    head = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: image/png\r\n"
        b"Content-Length: 3\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"abc")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 415") and b'"unsupported_image"' in answer
