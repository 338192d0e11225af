"""Slow clients against ``moodtape serve --processes 2``, directly and behind HAProxy.

Each worker reads requests whole on waitress's event loop before a thread runs the app
(``moodtape.web.gunicorn_worker``), so clients sending their upload one byte a second cost
sockets, not threads, and ``GET /healthz`` is answered at once either way. Before, gunicorn's
gthread workers read a request's body in a request thread: with 2 processes × 2 threads, four
such clients left no thread for anyone else, and only HAProxy in front (``http-request
wait-for-body``, ``timeout http-request 10s``, as in ``tests/cluster_topology.py`` and
``deploy/haproxy.cfg``), which waits for the body itself, protected the workers. Results are in
docs/deployment.md.

    .venv/bin/python benchmarks/slow_clients.py

Prints, for 0, 4 and 8 slow clients, the time a normal ``GET /healthz`` takes directly and through
the balancer (10 s means it timed out).
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the topology helper

from cluster_topology import missing_reason, topology

TIMEOUT = 10.0


def slow_upload(port: int, stop: threading.Event) -> None:
    """A POST whose 50 kB body comes one byte every half second, until ``stop``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(
                "POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                "Content-Length: 50000\r\n\r\n\xff".encode("latin-1")
            )
            while not stop.wait(0.5):
                conn.sendall(b"\xd8")
    except OSError:
        pass  # the balancer (or the server) gave up on us: that is the point


def healthz_seconds(url: str) -> float:
    started = time.perf_counter()
    try:
        httpx.get(f"{url}/healthz", timeout=TIMEOUT)
    except httpx.TimeoutException:
        return TIMEOUT
    return time.perf_counter() - started


def main() -> None:
    reason = missing_reason()
    if reason:
        raise SystemExit(f"slow_clients: {reason}")
    with (
        tempfile.TemporaryDirectory(prefix="moodtape-slow-") as folder,
        topology(Path(folder), processes=(2,), MOODTAPE_WORKERS="2", MOODTAPE_RATE_LIMIT="0") as running,
    ):
        instance = running.instances[0]
        print("| slow clients | /healthz directly (s) | /healthz through HAProxy (s) |")
        print("|---|---|---|")
        for count in (0, 4, 8):
            row = []
            # Through the balancer first: a stalled instance fails its /readyz checks meanwhile,
            # and the balancer needs a moment to take it back afterwards.
            for port, url in ((running.port, running.url), (instance.port, instance.url)):
                stop = threading.Event()
                clients = [threading.Thread(target=slow_upload, args=(port, stop)) for _ in range(count)]
                for client in clients:
                    client.start()
                time.sleep(1.5)  # every slow client is connected and has sent its headers
                row.append(max(healthz_seconds(url) for _ in range(3)))
                stop.set()
                for client in clients:
                    client.join()
                running.wait_all_serving()
            print(f"| {count} | {row[1]:.2f} | {row[0]:.2f} |")


if __name__ == "__main__":
    main()
