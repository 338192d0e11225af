"""Real services for tests, started from Debian's packages in temporary folders on free ports.

PostgreSQL 15 (``apt-get install postgresql``): the programs live in ``/usr/lib/postgresql/15/bin``
(not on PATH), and ``initdb``/``postgres`` refuse to run as root, so under root (CI) they run as
the ``postgres`` user the package creates, in a folder that user owns, with the socket in that
folder (``-k``). Tests that need a server take the ``postgres`` fixture (one server for the whole
run, a fresh database per test) or ``make_postgres`` (a private server they may stop and start);
both skip with a reason when the programs are missing.

Reusable: import :class:`PostgresServer` / :func:`postgres_bin` from here, or use the fixtures in
``tests/conftest.py``.

``moodtape serve`` itself, as a real process (signals, gunicorn, a benchmark's load): :func:`start_serve`
then :func:`wait_ready`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

import httpx

POSTGRES_VERSIONS: Final[tuple[str, ...]] = ("15", "16", "17", "14")
_USER: Final[str] = "moodtape"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports: all are held until all are chosen, so no two can be the same
    (one at a time, the kernel may hand out a port it just gave back)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def answer_head(sock: socket.socket) -> bytes:
    """The head of the next answer on ``sock`` (its body, framed by ``Content-Length``, read past),
    or b"" when the server closed or reset the connection first: what a client of a stopping
    server meets instead of an answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            more = sock.recv(65536)
        except ConnectionResetError:
            return b""
        if not more:
            return b""
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def wait_until(condition: Callable[[], bool], seconds: float, every: float = 0.1) -> bool:
    """Ask ``condition`` every ``every`` seconds until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def start_serve(
    folder: Path,
    port: int,
    *options: str,
    settings: Mapping[str, str] | None = None,
    log: Path | None = None,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.Popen[str]:
    """Start ``moodtape serve --port PORT *options`` on 127.0.0.1 and return at once (see :func:`wait_ready`).

    It runs with this interpreter (the venv's moodtape, whatever PATH says), in ``folder``, which is
    its data folder too, offline (no test reaches the network; ``settings`` may say otherwise), with
    ``settings`` added to this process's environment. Its output goes to ``log`` (appended, stdout
    and stderr), or when there is none its stderr is piped as text for ``communicate()``: only for
    a test that reads it at the end (a pipe nobody reads stalls a server that writes much).
    """
    environ = {**os.environ, "MOODTAPE_DATA_DIR": str(folder), "MOODTAPE_OFFLINE": "true", **(settings or {})}
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve", "--port", str(port), *options]
    if log is None:
        return subprocess.Popen(
            command, env=environ, cwd=folder, stderr=subprocess.PIPE, text=True, preexec_fn=preexec_fn
        )
    with log.open("ab") as sink:
        return subprocess.Popen(
            command, env=environ, cwd=folder, stdout=sink, stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn
        )


def wait_ready(
    url: str, process: subprocess.Popen[str], seconds: float, log: Path | None = None, *, in_a_row: int = 1
) -> None:
    """Ask ``url``'s ``/readyz`` until it answers 200 ``in_a_row`` times running (the model loads
    first, so this takes seconds).

    Each question is a new connection, which any of the server's processes may take: several 200s
    in a row say that every process has loaded the model, not just the first. An ``https`` URL's
    certificate is not checked (a test's own, self-signed): this asks only whether it is ready.

    Raises:
        AssertionError: the server exited first (with its ``log``, or its piped stderr), or was not
            ready within ``seconds`` (with the end of its ``log``, when it has one: a running
            server's pipe cannot be read without waiting for its end).
    """
    deadline, ready = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace") if log else process.communicate()[1]
            raise AssertionError(f"the server exited ({process.returncode}) before it was ready:\n{said}")
        try:
            ready = ready + 1 if httpx.get(f"{url}/readyz", timeout=2, verify=False).status_code == 200 else 0
        except httpx.TransportError:
            ready = 0
        if ready >= in_a_row:
            return
        time.sleep(0.1)
    said = log.read_text(errors="replace")[-3000:] if log else ""
    raise AssertionError(f"never ready within {seconds:g} s:\n{said}")


def postgres_bin() -> Path | None:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres``, or None when PostgreSQL is not installed."""
    configured = os.environ.get("MOODTAPE_TEST_PG_BIN")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(f"/usr/lib/postgresql/{v}/bin") for v in POSTGRES_VERSIONS]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def missing_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if postgres_bin() is None:
        return "PostgreSQL is not installed (apt-get install postgresql; binaries in /usr/lib/postgresql/15/bin)"
    if os.geteuid() == 0 and _postgres_uid() is None:
        return "running as root but there is no 'postgres' user to run PostgreSQL as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install 'moodtape[postgres]')"
    return None


def _postgres_uid() -> tuple[int, int] | None:
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, listening on 127.0.0.1:``port``.

    Use :meth:`start`, :meth:`stop` (fast shutdown, as a crash or a restart would look to
    clients) and :meth:`cleanup`; :meth:`create_database` gives each test its own database.
    """

    def __init__(self) -> None:
        folder = postgres_bin()
        if folder is None:
            raise RuntimeError(missing_reason() or "PostgreSQL is not installed")
        self.bin = folder
        self.port = free_port()
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="moodtape-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._owner = _postgres_uid() if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(self.root, *self._owner)
        self._run("initdb", "-D", str(self.data), "-U", _USER, "--auth=trust", "-E", "UTF8", "--no-locale")

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60, cwd=self.root)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # Tests need speed, not crash safety of the test cluster itself.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            self._run("pg_ctl", "start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.log), "-o", options)
        except subprocess.CalledProcessError as error:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from error

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as when a database restarts."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-t", "30", "-m", "fast", "-D", str(self.data))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # name made above: letters, digits, _
        return self.url(name)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
