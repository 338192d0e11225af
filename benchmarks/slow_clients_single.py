"""Slow-client benchmark: do 20 connections sending one byte a second stop the server answering others?

Starts the real app (bundled model, built-in catalog, offline) on a loopback port under one
server design, over HTTP or (``--tls``) HTTPS with a self-signed certificate, opens N "slow"
connections that send a request one byte a second (the headers never end, the headers end and the
body trickles, or, over HTTPS, the TLS handshake itself trickles), and meanwhile probes
``GET /healthz`` and ``POST /api/analyze`` (a 640×480 JPEG) from a well-behaved client with a
2-second timeout.

Designs compared: ``waitress`` (what ``moodtape serve`` uses for HTTP and, with TLS inside each
connection, for HTTPS: an event loop reads whole requests before a thread runs the app) and
``cheroot`` (the thread-per-connection server used before, with its 4 threads; HTTPS used it
until issue 10 was finished; ``pip install cheroot`` to run it).

    .venv/bin/python -m benchmarks.slow_clients_single --server waitress --slow 20 --mode headers --seconds 20
    .venv/bin/python -m benchmarks.slow_clients_single --all --seconds 20 --markdown
    .venv/bin/python -m benchmarks.slow_clients_single --all --tls --seconds 8
    .venv/bin/python -m benchmarks.slow_clients_single --processes 2 --all --tls --seconds 8

``--processes N`` runs ``moodtape serve --processes N --threads 2`` (gunicorn's master with the
waitress worker, ``moodtape.web.gunicorn_worker``) in a child process instead, for each mode.

HTTPS needs the ``openssl`` command for the test certificate. The attacker and the prober are also
used by ``tests/web/test_server_limits.py`` (a short run, HTTP and HTTPS).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class ProbeResult:
    """What the well-behaved client saw: answered in time or not, per endpoint."""

    ok: dict[str, int]
    failed: dict[str, int]
    worst_seconds: float

    def row(self, server: str, slow: int, mode: str) -> str:
        total = {k: self.ok[k] + self.failed[k] for k in self.ok}
        cells = " | ".join(f"{self.ok[k]}/{total[k]}" for k in sorted(self.ok))
        return f"| {server} | {slow} | {mode} | {cells} | {self.worst_seconds:.2f} |"


#: What a slow client trickles: the request's headers, its body, or (HTTPS) the TLS handshake.
MODES = ("headers", "body", "handshake")


def client_tls() -> ssl.SSLContext:
    """A client TLS context that accepts the benchmark's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def client_hello() -> bytes:
    """The bytes a real TLS client sends first (its ClientHello), to trickle one at a time."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_tls().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


class SlowClients:
    """``count`` connections to ``port``, each sending one more byte every ``interval`` s.

    ``mode`` is one of :data:`MODES`; ``tls`` (a client context) makes them HTTPS connections: for
    ``headers`` and ``body`` the handshake completes at once and the request trickles inside TLS
    (one byte per TLS record), for ``handshake`` the ClientHello itself trickles.
    """

    def __init__(
        self, port: int, count: int, mode: str, interval: float = 1.0, tls: ssl.SSLContext | None = None
    ) -> None:
        if mode not in MODES or (mode == "handshake" and tls is None):
            raise ValueError("mode is headers or body (or handshake, with tls)")
        self.port, self.count, self.mode, self.interval, self.tls = port, count, mode, interval, tls
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self.sockets: list[socket.socket] = []
        self._trickles: list[bytes] = []

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            try:
                sock = self._open()
            except OSError:  # a server blocked by the earlier ones stops accepting (or TLS): a result too
                break
            self.sockets.append(sock)
        self._thread.start()
        return self

    def _open(self) -> socket.socket:
        """One slow connection, its first bytes sent (a TLS handshake that times out raises ``OSError``)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if self.mode == "handshake":
            self._trickles.append(client_hello())
            return sock
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname="localhost")
            if self.mode == "headers":
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                sock.sendall(
                    b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n\xff\xd8\xff"
                )
        except OSError:
            sock.close()
            raise
        self._trickles.append(b"a" * 100_000 if self.mode == "headers" else bytes(100_000))
        return sock

    def _run(self) -> None:
        sent = 0
        while not self._stop.wait(self.interval):
            for sock, trickle in zip(self.sockets, self._trickles, strict=True):
                with contextlib.suppress(OSError):  # the server closed it: that is allowed
                    sock.send(trickle[sent : sent + 1])
            sent += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def probe(base_url: str, jpeg: bytes, seconds: float, timeout: float = 2.0) -> ProbeResult:
    """Alternate ``GET /healthz`` and ``POST /api/analyze`` for ``seconds``, each on a new connection.

    Each endpoint is probed at least once, however long the first probe took (on a busy machine a
    first answer slower than ``seconds`` left the other endpoint untried, which read as a failure).
    Over HTTPS the certificate is not checked (the benchmark's is self-signed); the timeout covers
    the handshake too.
    """
    ok = {"healthz": 0, "analyze": 0}
    failed = {"healthz": 0, "analyze": 0}
    worst = 0.0
    deadline = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < deadline or turn < 2:
        name = ("healthz", "analyze")[turn % 2]
        turn += 1
        started = time.monotonic()
        try:
            with httpx.Client(timeout=timeout, verify=not base_url.startswith("https")) as client:
                if name == "healthz":
                    reply = client.get(f"{base_url}/healthz")
                else:
                    reply = client.post(f"{base_url}/api/analyze", content=jpeg, headers={"Content-Type": "image/jpeg"})
            good = reply.status_code == 200
        except httpx.HTTPError:
            good = False
        elapsed = time.monotonic() - started
        worst = max(worst, elapsed)
        (ok if good else failed)[name] += 1
        time.sleep(max(0.0, 0.25 - elapsed))
    return ProbeResult(ok, failed, worst)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate and key for ``localhost`` in ``folder``, made by the ``openssl`` command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def running_server(kind: str, data_dir: Path, threads: int = 4, tls: bool = False) -> Iterator[int]:
    """The real app under ``kind`` (waitress or cheroot) on a free loopback port; yields the port."""
    from moodtape.config import Settings
    from moodtape.web import create_app
    from moodtape.web.server import make_server

    settings = Settings({"MOODTAPE_DATA_DIR": str(data_dir), "MOODTAPE_OFFLINE": "true", "MOODTAPE_RATE_LIMIT": "0"})
    app = create_app(settings)
    app.extensions["moodtape"].warm()
    cert, key = self_signed_certificate(data_dir) if tls else (None, None)
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = int(finder.getsockname()[1])
    if kind == "waitress":
        server = make_server(app, "127.0.0.1", port, threads=threads, certfile=cert, keyfile=key)
    else:
        from cheroot import wsgi  # not a moodtape dependency any more: pip install cheroot
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        server = wsgi.Server(("127.0.0.1", port), app, numthreads=threads)
        if cert is not None:
            server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.stop()


