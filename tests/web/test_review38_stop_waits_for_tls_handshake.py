"""A stop answers a queued HTTPS client whose handshake is under way (a review of session 38).

Session 38's stop accepts the connections the kernel queued at the port, so that their requests are
answered. Over HTTPS the request comes only after the TLS handshake, a round trip after the
client's hello: the client's hello read was no request begun and no activity (no plain bytes came
of it), so once 0.25 s had passed since the accept the stop closed the connection in the middle of
its handshake, and a client further than that (a phone, another continent) got no answer.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from pathlib import Path

from flask import Flask

from moodtape.web.buffered_server import BufferedServer
from moodtape.web.tls_channel import tls_context

REQUEST = b"GET /small HTTP/1.1\r\nHost: localhost\r\n\r\n"
ROUND_TRIP_S = 0.6  # the client's answer to the server's handshake comes this long after it


def _small_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/small", "small", lambda: "ok")
    return app


def _pump(sock: socket.socket, incoming: ssl.MemoryBIO) -> bool:
    """Move what the server sent into ``incoming``; False when it closed the connection."""
    try:
        data = sock.recv(65536)
    except ConnectionError:
        return False
    if not data:
        return False
    incoming.write(data)
    return True


def test_a_queued_https_client_whose_handshake_is_slow_is_answered(tls_files: tuple[Path, Path]) -> None:
    """Before: closed mid-handshake, 0.25 s after the stop accepted it."""
    server = BufferedServer(_small_app(), "127.0.0.1", 0, threads=1, tls=tls_context(*tls_files))
    server.prepare()  # listening, but no turn of the loop has accepted anything yet
    client = ssl.create_default_context()
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", server.bound_port), 10) as sock:
        sock.settimeout(10)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())  # the hello, queued with the connection
        stopping = threading.Thread(target=lambda: (server.drain(5), server.stop()), daemon=True)
        stopping.start()
        try:
            assert _pump(sock, incoming), "the server's handshake"
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    assert _pump(sock, incoming), "the rest of the server's handshake"
            time.sleep(ROUND_TRIP_S)
            tls.write(REQUEST)
            with contextlib.suppress(ConnectionError):  # closed already: the answer below is missing
                sock.sendall(outgoing.read())
            answer = b""
            while b"\r\n\r\n" not in answer:
                try:
                    answer += tls.read(65536)
                except ssl.SSLWantReadError:
                    if not _pump(sock, incoming):
                        break
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    break
        finally:
            stopping.join(10)
    assert answer.startswith(b"HTTP/1.1 200"), "the connection was closed in the middle of its handshake"
    assert b"Connection: close" in answer  # told not to send another on it, as every answer of a stop
