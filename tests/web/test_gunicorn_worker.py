"""The waitress worker inside, without gunicorn's master: heartbeat, and the graceful stop's order."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from services import wait_until

pytest.importorskip("gunicorn", reason="gunicorn runs only on POSIX")

from gunicorn.config import Config
from gunicorn.glogging import Logger

from moodtape.web.buffered_server import JsonErrorChannel
from moodtape.web.gunicorn_worker import BufferedWorker, worker_class


@dataclass
class _Listener:
    """What gunicorn's master hands a worker: its socket wrapper, with the socket as ``sock``."""

    sock: socket.socket


class _CountingWorker(BufferedWorker):
    beats = 0

    def notify(self) -> None:
        self.beats += 1


@pytest.fixture
def worker(app: Flask) -> Iterator[tuple[_CountingWorker, int, threading.Thread]]:
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    cfg = Config()
    cfg.set("threads", 2)
    cfg.set("graceful_timeout", 10)
    worker = _CountingWorker(1, os.getppid(), [_Listener(listening)], None, 30, cfg, Logger(cfg))
    worker.wsgi = app
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert wait_until(lambda: worker._server is not None, 20, every=0.05)
    try:
        yield worker, port, thread
    finally:
        _stop(worker)
        thread.join(timeout=15)
        worker.tmp.close()


def _stop(worker: BufferedWorker) -> None:
    """What SIGTERM does (gunicorn's handler runs on the main thread, which this test's worker is not)."""
    worker.alive = False
    if worker._server is not None:
        worker._server.wake()


def test_the_worker_beats_while_idle(worker: tuple[_CountingWorker, int, threading.Thread]) -> None:
    counting, _, _ = worker
    assert wait_until(lambda: counting.beats >= 3, 20, every=0.05)  # one a turn of the loop, a turn at most a second


def test_a_stop_refuses_new_connections_and_finishes_a_request_still_arriving(
    worker: tuple[_CountingWorker, int, threading.Thread],
) -> None:
    counting, port, thread = worker
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    arriving = socket.create_connection(("127.0.0.1", port), timeout=10)
    arriving.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the request is not complete yet
    assert wait_until(lambda: _busy(counting) == 1, 20, every=0.05)  # the loop has read the start of the request
    _stop(counting)
    assert wait_until(lambda: _refused(port), 20, every=0.05), "still accepting after the stop"
    assert idle.recv(100) == b"", "an idle keep-alive connection is closed at once"
    assert thread.is_alive(), "the worker waits for the request still arriving"
    arriving.sendall(b"Connection: close\r\n\r\n")
    answer = b"".join(iter(lambda: arriving.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    thread.join(timeout=10)
    assert not thread.is_alive()
    idle.close()
    arriving.close()


def _busy(worker: BufferedWorker) -> int:
    """Connections of the worker's server in the middle of a request (read from waitress's socket map)."""
    # dict.copy() runs in C under the GIL: iterating the live map while the loop adds a connection raised
    # "dictionary changed size during iteration".
    channels = list(worker._server._map.copy().values()) if worker._server is not None else []
    return sum(1 for channel in channels if isinstance(channel, JsonErrorChannel) and channel.busy())


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    except OSError:  # a busy machine timed the attempt out: ask again
        return False
    return False


def test_the_worker_class_carries_the_tls_context() -> None:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    assert worker_class(context).tls is context and worker_class(None).tls is None
    assert issubclass(worker_class(None), BufferedWorker)
