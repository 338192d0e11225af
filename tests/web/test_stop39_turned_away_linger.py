"""A connection a stop turns away (queued at the port past the connection limit) hears its 503 and is
closed the way the server's other refusals are: its sending side first, then what the client still
sends is read and dropped for a while (a "lingering close", ``LINGER_SECONDS``).

Closed at once, with the client's body still coming, the close was a reset: the client's next send
failed (a broken pipe, or "connection reset"), and a client that sends its whole request before it
reads (Python's http.client, many others) never read the 503 the server had sent.
"""

from __future__ import annotations

import socket
import threading
from contextlib import ExitStack

import pytest
from flask import Flask

from moodtape.web import buffered_server
from moodtape.web.buffered_server import BufferedServer

#: The limit here: waitress counts its listening socket and its trigger in it, so 4 connections fit.
LIMIT = 6
QUEUED = 8
BODY = 256 * 1024  # under LINGER_BYTES: what a lingering close reads and drops whole
PIECE = 16 * 1024
HEAD = b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % BODY


def _upload_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * BODY
    app.add_url_rule("/upload", "upload", lambda: "ok", methods=["POST"])
    return app


def _send_then_read(sock: socket.socket, started: threading.Event, seen: list[tuple[str, bytes]]) -> None:
    """Send the body once the stop has begun (after the server took the head), in pieces, then read
    the answer to its end: what went wrong while sending ("" if nothing), and the answer."""
    started.wait(10)
    failed = ""
    try:
        for _ in range(BODY // PIECE):
            sock.sendall(b"x" * PIECE)
    except OSError as exc:
        failed = type(exc).__name__
    answer = b""
    try:
        while more := sock.recv(65536):
            answer += more
    except OSError as exc:
        failed = failed or type(exc).__name__
    seen.append((failed, answer))


def test_a_turned_away_upload_sends_its_body_and_reads_its_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the 4 connections turned away were closed with their body still coming; each send
    after it failed (BrokenPipeError). Now every client sends its whole request, 4 read a 200 and
    4 a 503 ``busy``."""
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", LIMIT)
    server = BufferedServer(_upload_app(), "127.0.0.1", 0, threads=1)
    server.prepare()  # listening, but no turn of the loop has accepted anything yet
    started = threading.Event()
    seen: list[tuple[str, bytes]] = []
    with ExitStack() as held:
        socks = [
            held.enter_context(socket.create_connection(("127.0.0.1", server.bound_port), 10)) for _ in range(QUEUED)
        ]
        clients = []
        for sock in socks:
            sock.settimeout(10)
            sock.sendall(HEAD)  # the kernel took the connection and the head; the body comes later
            clients.append(threading.Thread(target=_send_then_read, args=(sock, started, seen)))
            clients[-1].start()
        stopping = threading.Thread(target=lambda: server.drain(8, on_turn=started.set))
        stopping.start()
        for client in clients:
            client.join(15)
        stopping.join(15)
        server.stop()
    assert [failed for failed, _ in seen] == [""] * QUEUED, seen
    statuses = sorted(int(answer.split(b" ", 2)[1]) for _, answer in seen)
    assert statuses == [200] * 4 + [503] * 4, statuses
