"""A stop's drain keeps the budget of unfinished bodies (a review of session 38).

The budget (:data:`UNFINISHED_UPLOADS` largest uploads, all unfinished bodies together) and the idle
timeout were applied by the listening socket's turn of the loop, which a stop closes first: while
the drain answered the requests in flight, uploads it read grew past the budget unchecked, and no
body was let go of (session 38's 503 ``busy``). Session 38's stop also accepts the connections
queued at the port (up to :data:`CONNECTION_LIMIT` more), whose uploads the drain then reads.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from flask import Flask, request
from raw_http import bodies_let_go, server_connections

from moodtape.web.buffered_server import BODY_HEADROOM, UNFINISHED_UPLOADS, BufferedServer
from moodtape.web.eviction import buffered_bytes
from services import wait_until

UPLOAD = 200_000
BUDGET = UNFINISHED_UPLOADS * (UPLOAD + BODY_HEADROOM)
BEFORE_THE_STOP = 10_000  # of each body: all of them together well within the budget
DURING_THE_STOP = 180_000  # more of each, once the drain reads them: twice the budget together
COUNT = 2 * BUDGET // (BEFORE_THE_STOP + DURING_THE_STOP)
HEAD = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % UPLOAD


def _upload_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = UPLOAD
    app.add_url_rule("/upload", "upload", lambda: str(len(request.get_data())), methods=["POST"])
    return app


def _status(conn: socket.socket) -> int:
    """The status of the answer, read until the server closes."""
    data = b""
    while more := conn.recv(65536):
        data += more
    return int(data.split(b" ", 2)[1])


@contextmanager
def _stopping_server() -> Iterator[tuple[BufferedServer, threading.Event]]:
    """A server whose loop runs until the event is set, then drains (up to 30 s) and stops."""
    server = BufferedServer(_upload_app(), "127.0.0.1", 0, threads=2)
    server.prepare()
    stop = threading.Event()

    def run() -> None:
        server.serve(until=stop.is_set)
        server.drain(30)
        server.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server, stop
    finally:
        stop.set()
        server.wake()
        server.stop()
        thread.join(10)


def test_uploads_read_by_a_stop_are_held_to_the_budget() -> None:
    """Before: nothing was let go of during the drain, and the bodies held twice the budget."""
    with _stopping_server() as (server, stop), ExitStack() as held:
        conns = []
        for _ in range(COUNT):
            conns.append(held.enter_context(socket.create_connection(("127.0.0.1", server.bound_port), timeout=30)))
            conns[-1].sendall(HEAD + b"\xff" * BEFORE_THE_STOP)
        assert wait_until(lambda: len(server_connections(server)) == COUNT, 10)
        stop.set()
        server.wake()
        assert wait_until(lambda: not server._listeners[0].accepting, 10), "the stop has begun"
        for conn in conns:
            conn.sendall(b"\xff" * DURING_THE_STOP)
        assert wait_until(lambda: bodies_let_go(server) > 0, 10), "no body was let go of during the drain"
        assert sum(buffered_bytes(each) for each in server_connections(server)) <= BUDGET
        for conn in conns:
            conn.sendall(b"\xff" * (UPLOAD - BEFORE_THE_STOP - DURING_THE_STOP))
        statuses = [_status(conn) for conn in conns]
        assert 503 in statuses and 200 in statuses, statuses  # the drain answers each, the ones let go of 503
