"""An upload that pauses for a moment during a stop is still answered.

During a stop, a connection the server waits on must keep a pace (:data:`MIN_RATE` bytes a second,
measured over each :data:`DRAIN_PACE_S`), so that a client trickling its request cannot hold the
stop to its deadline. Measured over each second, an upload at 100 KB/s that paused 1.5 s (a phone
between two cells, a lost packet sent again) was closed without an answer, well within the deadline
it would have finished in (a review of session 39); the rest of the server lets an answer stall 20 s.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, request
from raw_http import server_connections

from moodtape.web.buffered_server import BufferedServer
from services import answer_head, wait_until

#: The drain's length here: the upload ends well within it.
DRAIN_S = 8.0
UPLOAD = 200_000
#: The upload's pause, begun before the stop: under a pace's span, over a second.
PAUSE_S = 1.5


def _upload_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * UPLOAD
    app.add_url_rule("/upload", "upload", lambda: str(len(request.get_data())), methods=["POST"])
    return app


@contextmanager
def _stopping_server() -> Iterator[tuple[BufferedServer, threading.Event, list[int]]]:
    """A server whose loop runs until the event is set, then drains and stops as ``moodtape serve``
    does; the list gets what the drain returned (connections still busy at its end)."""
    server = BufferedServer(_upload_app(), "127.0.0.1", 0, threads=1)
    server.prepare()
    stop, drained = threading.Event(), []

    def run() -> None:
        server.serve(until=stop.is_set)
        drained.append(server.drain(DRAIN_S))
        server.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server, stop, drained
    finally:
        stop.set()
        server.wake()
        thread.join(DRAIN_S + 10)


def test_an_upload_that_pauses_during_a_stop_is_answered() -> None:
    """Before: half the body sent, a pause of 1.5 s across the stop's start, and the connection was
    closed with no answer (b""). Now the rest is read and the upload answered 200."""
    with (
        _stopping_server() as (server, stop, drained),
        socket.create_connection(("127.0.0.1", server.bound_port), 10) as uploading,
    ):
        uploading.settimeout(DRAIN_S + 5)
        uploading.sendall(b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % UPLOAD)
        uploading.sendall(b"\xab" * (UPLOAD // 2))
        assert wait_until(lambda: len(server_connections(server)) == 1, 5)
        stop.set()
        server.wake()
        time.sleep(PAUSE_S)  # the client's pause (not a bound on the server)
        try:
            uploading.sendall(b"\xab" * (UPLOAD - UPLOAD // 2))
            head = answer_head(uploading)
        except OSError as exc:
            head = repr(exc).encode()
        assert wait_until(lambda: bool(drained), DRAIN_S + 5)
    assert head.startswith(b"HTTP/1.1 200"), head
