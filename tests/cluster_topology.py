"""The scale-out topology, natively: Redis, a shared database, two ``moodtape serve`` and HAProxy.

The same shape as ``deploy/compose.yaml`` (which needs Docker, absent here): the balancer sends
requests round-robin to two instances without stickiness, checks ``/readyz`` every half second,
adds the answering instance's name in ``X-Served-By`` (so tests can see who answered) and the
client's address in ``X-Forwarded-For`` (the instances trust one hop). Instance ``a`` is one
process (the default server), instance ``b`` two gunicorn processes: both servers are covered.

The database is PostgreSQL (``tests/services.py``, Debian's ``postgresql``) when it is installed,
else a SQLite file both instances open (they share a machine here). Everything skips with a reason
when a program is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from redis_server import RedisServer, wait_for_port
from redis_server import missing_reason as redis_missing
from services import PostgresServer, free_ports
from services import missing_reason as postgres_missing

SECRET_KEY = "cluster-test-secret-key-0123456789abcdef"
#: Requests a second per client address; tests that send many use several loopback addresses.
RATE_LIMIT = 30
START_SECONDS = 90.0

HAPROXY_CONFIG = """\
global
    maxconn 512
    tune.bufsize 131072
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    # A busy instance answers /readyz late (it queues behind frames): not a reason to drop it.
    timeout check 3s
    option forwardfor
{retries}
    errorfile 503 {errorfile}
frontend web
    bind 127.0.0.1:{port}
    # Slow clients: the whole body (up to a buffer) must arrive before a worker sees the request.
    http-request wait-for-body time 10s
    default_backend moodtape
