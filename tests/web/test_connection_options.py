"""The ``Connection`` header as a list (RFC 9110 §7.6.1), and a WebSocket handshake to plain HTTP paths,
against the real server over raw sockets, HTTP and HTTPS.

Before: ``Connection: TE, close`` (libwww-perl sends it) or ``keep-alive, close`` left the connection
open after the answer until the idle timeout, a minute; a client reading to the end of the stream
waited that long. A WebSocket handshake got Werkzeug's "The browser (or proxy) sent a request that
this server could not understand."
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from raw_http import Target, serving_raw
from waitress.adjustments import Adjustments

from moodtape.web.buffered_server import _DrainingParser, asks_to_close


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _to_the_end(port: Target, request: bytes, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took (``TimeoutError`` past ``timeout``)."""
    started = time.monotonic()
    with port.connect(timeout) as sock:
        sock.sendall(request)
        data = b""
        while more := sock.recv(65536):
            data += more
    return data, time.monotonic() - started


@pytest.mark.parametrize("connection", [b"TE, close", b"keep-alive, close", b"Close", b" close ,"])
def test_close_anywhere_in_the_connection_list_closes_after_the_answer(port: Target, connection: bytes) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: " + connection + b"\r\n\r\n"
    answer, seconds = _to_the_end(port, request, timeout=5)
    assert answer.startswith(b"HTTP/1.1 200 ") and seconds < 2
    assert b"\r\nConnection: close\r\n" in answer


def test_a_request_pipelined_after_one_that_asked_to_close_is_not_answered(port: Target) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n"
    answer, _ = _to_the_end(port, first + b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    assert answer.count(b"HTTP/1.1 ") == 1


def test_keep_alive_without_close_still_keeps_the_connection(port: Target) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, TE\r\n\r\n"
    with port.connect(timeout=5) as sock:
        sock.sendall(request * 2)
        data = b""
        while data.count(b"HTTP/1.1 200 ") < 2:
            more = sock.recv(65536)
            assert more, data  # closed after the first answer: a failure, not a loop forever
            data += more
    assert b"Connection: close" not in data


@pytest.mark.parametrize(
    ("header", "closes"),
    [("close", True), ("TE, close", True), ("CLOSE", True), ("closed", False), ("keep-alive", False), ("", False)],
)
def test_asks_to_close_reads_the_header_as_a_list(header: str, closes: bool) -> None:
    assert asks_to_close(header) is closes


def test_a_websocket_handshake_is_told_this_server_takes_none(client: FlaskClient) -> None:
    reply = client.get(
        "/api/config",
        headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
    )
    assert reply.status_code == 400
    message = reply.get_json()["error"]["message"]
    assert "does not take WebSocket connections" in message, message
    assert json.loads(reply.get_data())["error"]["code"] == "bad_request"


def test_https_to_the_plain_http_port_fails_at_once(app: Flask) -> None:
    """``curl https://127.0.0.1:5000/`` against ``make run``: the handshake was taken for an unfinished
    request line, and the client said "timed out" after a minute. Now its TLS error comes at once."""
    client_tls = ssl.create_default_context()
    client_tls.check_hostname, client_tls.verify_mode = False, ssl.CERT_NONE
    with serving_raw(app, None) as target:
        started = time.monotonic()
        with target.connect(timeout=10) as sock, pytest.raises(ssl.SSLError):
            client_tls.wrap_socket(sock, server_hostname="localhost")
        assert time.monotonic() - started < 3
        answer, _ = _to_the_end(target, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5)
        assert answer.startswith(b"HTTP/1.1 200 ")  # the server goes on


@pytest.mark.parametrize("step", [1, 2, 5])
def test_a_tls_handshake_is_told_however_its_first_bytes_arrive(step: int) -> None:
    """The check now looks only at the first bytes buffered (it joined all the buffered headers with
    each read); a handshake split after its first byte is still refused."""
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40)
    parser = _DrainingParser(Adjustments())
    offset = 0
    while not parser.completed and offset < len(hello):
        offset += parser.received(hello[offset : offset + step])
    assert parser.completed and "TLS handshake" in str(parser.error.body), parser.error


@pytest.mark.parametrize("step", [1, 3])
def test_a_request_that_arrives_a_byte_at_a_time_is_no_handshake(step: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    parser = _DrainingParser(Adjustments())
    offset = 0
    while not parser.completed:
        offset += parser.received(request[offset : offset + step])
    assert parser.error is None and parser.path == "/healthz"
