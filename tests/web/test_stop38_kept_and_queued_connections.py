"""A stop answers the requests that reach it as it begins (a probe of session 38, several instances).

A balancer keeps connections to each instance open between requests and sends the next request on
one of them whenever it likes; a client that was answered keep-alive just before a SIGTERM does too.
Before, the stop closed every connection idle at that moment, and one whose next request was on its
way, or already waiting unread, got a reset or an end of stream instead of an answer; a connection
the kernel had queued for the listening socket, its request sent, was reset when that socket closed.
Through HAProxy (retries on refused connections only, as deploy/haproxy.cfg), 1 to 4 of 130 to 340
POSTs were lost that way at each SIGTERM of an instance of two processes
(``tests/cluster/test_stop38_requests_as_it_stops.py`` runs real instances).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from moodtape.web import buffered_server
from moodtape.web.buffered_server import BufferedServer
from services import answer_head, wait_until

REQUEST = b"GET /small HTTP/1.1\r\nHost: localhost\r\n\r\n"


def _small_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/small", "small", lambda: "ok")
    return app


@contextmanager
def _stopping_server() -> Iterator[tuple[int, threading.Event, BufferedServer]]:
    """A server whose loop runs until the event is set, then stops as ``moodtape serve`` does."""
    server = BufferedServer(_small_app(), "127.0.0.1", 0, threads=1)
    server.prepare()
    stop = threading.Event()

    def run() -> None:
        server.serve(until=stop.is_set)
        server.close_idle()
        server.drain(5)
        server.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield server.bound_port, stop, server
    finally:
        stop.set()
        server.wake()
        thread.join(10)


def test_a_request_sent_on_a_kept_connection_as_the_stop_begins_is_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stop keeps a connection answered less than IDLE_QUIET_SECONDS (0.25 s) ago; the next request
    # below comes after the stop has begun, which a loaded machine may take longer than that to see.
    monkeypatch.setattr(buffered_server, "IDLE_QUIET_SECONDS", 5.0)
    with _stopping_server() as (port, stop, server), socket.create_connection(("127.0.0.1", port), 10) as sock:
        sock.settimeout(10)
        sock.sendall(REQUEST)
        assert b"HTTP/1.1 200" in answer_head(sock)  # kept open: HTTP/1.1 without Connection: close
        stop.set()
        server.wake()
        # The stop has begun: the loop ended and the idle connections were looked at.
        assert wait_until(lambda: not server._listeners[0].accepting, 5, every=0.01)
        sock.sendall(REQUEST)
        head = answer_head(sock)
        assert head.startswith(b"HTTP/1.1 200"), "the connection was closed under the request"
        assert b"Connection: close" in head  # the client is told not to send another on it
        assert sock.recv(1) == b""  # and it is closed after that answer


def test_a_connection_queued_at_the_listening_socket_is_answered_not_reset() -> None:
    server = BufferedServer(_small_app(), "127.0.0.1", 0, threads=1)
    server.prepare()  # listening, but no turn of the loop has accepted anything yet
    with socket.create_connection(("127.0.0.1", server.bound_port), 10) as sock:
        sock.settimeout(10)
        sock.sendall(REQUEST)  # the kernel took the connection and the request
        try:
            server.drain(5)
        finally:
            server.stop()
        head = answer_head(sock)
    assert head.startswith(b"HTTP/1.1 200"), "the queued connection was reset with its request unread"
    assert b"Connection: close" in head
