"""Slow-client benchmark: do 20 connections sending one byte a second stop the server answering others?

Starts the real app (bundled model, built-in catalog, offline) on a loopback port under one
server design, opens N "slow" connections that send a request one byte a second (the headers
never end, or the headers end and the body trickles), and meanwhile probes ``GET /healthz`` and
``POST /api/analyze`` (a 640×480 JPEG) from a well-behaved client with a 2-second timeout.

Designs compared: ``waitress`` (what ``moodtape serve`` uses for HTTP: an event loop reads whole
requests before a thread runs the app) and ``cheroot`` (the thread-per-connection server used
before, with its 4 threads; still used for ``--certfile`` HTTPS).

    .venv/bin/python -m benchmarks.slow_clients_single --server waitress --slow 20 --mode headers --seconds 20
    .venv/bin/python -m benchmarks.slow_clients_single --all --seconds 20 --markdown

The attacker and the prober are also used by ``tests/web/test_server_limits.py`` (a short run).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
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


class SlowClients:
    """``count`` connections to ``port``, each sending one more byte of a request every ``interval`` s."""

    def __init__(self, port: int, count: int, mode: str, interval: float = 1.0) -> None:
        if mode not in {"headers", "body"}:
            raise ValueError("mode is headers or body")
        self.port, self.count, self.mode, self.interval = port, count, mode, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self.sockets: list[socket.socket] = []

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if self.mode == "headers":
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                sock.sendall(
                    b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n\xff\xd8\xff"
                )
            self.sockets.append(sock)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # the server closed it: that is allowed
                    sock.send(b"a" if self.mode == "headers" else b"\x00")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def probe(base_url: str, jpeg: bytes, seconds: float, timeout: float = 2.0) -> ProbeResult:
    """Alternate ``GET /healthz`` and ``POST /api/analyze`` for ``seconds``, each on a new connection."""
    ok = {"healthz": 0, "analyze": 0}
    failed = {"healthz": 0, "analyze": 0}
    worst = 0.0
    deadline = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < deadline:
        name = ("healthz", "analyze")[turn % 2]
        turn += 1
        started = time.monotonic()
        try:
            with httpx.Client(timeout=timeout) as client:
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


@contextmanager
def running_server(kind: str, data_dir: Path, threads: int = 4) -> Iterator[int]:
    """The real app under ``kind`` (waitress or cheroot) on a free loopback port; yields the port."""
    from moodtape.config import Settings
    from moodtape.web import create_app
    from moodtape.web.server import make_server

    settings = Settings({"MOODTAPE_DATA_DIR": str(data_dir), "MOODTAPE_OFFLINE": "true", "MOODTAPE_RATE_LIMIT": "0"})
    app = create_app(settings)
    app.extensions["moodtape"].warm()
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = int(finder.getsockname()[1])
    if kind == "waitress":
        server = make_server(app, "127.0.0.1", port, threads=threads)
    else:
        from cheroot import wsgi

        server = wsgi.Server(("127.0.0.1", port), app, numthreads=threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.stop()


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
    parser.add_argument("--mode", choices=["headers", "body"], default="headers")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--all", action="store_true", help="both servers × both modes")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    import tempfile

    runs = (
        [(s, m) for s in ("cheroot", "waitress") for m in ("headers", "body")]
        if args.all
        else [(args.server, args.mode)]
    )
    jpeg = astronaut_jpeg()
    print("| server | slow clients | slow part | /api/analyze answered | /healthz answered | slowest probe (s) |")
    print("|---|---|---|---|---|---|")
    for kind, mode in runs:
        with (
            tempfile.TemporaryDirectory() as folder,
            running_server(kind, Path(folder)) as port,
            SlowClients(port, args.slow, mode),
        ):
            time.sleep(1.5)  # let the slow requests reach the server's threads
            result = probe(f"http://127.0.0.1:{port}", jpeg, args.seconds)
        print(result.row(kind, args.slow, mode), flush=True)


if __name__ == "__main__":
    main()
