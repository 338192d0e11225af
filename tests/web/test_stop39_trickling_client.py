"""A client that trickles its request cannot hold a stop until the drain's deadline.

The stop answers the requests in flight, and a request still arriving is one of them: a client
sending a byte every 0.2 s of its headers kept the drain going until its deadline
(``MOODTAPE_SHUTDOWN_SECONDS``, 10 s by default), where a stop without it ends at once; the idle
timeout (60 s of silence) never came. Now, during a stop, a connection the server waits on must
send at least :data:`~moodtape.web.eviction.MIN_RATE` bytes a second over each
:data:`~moodtape.web.buffered_server.DRAIN_PACE_S`, or it is closed; an upload at any real speed
goes on and is answered, one that pauses for less than the span too: measured over each second, an
upload at 100 KB/s that paused 1.5 s (a phone between two cells, a lost packet sent again) was
closed without an answer (a review of session 39); the rest of the server lets an answer stall 20 s.
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

#: The drain's length here: long enough that ending at it would be plain (a pace's span is 3 s).
DRAIN_S = 8.0
UPLOAD = 256 * 1024
#: An upload's pause, begun before the stop: under a pace's span, over a second.
PAUSE_S = 1.5


def _small_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * UPLOAD
    app.add_url_rule("/small", "small", lambda: "ok")
    app.add_url_rule("/upload", "upload", lambda: str(len(request.get_data())), methods=["POST"])
    return app


@contextmanager
def _stopping_server() -> Iterator[tuple[BufferedServer, threading.Event, list[int]]]:
    """A server whose loop runs until the event is set, then drains and stops as ``moodtape serve``
    does; the list gets what the drain returned (connections still busy at its end)."""
    server = BufferedServer(_small_app(), "127.0.0.1", 0, threads=1)
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


def _trickle(sock: socket.socket, until: threading.Event) -> None:
    """A header's value, a byte every 0.2 s, until told or the server closes."""
    while not until.wait(0.2):
        try:
            sock.sendall(b"a")
        except OSError:
            return


def _upload(sock: socket.socket, until: threading.Event) -> None:
    """A body at 320 KB/s (32 KiB every 0.1 s), begun before the stop."""
    for _ in range(UPLOAD // 32768):
        sock.sendall(b"\xab" * 32768)
        until.wait(0.1)


def test_a_trickling_client_is_closed_and_the_stop_ends_before_its_deadline() -> None:
    """Before: the drain ran to its deadline (8 s here) and returned 1, the trickler still open.
    Now the trickler is closed and the drain ends with nothing busy; the upload in flight beside it,
    at a real client's pace, is answered."""
    done = threading.Event()
    with (
        _stopping_server() as (server, stop, drained),
        socket.create_connection(("127.0.0.1", server.bound_port), 10) as slow,
        socket.create_connection(("127.0.0.1", server.bound_port), 10) as uploading,
    ):
        slow.settimeout(DRAIN_S + 5)
        uploading.settimeout(DRAIN_S + 5)
        slow.sendall(b"GET /small HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        uploading.sendall(b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % UPLOAD)
        assert wait_until(lambda: len(server_connections(server)) == 2, 5)
        workers = [
            threading.Thread(target=_trickle, args=(slow, done), daemon=True),
            threading.Thread(target=_upload, args=(uploading, done), daemon=True),
        ]
        for worker in workers:
            worker.start()
        time.sleep(0.3)  # both under way
        stop.set()
        server.wake()
        head = answer_head(uploading)
        assert wait_until(lambda: bool(drained), DRAIN_S + 5)
        done.set()
        assert drained == [0], "the drain ran to its deadline, the trickler still open"
        try:
            closed = slow.recv(1) == b""
        except ConnectionResetError:
            closed = True
        assert closed
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head


def test_an_upload_that_pauses_during_a_stop_is_answered() -> None:
    """Before the review: half the body sent, a pause of 1.5 s across the stop's start, and the
    connection was closed with no answer (b""). Now the rest is read and the upload answered 200."""
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