backend moodtape
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
    # As deploy/haproxy.cfg: a 404 is retried (on another instance) only for a release's versioned files.
    http-request disable-l7-retry unless {{ path_beg /static/v/ /ondevice/ }}
    http-response set-header X-Served-By %[srv_name]
{servers}
"""

#: The balancer's retries: on by default, as in deploy/haproxy.cfg; off, a request sent to an instance
#: that refuses it is lost (tests/cluster/test_draining_balanced.py).
#: A 404 too, for the versioned files another release's instance refers back (web/versions_here.py),
#: redispatched at every retry so that the retry goes to another instance.
RETRIES = "    option redispatch 1\n    retries 2\n    retry-on conn-failure 404"
NO_RETRIES = "    retries 0"

#: What HAProxy answers when no instance is ready: JSON, like moodtape's own errors.
UNAVAILABLE = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "Retry-After: 2\r\n"
    "Connection: close\r\n"
    "\r\n"
    '{"error": {"code": "unavailable", "message": "no moodtape instance is ready; retry in a few seconds"}}\n'
)


def haproxy_path() -> str | None:
    """``haproxy``, which Debian puts in /usr/sbin (not always on a user's PATH)."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    return found


def missing_reason() -> str | None:
    """Why the topology cannot run here, or None when it can."""
    if haproxy_path() is None:
        return "haproxy is not installed (apt-get install haproxy)"
    return redis_missing()


@dataclass
class Instance:
    """One ``moodtape serve`` behind the balancer."""

    name: str
    port: int
    folder: Path
    processes: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--processes", str(self.processes)]
        with open(self.folder / "serve.log", "ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"instance {self.name} exited:\n{self.log()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"instance {self.name} was not ready in {timeout:.0f} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole instance (a gunicorn master and its workers alike): a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Topology:
    """Redis, two instances and HAProxy; :meth:`client` talks to the balancer."""

    folder: Path
    redis: RedisServer
    instances: list[Instance]
    port: int
    haproxy: subprocess.Popen[bytes] | None = None
    database_url: str = ""
    #: The PostgreSQL server, or None when the instances share a SQLite file.
    postgres: PostgresServer | None = None
    #: HAProxy retries (and redispatches) a request whose connection failed.
    retries: bool = True
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """An HTTP client of the balancer (own cookies) connecting from loopback address ``source``."""
        made = httpx.Client(
            base_url=self.url, timeout=30, transport=httpx.HTTPTransport(local_address=source, retries=0)
        )
        self._clients.append(made)
        return made

    def start_haproxy(self) -> None:
        errorfile = self.folder / "503.http"
        errorfile.write_text(UNAVAILABLE)
        config = self.folder / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(
                errorfile=errorfile,
                retries=RETRIES if self.retries else NO_RETRIES,
                port=self.port,
                servers="\n".join(f"    server {i.name} 127.0.0.1:{i.port} check" for i in self.instances),
            )
        )
        with open(self.folder / "haproxy.log", "ab") as log:
            self.haproxy = subprocess.Popen(
                [haproxy_path() or "haproxy", "-db", "-f", str(config)], stdout=log, stderr=log
            )
        wait_for_port(self.port, process=self.haproxy)

    def wait_all_serving(self, timeout: float = 30.0) -> None:
        """Until the balancer has sent requests to both instances (both passed their checks)."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as probe:
            while time.monotonic() < deadline and len(seen) < len(self.instances):
                with contextlib.suppress(httpx.HTTPError):
                    reply = probe.get("/healthz")
                    if reply.status_code == 200:
                        seen.add(reply.headers.get("X-Served-By", ""))
                time.sleep(0.1)
        if len(seen) < len(self.instances):
            raise RuntimeError(f"the balancer reached only {sorted(seen)} in {timeout:.0f} s")

    def restart_instance(self, instance: Instance) -> None:
        instance.kill()
        instance.start()
        instance.wait_ready()
        self.wait_all_serving()

    def close(self) -> None:
        for made in self._clients:
            made.close()
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(10)
        for instance in self.instances:
            instance.stop()
        self.redis.stop()
        if self.postgres is not None:
            self.postgres.cleanup()


@contextlib.contextmanager
def topology(
    folder: Path,
    *,
    processes: tuple[int, ...] = (1, 2),
    database_url: str = "",
    balancer_retries: bool = True,
    **settings: str,
) -> Iterator[Topology]:
    """Start Redis, one instance per entry of ``processes`` (its process count) and HAProxy in
    ``folder``; ``settings`` override the instances' settings. Everything is stopped on exit.
    ``balancer_retries=False`` makes HAProxy give up on a request whose connection fails."""
    redis = RedisServer(folder / "redis")
    redis.start()
    postgres = None
    if not database_url and postgres_missing() is None:
        postgres = PostgresServer()
        postgres.start()
        database_url = postgres.create_database()
    database_url = database_url or f"sqlite:///{folder / 'shared.db'}"
    base = {
        key: value for key, value in os.environ.items() if not key.startswith(("MOODTAPE_", "SPOTIFY_", "YOUTUBE_"))
    }
    instances = []
    *instance_ports, balancer_port = free_ports(len(processes) + 1)
    for name, count, port in zip("abcdefgh", processes, instance_ports, strict=False):
        home = folder / name
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **base,
            "MOODTAPE_OFFLINE": "true",
            "MOODTAPE_DATA_DIR": str(home / "data"),
            "MOODTAPE_DATABASE_URL": database_url,
            "MOODTAPE_REDIS_URL": redis.url,
            "MOODTAPE_SECRET_KEY": SECRET_KEY,
            "MOODTAPE_PROXY_HOPS": "1",
            # The balanced page tests follow camera frames through the balancer: the server path.
            "MOODTAPE_FRAMES": "server",
            "MOODTAPE_RATE_LIMIT": str(RATE_LIMIT),
            "MOODTAPE_THREADS": "1",
            "MOODTAPE_SHUTDOWN_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
        instances.append(Instance(name, port, home, count, env))
    running = Topology(
        folder, redis, instances, balancer_port, database_url=database_url, postgres=postgres, retries=balancer_retries
    )
    try:
        for instance in instances:
            instance.start()
        for instance in instances:
            instance.wait_ready()
        running.start_haproxy()
        running.wait_all_serving()
        yield running
    finally:
        running.close()
