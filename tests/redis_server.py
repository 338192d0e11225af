"""A real Redis for tests: Debian's ``redis-server`` in the foreground, on a free port, no persistence.

``RedisServer().start()`` waits until it answers; :meth:`RedisServer.stop` kills it (as a crash or
a restart looks to clients) and :meth:`RedisServer.start` brings it back on the same port, empty.
Tests skip with :func:`missing_reason` when the program is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services import free_port


def missing_reason() -> str | None:
    """Why Redis tests cannot run here, or None when they can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    return None


def wait_for_port(port: int, timeout: float = 15.0, process: subprocess.Popen[bytes] | None = None) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextmanager
def listening(command: list[str], port: int) -> Iterator[int]:
    """Run ``command`` (a server in the foreground) until the block ends, once it listens on ``port``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process=process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


class RedisServer:
    """One ``redis-server`` on 127.0.0.1:``port``, keeping nothing on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, process=self.process)

    def fill_to_maxmemory(self) -> None:
        """Bring this Redis to its ``maxmemory`` with nothing it may evict (``noeviction``): reads,
        deletes and PINGs still answer, writes are refused with an out-of-memory error."""
        import redis  # here, so that tests without Redis import this module without the client

        full = redis.Redis.from_url(self.url)
        full.config_set("maxmemory", "1mb")
        full.config_set("maxmemory-policy", "noeviction")
        with pytest.raises(redis.ResponseError, match="maxmemory"):
            for n in range(10_000):
                full.set(f"filler:{n}", b"x" * 1000)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@contextmanager
def redis_of_its_own(folder: Path) -> Iterator[RedisServer]:
    """A Redis a test may stop and start again (not the session's shared one), stopped after the block;
    the test is skipped when ``redis-server`` is not installed."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
