"""A BufferedServer on a free port for tests that speak HTTP over raw sockets, HTTP or HTTPS."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from benchmarks.slow_clients_single import client_tls
from flask import Flask
from waitress.adjustments import Adjustments

from moodtape.web.buffered_server import MAX_HEADER_BYTES, BufferedServer, JsonErrorChannel, _DrainingParser
from moodtape.web.tls_channel import tls_context


class Target(NamedTuple):
    """Where the server listens, and the client TLS context when it serves HTTPS."""

    port: int
    tls: ssl.SSLContext | None

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return self.tls.wrap_socket(sock, server_hostname="localhost") if self.tls else sock


@contextmanager
def serving_buffered(app: Flask, threads: int = 2, tls: ssl.SSLContext | None = None) -> Iterator[BufferedServer]:
    """``app`` on the real server on a free loopback port, for as long as the block runs; yields the
    server itself, so that a test can look at its port and its connections' state."""
    server = BufferedServer(app, "127.0.0.1", 0, threads=threads, tls=tls)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout=10)


def server_connections(server: BufferedServer) -> list[JsonErrorChannel]:
    """The server's client connections now (its listening sockets left out)."""
    return [each for each in list(server._map.values()) if isinstance(each, JsonErrorChannel)]


def bodies_let_go(server: BufferedServer) -> int:
    """Connections whose body the server let go of for the upload budget, to answer 503 once it has come."""
    return sum(
        getattr(getattr(each.request, "_refused_after_body", None), "code", None) == 503
        for each in server_connections(server)
    )


@contextmanager
def serving_raw(app: Flask, tls_files: tuple[Path, Path] | None) -> Iterator[Target]:
    """``app`` served by two threads, over TLS with ``tls_files`` (certificate, key) when given."""
    with serving_buffered(app, tls=tls_context(*tls_files) if tls_files else None) as server:
        yield Target(server.bound_port, client_tls() if tls_files else None)


def first_answer(target: Target, request: bytes, timeout: float) -> tuple[int, bytes, bytes]:
    """Send ``request`` on a new connection: the status, head and body of the first answer.

    Raises:
        TimeoutError: no complete answer came in ``timeout`` seconds (or the server closed first).
    """
    with target.connect(timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                return int(head.split(b" ", 2)[1]), head, body[: length[0]]
            more = sock.recv(65536)
            if not more:
                raise TimeoutError(f"closed without a complete answer: {data[:200]!r}")
            data += more


def everything_sent(target: Target, request: bytes, timeout: float = 10.0) -> bytes:
    """All the server sends on a new connection for ``request``, until it closes."""
    with target.connect(timeout) as sock:
        sock.sendall(request)
        data = b""
        while more := sock.recv(65536):
            data += more
        return data


def parsed_by_server(request: bytes, piece: int = 0) -> _DrainingParser:
    """``request`` read by the server's own parser, whole or ``piece`` bytes at a time: what it
    made of the request line and headers without a socket between."""
    parser = _DrainingParser(Adjustments(max_request_header_size=MAX_HEADER_BYTES, max_request_body_size=10**6))
    pieces = [request[at : at + piece] for at in range(0, len(request), piece)] if piece else [request]
    for each in pieces:
        while each and not parser.completed:
            each = each[parser.received(each) :]
    return parser
