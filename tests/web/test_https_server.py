"""HTTPS straight from ``make_server(certfile=…, keyfile=…)``: real TLS on loopback, a certificate made per run.

The limits (slow clients, 413/431/400 in JSON, stopping with a stalled upload) run over HTTPS in
``test_server_limits.py``; here: what TLS itself must get right.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.slow_clients_single import client_hello
from flask import Flask, Response, request

from moodtape.errors import DataError
from moodtape.web.server import make_server
from services import free_port

BIG = bytes(range(256)) * (24 * 1024)  # 6 MiB, far more than a socket buffer holds


@pytest.fixture
def serving(tls_files: tuple[Path, Path]) -> Iterator[Callable[[Flask], str]]:
    """Start a given app over HTTPS; returns its base URL. Stops every server started."""
    servers = []

    def start(app: Flask) -> str:
        port = free_port()
        server = make_server(app, "127.0.0.1", port, threads=2, certfile=tls_files[0], keyfile=tls_files[1])
        server.prepare()
        threading.Thread(target=server.serve, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop()


def _echo_app() -> Flask:
    """A small app that shows what the server put in the WSGI environment, and sends a large body."""
    app = Flask("echo")
    app.config["MAX_CONTENT_LENGTH"] = 2 * len(BIG)

    @app.route("/who")
    def who() -> dict[str, str | None]:
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "forwarded": request.headers.get("X-Forwarded-For"),
        }

    @app.route("/big")
    def big() -> Response:
        return Response(BIG, mimetype="application/octet-stream")

    @app.route("/upload", methods=["POST"])
    def upload() -> dict[str, int | str]:
        data = request.get_data()
        return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    return app


def test_the_real_app_over_https_sets_hsts_and_secure_cookies(serving: Callable[[Flask], str], app: Flask) -> None:
    url = serving(app)
    with httpx.Client(base_url=url, verify=False, timeout=20) as client:
        reply = client.get("/healthz")
        assert reply.status_code == 200 and reply.json()["status"] == "ok"
        assert reply.headers["strict-transport-security"].startswith("max-age=")
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "Secure" in client.get("/api/config").headers["set-cookie"]  # /healthz sends no cookie
        for _ in range(5):  # several requests on one kept-alive TLS connection
            assert client.get("/api/config").status_code == 200


def test_the_client_address_and_scheme_reach_the_app(serving: Callable[[Flask], str]) -> None:
    """The rate limiter keys on REMOTE_ADDR; a forwarding header is left for ProxyFix to judge."""
    url = serving(_echo_app())
    reply = httpx.get(f"{url}/who", headers={"X-Forwarded-For": "203.0.113.9"}, verify=False, timeout=20)
    assert reply.json() == {"remote_addr": "127.0.0.1", "scheme": "https", "forwarded": "203.0.113.9"}


def test_large_answers_and_uploads_arrive_whole(serving: Callable[[Flask], str]) -> None:
    """The answer is larger than the socket takes at once: encrypted bytes must wait, in order, not be lost."""
    url = serving(_echo_app())
    with httpx.Client(base_url=url, verify=False, timeout=30) as client:
        with client.stream("GET", "/big") as reply:
            received = b""
            for piece in reply.iter_bytes():
                received += piece
                time.sleep(0.001)  # a reader slower than the server
        assert received == BIG
        upload = client.post("/upload", content=BIG).json()
        assert upload == {"length": len(BIG), "sha256": hashlib.sha256(BIG).hexdigest()}


def test_plain_http_and_garbage_on_the_https_port_do_not_stop_it(serving: Callable[[Flask], str]) -> None:
    url = serving(_echo_app())
    port = int(url.rsplit(":", 1)[1])
    for junk in (b"GET /who HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x00\x05hello", bytes(5000)):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(junk)
            sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                answer = sock.recv(1000)
                assert answer == b"" or answer.startswith(b"\x15\x03")  # nothing, or a TLS alert: never HTTP
                assert sock.recv(1000) == b""  # then closed
    assert httpx.get(f"{url}/who", verify=False, timeout=20).status_code == 200


def test_a_client_that_closes_mid_handshake_does_not_stop_it(serving: Callable[[Flask], str]) -> None:
    url = serving(_echo_app())
    port = int(url.rsplit(":", 1)[1])
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(client_hello()[:60])
    assert httpx.get(f"{url}/who", verify=False, timeout=20).status_code == 200


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def test_a_key_of_another_certificate_is_named(app: Flask, tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    other_cert, other_key = tmp_path / "other.pem", tmp_path / "other.key"
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x"),
        *("-keyout", str(other_key), "-out", str(other_cert)),
    )
    with pytest.raises(DataError, match="does not belong to the certificate"):
        make_server(app, "127.0.0.1", 0, certfile=tls_files[0], keyfile=other_key)


def test_a_key_with_a_passphrase_is_refused_without_asking(
    app: Flask, tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Before: OpenSSL asked for the passphrase on the terminal, and a server started by a script waited."""
    locked = tmp_path / "locked.key"
    _openssl("pkey", "-in", str(tls_files[1]), "-out", str(locked), "-aes256", "-passout", "pass:secret")
    with pytest.raises(DataError, match="passphrase"):
        make_server(app, "127.0.0.1", 0, certfile=tls_files[0], keyfile=locked)


def test_a_missing_key_file_is_named(app: Flask, tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"key file .*nope\.key does not exist"):
        make_server(app, "127.0.0.1", 0, certfile=tls_files[0], keyfile=tmp_path / "nope.key")