@contextmanager
def running_processes(data_dir: Path, processes: int, threads: int = 2, tls: bool = False) -> Iterator[int]:
    """``moodtape serve --processes N`` in a child process on a free loopback port; yields the port."""
    import os
    import signal
    import sys

    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = int(finder.getsockname()[1])
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", "--port", str(port)]
    command += ["--processes", str(processes), "--threads", str(threads)]
    if tls:
        cert, key = self_signed_certificate(data_dir)
        command += ["--certfile", str(cert), "--keyfile", str(key)]
    env = {**os.environ, "MOODTAPE_DATA_DIR": str(data_dir), "MOODTAPE_OFFLINE": "true", "MOODTAPE_RATE_LIMIT": "0"}
    server = subprocess.Popen(command, env=env, cwd=data_dir, stderr=subprocess.DEVNULL)
    try:
        url, ready, deadline = f"{'https' if tls else 'http'}://127.0.0.1:{port}", 0, time.monotonic() + 120
        while ready < 2 * processes and time.monotonic() < deadline:  # every worker has loaded the model
            with contextlib.suppress(httpx.HTTPError):
                reply = httpx.get(f"{url}/readyz", verify=False, timeout=2, headers={"Connection": "close"})
                ready = ready + 1 if reply.status_code == 200 else 0
            time.sleep(0.2)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def astronaut_jpeg() -> bytes:
    """A 640×480 JPEG with one face, built from scikit-image's astronaut."""
    import cv2
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = cv2.copyMakeBorder(cv2.resize(bgr, (480, 480)), 0, 0, 80, 80, cv2.BORDER_REFLECT)
    ok, encoded = cv2.imencode(".jpg", frame)
    assert ok
    return encoded.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=["waitress", "cheroot"], default="waitress")
    parser.add_argument("--slow", type=int, default=20, help="slow connections")
    parser.add_argument("--mode", choices=MODES, default="headers")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a self-signed certificate")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--all", action="store_true", help="both servers × every mode")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--processes", type=int, default=1, help="above 1: moodtape serve --processes N")
    args = parser.parse_args()
    import tempfile

    modes = MODES if args.tls else MODES[:2]
    servers = ("cheroot", "waitress") if args.processes == 1 else (f"serve --processes {args.processes}",)
    runs = (
        [(s, m) for s in servers for m in modes]
        if args.all
        else [(args.server if args.processes == 1 else servers[0], args.mode)]
    )
    jpeg = astronaut_jpeg()
    scheme = "https" if args.tls else "http"
    print("| server | slow clients | slow part | /api/analyze answered | /healthz answered | slowest probe (s) |")
    print("|---|---|---|---|---|---|")
    for kind, mode in runs:
        with (
            tempfile.TemporaryDirectory() as folder,
            (
                running_server(kind, Path(folder), tls=args.tls)
                if args.processes == 1
                else running_processes(Path(folder), args.processes, tls=args.tls)
            ) as port,
            SlowClients(port, args.slow, mode, tls=client_tls() if args.tls else None) as slow,
        ):
            time.sleep(1.5)  # let the slow requests reach the server's threads
            result = probe(f"{scheme}://127.0.0.1:{port}", jpeg, args.seconds)
            opened = len(slow.sockets)
        print(result.row(f"{kind} ({scheme})", opened, mode), flush=True)


if __name__ == "__main__":
    main()
