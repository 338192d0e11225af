"""A client that goes away mid-answer over HTTPS is closed as quietly as over plain HTTP (found by an outside probe).

waitress's own ``send`` treats a reset or broken pipe as a disconnect: it closes the connection and
logs nothing. The TLS channel re-raised them, and waitress then logged ``ERROR: Socket error`` with
a traceback for every client that closed early. A socket error that is not a disconnect must still
raise (and be logged by waitress), as on plain HTTP.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.slow_clients_single import client_tls
from flask import Flask, Response
from waitress import wasyncore
from waitress.adjustments import Adjustments

from moodtape.web import tls_channel
from moodtape.web.buffered_server import BufferedServer, JsonErrorChannel
from moodtape.web.tls_channel import TlsChannel, tls_channel_class, tls_context

BIG = bytes(range(256)) * (4 * 1024)  # 1 MiB: more than the socket buffers hold


def _big_app() -> Flask:
    app = Flask("big")

    @app.route("/big")
    def big() -> Response:
        return Response(BIG, mimetype="application/octet-stream")

    @app.route("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.fixture(params=["http", "https"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[BufferedServer, ssl.SSLContext | None]]:
    files: tuple[Path, Path] | None = request.getfixturevalue("tls_files") if request.param == "https" else None
    served = BufferedServer(_big_app(), "127.0.0.1", 0, threads=2, tls=tls_context(*files) if files else None)
    served.prepare()
    thread = threading.Thread(target=served.serve, daemon=True)
    thread.start()
    try:
        yield served, client_tls() if files else None
    finally:
        served.stop()
        thread.join(10)


def _connect(port: int, tls: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return tls.wrap_socket(sock, server_hostname="localhost") if tls else sock


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (no TLS goodbye): what a browser tab closed mid-download does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _connections(served: BufferedServer) -> list[Any]:
    return [each for each in list(served._map.values()) if isinstance(each, JsonErrorChannel)]


def test_clients_that_reset_mid_answer_are_closed_without_an_error_logged(
    server: tuple[BufferedServer, ssl.SSLContext | None], caplog: pytest.LogCaptureFixture
) -> None:
    served, tls = server
    caplog.set_level(logging.INFO)
    for attempt in range(12):
        sock = _connect(served.bound_port, tls)
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n" * 8)  # pipelined: answers keep coming
        got = b""
        while len(got) < 100 + attempt * 20_000:  # a little, then more each time: various moments
            got += sock.recv(65536)
        _reset(sock)
        time.sleep(0.05)
    deadline = time.monotonic() + 20
    while _connections(served) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _connections(served), "every reset connection is closed"
    time.sleep(0.3)  # a worker thread may still be finishing the answer it was writing
    loud = [
        f"{r.name}: {r.levelname}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name != "waitress.queue"  # "Task queue depth": load, not this
    ]
    assert loud == []
    assert not any(r.exc_info for r in caplog.records), "no traceback for a client going away"
    with _connect(served.bound_port, tls) as sock:  # and it still answers
        sock.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
        assert answer.startswith(b"HTTP/1.1 200 ")


class _Server:
    """What a channel needs of waitress's server: its channel table."""

    def __init__(self) -> None:
        self.active_channels: dict[int, Any] = {}

    def pull_trigger(self) -> None:
        pass


@pytest.fixture
def channel(tls_files: tuple[Path, Path]) -> Iterator[tuple[TlsChannel, ssl.SSLSocket]]:
    """A TLS channel on one end of a socket pair, handshaken with a real client on the other end."""
    ours, theirs = socket.socketpair()
    made = tls_channel_class(tls_context(*tls_files))(_Server(), ours, ("127.0.0.1", 0), Adjustments(), {})
    client_done: list[ssl.SSLSocket] = []
    client = threading.Thread(
        target=lambda: client_done.append(client_tls().wrap_socket(theirs, server_hostname="localhost"))
    )
    client.start()
    deadline = time.monotonic() + 10
    while not made._handshaken and time.monotonic() < deadline:  # one event loop turn at a time
        readable, writable, _ = select.select([ours], [ours] if made.writable() else [], [], 0.05)
        if readable:
            made.handle_read()
        if writable:
            made.handle_write()
    client.join(10)
    assert made._handshaken and client_done
    try:
        yield made, client_done[0]
    finally:
        made.close_now()
        client_done[0].close()


@pytest.mark.parametrize("do_close", [True, False])
def test_a_peer_gone_while_sending_is_a_disconnect_not_an_error(
    channel: tuple[TlsChannel, ssl.SSLSocket], do_close: bool
) -> None:
    made, client = channel
    _reset(client)
    time.sleep(0.05)
    sent = [made.send(BIG[:4096], do_close=do_close) for _ in range(5)]  # what waitress's send does
    assert sent[-1] == 0  # nothing more taken; never an exception
    if do_close:
        assert not made.connected and made.socket is None
    else:  # a worker thread's write: the event loop closes it on its next turn
        assert made.connected
        assert made.writable()
        made.handle_write()
        assert not made.connected and made.socket is None


def test_a_send_while_the_channel_closes_is_a_disconnect(
    channel: tuple[TlsChannel, ssl.SSLSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker thread writing just as the event loop closes: TLS said goodbye, the socket is still open.

    It was ``OSError: [SSL: PROTOCOL_IS_SHUTDOWN]``, logged by waitress with a traceback.
    """
    made, _ = channel
    during: list[int] = []
    close_socket = JsonErrorChannel.handle_close

    def write_then_close(self: JsonErrorChannel) -> None:
        during.append(made.send(b"more of the answer", do_close=False))  # the worker's write, at that moment
        close_socket(self)

    monkeypatch.setattr(JsonErrorChannel, "handle_close", write_then_close)
    made.handle_close()
    assert during == [0]
    assert not made.connected


class _FailingSocket:
    """A socket whose ``send`` fails with ``error`` (delegates the rest)."""

    def __init__(self, sock: socket.socket, error: int) -> None:
        self._sock, self._error = sock, error

    def send(self, data: bytes) -> int:
        raise OSError(self._error, "injected")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def test_a_socket_error_that_is_not_a_disconnect_still_raises(channel: tuple[TlsChannel, ssl.SSLSocket]) -> None:
    """As waitress's own ``send``: waitress then logs it (``Socket error``) and closes the connection."""
    made, _ = channel
    real = made.socket
    made.socket = _FailingSocket(real, errno.EIO)
    try:
        with pytest.raises(OSError) as raised:
            made.send(b"an answer")
        assert raised.value.errno == errno.EIO
        assert made.connected  # closing is waitress's to do, after logging it
    finally:
        made.socket = real


def test_the_disconnect_errors_are_waitress_own() -> None:
    assert tls_channel._DISCONNECTED == wasyncore._DISCONNECTED
