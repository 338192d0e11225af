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

from moodtape.web.buffered_server import BufferedServer
from moodtape.web.tls_channel import tls_context


class Target(NamedTuple):
    """Where the server listens, and the client TLS context when it serves HTTPS."""

    port: int
    tls: ssl.SSLContext | None

    def connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return self.tls.wrap_socket(sock, server_hostname="localhost") if self.tls else sock


@contextmanager
def serving_raw(app: Flask, tls_files: tuple[Path, Path] | None) -> Iterator[Target]:
    """``app`` served by two threads, over TLS with ``tls_files`` (certificate, key) when given."""
    server = BufferedServer(app, "127.0.0.1", 0, threads=2, tls=tls_context(*tls_files) if tls_files else None)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield Target(server.bound_port, client_tls() if tls_files else None)
    finally:
        server.stop()
