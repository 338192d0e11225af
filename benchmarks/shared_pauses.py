"""Calls that reach a rate-limiting service after its first 429, per worker of ``serve --processes N``.

Runs the real command (``moodtape serve --processes 3``, bundled model, a fresh data folder,
Spotify credentials and previews on) with its live services faked on this machine: the server's
HTTP clients go through ``HTTPS_PROXY`` to a proxy here, which takes each ``CONNECT`` itself and
answers TLS with a throw-away certificate for the services' hosts (trusted through
``SSL_CERT_FILE``; needs the ``openssl`` command). Spotify issues tokens and answers every search
with ``429 Retry-After: 120``; Deezer and iTunes Search answer every lookup so too. It then asks
``/api/recommendations`` ``--requests`` times, each on a new connection (any worker may take it;
with ``--spread``, on connections held open, one taken by each worker, in turn, so every worker
answers lists even where one worker takes every new connection), and prints, per service, the
calls each worker process sent (the proxy names the process from its connection's socket in
``/proc``; Linux only), the first 429 included.

    .venv/bin/python -m benchmarks.shared_pauses --requests 30
    PYTHONPATH=/path/to/another/checkout/src .venv/bin/python -m benchmarks.shared_pauses  # before/after

``--redis URL`` runs the server with ``MOODTAPE_REDIS_URL`` (an empty database: it is flushed).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

HOSTS = ("accounts.spotify.com", "api.spotify.com", "api.deezer.com", "itunes.apple.com", "www.googleapis.com")
#: Each host's service as the table prints it (the token endpoint aside).
SERVICES = {"api.spotify.com": "Spotify", "api.deezer.com": "Deezer", "itunes.apple.com": "iTunes Search"}
TOKEN = json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}).encode()


def certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for :data:`HOSTS`, and its key, made by the ``openssl`` command."""
    cert, key = folder / "services.pem", folder / "services-key.pem"
    names = ",".join(f"DNS:{host}" for host in HOSTS)
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=services"]
    subprocess.run(
        [*command, "-addext", f"subjectAltName={names}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def process_of(local_port: int, remote_port: int | None = None) -> int | None:
    """The process holding the loopback socket of ``local_port`` (connected to ``remote_port``, when
    given), found in Linux's ``/proc``."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(fields[i].rsplit(":", 1)[1], 16) for i in (1, 2))
            if local == local_port and remote_port in (None, remote) and fields[9] != "0":  # 0: TIME_WAIT
                inode = fields[9]
    if inode is None:
        return None
    mark = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == mark for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


class Services(socketserver.ThreadingTCPServer):
    """The proxy and the services behind it: counts ``(service, pid)`` of every call but tokens."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.calls: Counter[tuple[str, int | None]] = Counter()
        self.lock = threading.Lock()


class _Tunnel(socketserver.StreamRequestHandler):
    server: Services

    def handle(self) -> None:
        head = self._head(self.rfile)
        if not head.startswith(b"CONNECT "):
            return
        host = head.split()[1].decode().rsplit(":", 1)[0]
        pid = process_of(self.client_address[1])
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        with self.server.tls.wrap_socket(self.connection, server_side=True) as tls:
            stream = tls.makefile("rb")
            while head := self._head(stream):
                length = next((int(v) for k, _, v in _fields(head) if k == b"content-length"), 0)
                stream.read(length)
                tls.sendall(self._answer(host, pid))

    @staticmethod
    def _head(stream: object) -> bytes:
        lines = []
        while (line := stream.readline()) not in (b"\r\n", b"\n", b""):  # type: ignore[attr-defined]
            lines.append(line)
        return b"".join(lines)

    def _answer(self, host: str, pid: int | None) -> bytes:
        if host == "accounts.spotify.com":
            status, extra, body = "200 OK", b"", TOKEN
        else:
            with self.server.lock:
                self.server.calls[(SERVICES.get(host, host), pid)] += 1
            status, extra, body = "429 Too Many Requests", b"Retry-After: 120\r\n", b'{"error":{"status":429}}'
        return (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
            + extra
            + b"\r\n"
            + body
        )


def _fields(head: bytes) -> list[tuple[bytes, bytes, bytes]]:
    return [(k.strip().lower(), s, v.strip()) for k, s, v in (line.partition(b":") for line in head.split(b"\r\n")[1:])]


def free_port() -> int:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        return int(finder.getsockname()[1])


def ask(port: int, number: int) -> tuple[int, int | None]:
    """One list asked on a new connection (any worker may take it): its status and the worker that answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/api/recommendations?emotion=neutral&n=5&seed={number}")
        status = connection.getresponse()
        status.read()
        assert connection.sock is not None
        return status.status, process_of(port, connection.sock.getsockname()[1])
    finally:
        connection.close()


def held_by_every_worker(port: int, processes: int, batches: int = 40) -> list[http.client.HTTPConnection]:
    """One open connection taken by each of the ``processes`` workers: connections opened a few at
    once (the workers race to take them) and each asked ``/healthz`` until every worker holds one;
    the rest are closed. Raises RuntimeError when ``batches`` rounds did not reach every worker."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(batches):
        batch = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(2 * processes)]
        for connection in batch:
            connection.connect()  # all queued before any is answered
        for connection in batch:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            assert connection.sock is not None
            worker = process_of(port, connection.sock.getsockname()[1])
            if worker is not None and worker not in held:
                held[worker] = connection
            else:
                connection.close()
        if len(held) == processes:
            return list(held.values())
    for connection in held.values():
        connection.close()
    raise RuntimeError(f"only {len(held)} of {processes} workers took a connection in {batches} rounds")


def ask_on(connection: http.client.HTTPConnection, port: int, number: int) -> tuple[int, int | None]:
    """One list asked on ``connection``, kept open: its status and the worker that answered."""
    connection.request("GET", f"/api/recommendations?emotion=neutral&n=5&seed={number}")
    status = connection.getresponse()
    status.read()
    assert connection.sock is not None
    return status.status, process_of(port, connection.sock.getsockname()[1])


def run(
    requests: int, processes: int, redis_url: str | None, folder: Path | None = None, *, spread: bool = False
) -> tuple[Counter[tuple[str, int | None]], list[int]]:
    """Start the server on the fake services (its data, certificate and log in ``folder``, default a
    new temporary one), send ``requests`` and return the calls (the lists each worker answered
    under ``("lists answered", pid)``) and the statuses. ``spread``: the lists go in turn over
    connections held open, one taken by each worker (:func:`held_by_every_worker`), not each on a
    new connection that any worker may take."""
    folder = folder if folder is not None else Path(tempfile.mkdtemp(prefix="moodtape-pauses-"))
    cert, key = certificate(folder)
    services = Services(cert, key)
    threading.Thread(target=services.serve_forever, daemon=True).start()
    port = free_port()
    environ = {
        k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "all_proxy", "https_proxy")
    }
    environ |= {
        "MOODTAPE_DATA_DIR": str(folder),
        "MOODTAPE_OFFLINE": "false",
        "MOODTAPE_RATE_LIMIT": "0",
        "MOODTAPE_THREADS": "1",
        "SPOTIFY_CLIENT_ID": "benchmark-client",
        "SPOTIFY_CLIENT_SECRET": "benchmark-secret",
        "HTTPS_PROXY": f"http://127.0.0.1:{services.server_address[1]}",
        "SSL_CERT_FILE": str(cert),
    }
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        environ["MOODTAPE_REDIS_URL"] = redis_url
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", "--port", str(port)]
    log = (folder / "serve.log").open("ab")
    server = subprocess.Popen(
        [*command, "--processes", str(processes)], env=environ, cwd=folder, stdout=log, stderr=subprocess.STDOUT
    )
    statuses = []
    held: list[http.client.HTTPConnection] = []
    try:
        _wait_ready(port, server)
        held = held_by_every_worker(port, processes) if spread else []
        for number in range(requests):
            status, worker = ask_on(held[number % len(held)], port, number) if held else ask(port, number)
            statuses.append(status)
            services.calls[("lists answered", worker)] += 1
    finally:
        for connection in held:
            connection.close()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        services.shutdown()
    return services.calls, statuses


def _wait_ready(port: int, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline, ready = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and ready < 6:  # several in a row: every worker has its model
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before it was ready")
        try:
            ready = (
                ready + 1 if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2, trust_env=False).is_success else 0
            )
        except httpx.TransportError:
            ready = 0
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--redis", default=None, help="MOODTAPE_REDIS_URL for the server (flushed first)")
    parser.add_argument("--spread", action="store_true", help="ask in turn on one connection held by each worker")
    options = parser.parse_args()
    calls, statuses = run(options.requests, options.processes, options.redis, spread=options.spread)
    print(f"{len(statuses)} requests, statuses {dict(Counter(statuses))}")
    workers = sorted({pid for _, pid in calls}, key=lambda pid: pid or 0)
    print("| service | " + " | ".join(f"worker {pid}" for pid in workers) + " | all |")
    print("|---|" + "---|" * (len(workers) + 1))
    for service in sorted({name for name, _ in calls}):
        row = [calls[(service, pid)] for pid in workers]
        print(f"| {service} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")


if __name__ == "__main__":
    main()
