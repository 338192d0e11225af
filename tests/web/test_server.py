"""The real server (waitress) in a thread answering real HTTP, and the serve command's helpers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
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
