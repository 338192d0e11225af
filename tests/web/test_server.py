"""The real server (waitress) in a thread answering real HTTP, and the serve command's helpers."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from waitress import trigger as waitress_trigger
from webtools import running_server

from moodtape.errors import DataError
from moodtape.web.server import is_loopback, make_server, server_url


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    with running_server(app, threads=2) as url:
        yield url


def test_real_http_requests(live_url: str, frame_640: bytes) -> None:
    with httpx.Client(base_url=live_url, timeout=10) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["x-frame-options"] == "DENY"
        analysis = client.post("/api/analyze?stream=t", content=frame_640, headers={"Content-Type": "image/jpeg"})
        assert analysis.status_code == 200 and analysis.json()["faces"]
        token = client.get("/api/config").json()["csrf_token"]  # the cookie jar keeps the session
        assert client.delete("/api/history?confirm=true", headers={"X-CSRF-Token": token}).status_code == 200


def test_oversized_upload_gets_the_apps_json_413_not_a_reset(live_url: str) -> None:
    too_big = b"\xff\xd8\xff" + bytes(10_485_760)
    reply = httpx.post(f"{live_url}/api/analyze", content=too_big, headers={"Content-Type": "image/jpeg"}, timeout=30)
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "too_large"


def test_https_needs_both_files(app: Flask, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="both"):
        make_server(app, "127.0.0.1", 0, certfile=None, keyfile=tmp_path)


def test_unusable_certificate_is_a_readable_error(app: Flask, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    with pytest.raises(DataError, match="HTTPS"):
        make_server(app, "127.0.0.1", 0, certfile=cert, keyfile=key)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_server_url() -> None:
    assert server_url("127.0.0.1", 5000, tls=False) == "http://127.0.0.1:5000/"
    assert server_url("0.0.0.0", 8443, tls=True) == "https://127.0.0.1:8443/"
    assert server_url("::1", 5000, tls=False) == "http://[::1]:5000/"


def test_a_stop_before_the_loop_thread_runs_still_stops_it(app: Flask) -> None:
    """A server thread started and stopped before the thread got to run (a busy machine) must end.

    Before, ``serve()`` found no server after the ``stop()``, prepared a new one on the same port
    and served it for good: the thread never ended and the port stayed taken.
    """
    server = make_server(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    port = server.bound_port
    server.stop()  # the thread below has not started yet: the order a slow scheduler may choose
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive(), "serve() ran on after stop()"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "nothing may listen after stop()"


def test_a_worker_pulling_the_trigger_while_stop_closes_logs_no_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker that answered pulls its listener's trigger; stop() may be closing by then.

    Before, stop() closed the triggers with the connections, and a worker preempted between its
    check that the connection is open and the pull wrote to a closed pipe: EBADF, and a traceback
    on Ctrl+C (seen once in CI). Here every worker's pull waits until stop() has begun.
    """
    stopping = threading.Event()
    pull = waitress_trigger.trigger.pull_trigger

    def late_pull(self: waitress_trigger.trigger, thunk: object = None) -> None:
        if threading.current_thread().name.startswith("waitress-"):
            stopping.wait(5)
            time.sleep(0.2)  # stop() closes in the meantime
        pull(self, thunk)

    monkeypatch.setattr(waitress_trigger.trigger, "pull_trigger", late_pull)
    tiny = Flask("tiny")
    tiny.add_url_rule("/", view_func=lambda: "ok")
    server = make_server(tiny, "127.0.0.1", 0, threads=1)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    caplog.set_level(logging.ERROR)
    # The worker's own pull waits, so the loop sends the answer on its next turn (within a second).
    assert httpx.get(f"http://127.0.0.1:{server.bound_port}/", timeout=10).text == "ok"
    stopping.set()
    server.stop()
    thread.join(timeout=10)
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_drain_after_stop_has_nothing_to_do(app: Flask) -> None:
    """Before, drain() on a stopped server raised AttributeError (it polled a server that was gone)."""
    server = make_server(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    server.stop()
    assert server.drain(1.0) == 0


def test_a_stop_from_another_thread_ends_a_drain_first(app: Flask) -> None:
    """stop() waits for the thread draining, as for the one serving, before it closes the sockets.

    Before, it closed them under the drain's loop, whose next turn raised AttributeError."""
    server = make_server(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    with socket.create_connection(("127.0.0.1", server.bound_port)) as client:
        # Half a request: the connection is busy, so the drain would wait for it until its deadline.
        client.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        server.poll(0.2)
        server.poll(0.2)
        outcome: list[int | BaseException] = []

        def drain() -> None:
            try:
                outcome.append(server.drain(30.0))
            except BaseException as error:  # reported below
                outcome.append(error)

        thread = threading.Thread(target=drain, daemon=True)
        thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        server.stop()
        thread.join(timeout=10)
        assert not thread.is_alive() and time.monotonic() - started < 5
    assert outcome == [1], outcome


def test_a_refused_connection_that_lingers_does_not_hold_up_a_drain(app: Flask) -> None:
    """A refusal's connection lingers (reading and dropping what the client still sends) for up to 2 s;
    the bytes after the refused request made it look busy, so a graceful stop waited for it."""
    server = make_server(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    smuggled = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.bound_port)) as client:
        client.sendall(smuggled + b"GET /readyz HTTP/1.1\r\nHost: x\r\n")  # and half of another request
        client.settimeout(5)
        answer = b""
        while b"\r\n\r\n" not in answer:  # the loop turns until the refusal is out
            server.poll(0.1)
            with contextlib.suppress(TimeoutError, BlockingIOError):
                client.settimeout(0.05)
                answer += client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400")
        started = time.monotonic()
        assert server.drain(10.0) == 0
        assert time.monotonic() - started < 1.0
    server.stop()
