"""A stop accepts the connections queued at the port only up to the connection limit.

The stop accepts what waits in the listening socket's queue, so that those requests are answered
rather than reset when the socket closes (session 38). It accepted up to :data:`CONNECTION_LIMIT`
of them whatever was open already, so a stop at the limit held up to twice the connections the
limit allows, and the ones past that bound were reset. Now it accepts as many as there is room for;
each one past that hears a 503 ``busy`` with ``Retry-After`` and ``Connection: close`` at once, and
is closed (not reset, not held).
"""

from __future__ import annotations

import json
import socket
import threading
from contextlib import ExitStack

import pytest
from flask import Flask

from moodtape.web import buffered_server
from moodtape.web.buffered_server import BufferedServer

REQUEST = b"GET /small HTTP/1.1\r\nHost: localhost\r\n\r\n"
#: The limit here: waitress counts its listening socket and its trigger in it, so 4 connections fit.
LIMIT = 6
QUEUED = 10


def _small_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/small", "small", lambda: "ok")
    return app


def _whole_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (b"" after a reset)."""
    data = b""
    try:
        while more := sock.recv(65536):
            data += more
    except ConnectionResetError:
        return data
    return data


def test_a_stop_holds_the_queued_connections_to_the_limit_and_answers_the_rest_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: 6 accepted (the accept's own bound was the limit, whatever was open), 8 open in
    waitress's count where the limit is 6, 6 x 200 and 4 resets as the port closed. Now at most 6
    open; 4 x 200, and 6 x 503 ``busy`` with ``Retry-After`` and ``Connection: close``."""
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", LIMIT)
    server = BufferedServer(_small_app(), "127.0.0.1", 0, threads=1)
    server.prepare()  # listening, but no turn of the loop has accepted anything yet
    peaks: list[int] = []
    with ExitStack() as held:
        socks = [
            held.enter_context(socket.create_connection(("127.0.0.1", server.bound_port), 10)) for _ in range(QUEUED)
        ]
        for sock in socks:
            sock.settimeout(10)
            sock.sendall(REQUEST + b"")  # the kernel took the connection and the request
        stopping = threading.Thread(target=lambda: server.drain(5, on_turn=lambda: peaks.append(len(server._map))))
        stopping.start()
        answers = [_whole_answer(sock) for sock in socks]
        stopping.join(10)
        server.stop()
    assert peaks and max(peaks) <= LIMIT, peaks
    statuses = [int(answer.split(b" ", 2)[1]) if answer else 0 for answer in answers]
    assert sorted(statuses) == [200] * 4 + [503] * (QUEUED - 4), statuses
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert b"Connection: close" in head
        if head.startswith(b"HTTP/1.1 503"):
            assert b"\r\nRetry-After: 2" in head and b"\r\nContent-Type: application/json" in head
            assert json.loads(body)["error"]["code"] == "busy"
