"""``moodtape serve --processes N``: the app on gunicorn, N worker processes of ``--threads`` threads.

Why gunicorn: one Python process uses about one core for the model and the detector (the GIL and
ONNX Runtime's own threads), so a machine with more cores needs more processes; gunicorn is the
well-kept POSIX pre-fork server for that. It does not run on Windows: there, run one ``moodtape
serve`` per port behind the balancer (docs/deployment.md).

- **The app** is created once in the master before forking (cheap: nothing loads at creation), so
  every worker shares its secret key; each worker then loads the model itself after the fork, in
  the background (``post_fork``), so no ONNX Runtime session crosses a fork.
- **ONNX Runtime threads** default to ``cores // N`` per worker (at least 1) unless
  ``MOODTAPE_THREADS`` is set, so the workers do not fight over cores.
- **Shutdown.** SIGTERM and SIGINT (Ctrl+C) both stop gracefully: the master stops accepting,
  tells each worker to finish its requests in flight within ``MOODTAPE_SHUTDOWN_SECONDS``
  (gunicorn's ``graceful_timeout``), kills what is left after that, and exits 0. With
  ``MOODTAPE_DRAIN_SECONDS``, a SIGTERM first drains (``web/draining.py``): the master sets the
  drain mark the workers share, so their ``/readyz`` says 503 while they serve on, and begins
  gunicorn's stop once the window is over; the graceful timeout then counts from there, as
  before. A second SIGTERM or SIGINT during the window is gunicorn's quick stop (SIGQUIT to the
  workers, which close at once). gunicorn installs its handlers explicitly, so a SIGINT
  that the parent shell ignored (``nohup``, ``&``) still stops it; workers treat SIGINT like SIGTERM
  (a terminal sends Ctrl+C to the whole process group) instead of gunicorn's immediate exit.
- **Metrics** of all workers are added up through ``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary
  folder that ``moodtape serve`` sets before importing this module, removed on exit.
- **Slow clients.** Each worker is :class:`~moodtape.web.gunicorn_worker.BufferedWorker`: the
  one-process server's event loop on the sockets gunicorn binds, so a request is read whole (TLS
  handshake included, with ``--certfile``) before a thread runs the app, and a client trickling its
  upload costs a socket, never a thread. Limits and JSON refusals are the one-process server's;
  ``benchmarks/slow_clients.py`` and docs/deployment.md have the measurement.
- **A replacement worker** (one died: OOM, ``kill -9``) takes no connection while its model loads
  if a sibling is ready, so ``/readyz`` stays 200 for an instance that can serve: the master keeps
  the board of ready workers (:class:`~moodtape.web.worker_board.WorkerBoard`), handing each
  worker a slot before its fork and taking it back when the worker exits.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodtape.errors import MoodtapeError
from moodtape.web.ratelimit_processes import share_limit_between_processes

if TYPE_CHECKING:
    from flask import Flask

    from moodtape.config import Settings
    from moodtape.web.worker_board import WorkerBoard


class MultiprocessUnavailableError(MoodtapeError):
    """``--processes`` above 1 where gunicorn cannot run."""

    status = 500
    code = "multiprocess_unavailable"


def ort_threads(processes: int, cores: int | None = None) -> int:
    """ONNX Runtime threads per worker so that ``processes`` workers share the cores: at least 1."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, cores // max(1, processes))


def serve_from_cli(
    host: str | None,
    port: int | None,
    processes: int,
    threads: int | None,
    certfile: Path | None,
    keyfile: Path | None,
    metrics_dir: Path,
) -> None:
    """What ``moodtape serve --processes N`` (N > 1) runs: settings, logging, app, gunicorn.

    ``PROMETHEUS_MULTIPROC_DIR`` must name ``metrics_dir`` before anything imports
    prometheus-client (``moodtape.web`` does), so the caller sets it; it is removed on exit.
    """
    import click

    from moodtape.config import Settings
    from moodtape.store.serving_claim import claim_store_file
    from moodtape.web.logs import configure_logging

    _check_platform()
    overrides = {}
    if "MOODTAPE_THREADS" not in os.environ and not _in_dotenv("MOODTAPE_THREADS"):
        overrides["MOODTAPE_THREADS"] = str(ort_threads(processes))
    settings = Settings.load(overrides)
    configure_logging(settings.get("MOODTAPE_LOG_FORMAT"))
    from moodtape.web.app import create_app

    host = host if host is not None else settings.get("MOODTAPE_HOST")
    port = port if port is not None else settings.get_int("MOODTAPE_PORT")
    threads = threads if threads is not None else settings.get_int("MOODTAPE_WORKERS")
    claim_store_file(settings, processes)  # before building the app: a refused instance stops at once
    app = create_app(settings)
    scheme = "https" if certfile else "http"
    shown = f"[{host}]" if ":" in host else host

    warning = share_state(app, settings, processes)
    if warning:
        click.echo(f"moodtape: {warning}", err=True)

    def ready() -> None:
        click.echo(
            f"moodtape is running at {scheme}://{shown}:{port}/ with {processes} processes of {threads} threads "
            f"(ONNX Runtime {settings.get('MOODTAPE_THREADS')} threads each) — press Ctrl+C to stop",
            err=True,
        )

    master = os.getpid()
    try:
        serve_processes(
            app,
            settings,
            host=host,
            port=port,
            processes=processes,
            threads=threads,
            certfile=certfile,
            keyfile=keyfile,
            on_ready=ready,
        )
    finally:
        # A worker is a fork of this call: its exit (SystemExit) passes through here too. Only the
        # master removes the folder; a worker that did (replaced on SIGHUP, or after a timeout)
        # left the others failing every request on their missing metrics files.
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def share_state(app: Flask, settings: Settings, processes: int) -> str | None:
    """Make processes and machines without Redis share session lists and calibrations through the store.

    gunicorn hands each connection to any process, so a session's lists (export, undo, feedback on
    a row) and its calibration must not live in one process's memory (404 "no such list" on the
    next request otherwise): with ``MOODTAPE_REDIS_URL`` they are in Redis, else they go to the
    store's ``short_lived`` table (``moodtape.store.short_lived``). The same holds for one process
    on PostgreSQL, the database several machines share (:func:`shares_a_database`): two one-process
    instances on one PostgreSQL behind HAProxy, without Redis, each kept a visit's lists in its own
    memory, and every other request of the visit was a 404 "no such list". Returns the start-up
    warning for what still stays per process, or None.

    The live services' pauses (a 429, refused credentials) are shared by the ``processes`` in
    memory, with Redis or without: worker 2 asked Spotify again while worker 1 knew it was paused.
    """
    if processes > 1:  # before forking, like the rate limit's table below
        app.extensions["moodtape"].share_pauses_between_processes()
    if settings.get("MOODTAPE_REDIS_URL").strip():
        return None
    if processes <= 1 and not shares_a_database(settings):
        return None
    app.extensions["moodtape"].share_state_in_store()
    if processes > 1:
        # Before forking: the workers inherit one table of counts (each counted its own: 3× the limit with 3).
        share_limit_between_processes(app.extensions.get("limiter"))
        return (
            f"note: without MOODTAPE_REDIS_URL the {processes} processes share session lists and calibrations "
            "through the store and their rate-limit counts and live services' pauses in shared memory, "
            "but each process keeps its own "
            "provider answer caches and live-stream smoothing; set MOODTAPE_REDIS_URL to share those too "
            "(docs/deployment.md)"
        )
    return (
        "note: without MOODTAPE_REDIS_URL the instances on this database share session lists and calibrations "
        "through the store, but each instance keeps its own rate-limit counters (so a client may get "
        "one MOODTAPE_RATE_LIMIT per instance), provider answer caches and live-stream smoothing; "
        "set MOODTAPE_REDIS_URL to share those too (docs/deployment.md)"
    )


def shares_a_database(settings: Settings) -> bool:
    """Whether the store is a server other machines may use too (PostgreSQL), not a file of this machine."""
    from moodtape.store import database_url
    from moodtape.store.database import engine_url

    return engine_url(database_url(settings)).get_backend_name() == "postgresql"


def _in_dotenv(name: str) -> bool:
    from moodtape.config import read_dotenv

    dotenv = Path(".env")
    return dotenv.is_file() and name in read_dotenv(dotenv)


def _check_platform() -> None:
    if sys.platform == "win32":
        raise MultiprocessUnavailableError(
            "--processes needs gunicorn, which runs only on Linux and macOS; on Windows run one "
            "moodtape serve per port behind a balancer (see docs/deployment.md)"
        )


def serve_processes(
    app: Flask,
    settings: Settings,
    *,
    host: str,
    port: int,
    processes: int,
    threads: int,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    on_ready: Any = None,
) -> None:
    """Run ``app`` on gunicorn until SIGTERM or SIGINT; returns after a graceful stop.

    Raises:
        MultiprocessUnavailableError: not on POSIX, or gunicorn is not installed.
        DataError: only one of ``certfile``/``keyfile`` given, or they are missing or unusable.
    """
    _check_platform()
    try:
        from gunicorn.app.base import BaseApplication
        from gunicorn.arbiter import Arbiter

        from moodtape.web.gunicorn_worker import SILENT_WORKER_SECONDS, worker_class
        from moodtape.web.worker_board import WorkerBoard
    except ImportError:
        raise MultiprocessUnavailableError(
            "--processes needs gunicorn: pip install 'gunicorn>=22' (it comes with moodtape on POSIX)"
        ) from None
    from moodtape.web.draining import DrainWindow, drain_mark
    from moodtape.web.tls_channel import https_context
    from moodtape.web.versions_here import forget_release

    services = app.extensions.get("moodtape")
    if services is not None:  # each worker's bound on threads waiting on the database (forked with it)
        services.set_request_threads(max(1, threads))
    drain = DrainWindow(drain_mark(app), settings.get_int("MOODTAPE_DRAIN_SECONDS"))
    board = WorkerBoard()  # before any fork: shared with every worker

    class _Arbiter(Arbiter):  # type: ignore[misc]
        def handle_term(self) -> None:
            """SIGTERM: the drain first, when there is one; gunicorn's graceful stop after it."""
            if drain.begin():
                self.log.info("%s", drain.announcement())
                return
            self._quick_stop_if_draining()
            raise StopIteration

        def handle_int(self) -> None:
            """Ctrl+C stops gracefully, like SIGTERM (gunicorn's default is an immediate stop), but never drains."""
            self._quick_stop_if_draining()
            raise StopIteration

        def _quick_stop_if_draining(self) -> None:
            if drain.began:  # a second signal during the drain: stop at once
                self.log.info("stopping now")
                self.stop(graceful=False)

        def manage_workers(self) -> None:
            """Also ends the drain: every gunicorn version calls this after each wait (1 s at most) of its loop."""
            super().manage_workers()
            if drain.over():
                raise StopIteration  # the loop's own way into halt(): gunicorn's graceful stop

    options: dict[str, Any] = {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": processes,
        # waitress's event loop in each worker: whole requests read before a thread runs the app.
        # The TLS context is made (and checked) once here in the master, and shared by the workers.
        "worker_class": worker_class(https_context(certfile, keyfile), board),
        "threads": max(1, threads),
        "graceful_timeout": max(1, settings.get_int("MOODTAPE_SHUTDOWN_SECONDS")),
        "timeout": SILENT_WORKER_SECONDS,  # a worker whose event loop is silent this long (stuck) is replaced
        "preload_app": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "moodtape",
        **_board_hooks(board, master=os.getpid()),
        "post_fork": _post_fork,
        "post_worker_init": _post_worker_init,
        "when_ready": (lambda _server: on_ready()) if on_ready else None,
        # gunicorn 23+: no control socket (one per user by default, so two servers would clash).
        "control_socket_disable": True,
    }

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                if value is not None and name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self) -> Flask:
            return app

        def run(self) -> None:
            _Arbiter(self).run()

    try:
        _Application().run()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    finally:
        forget_release(app)  # the workers are gone: no other instance must defer to this one (web/versions_here.py)


def _post_fork(_server: Any, worker: Any) -> None:
    """In each new worker: load the model in the background so its first request does not wait."""
    from moodtape.web.stopping import start_warming

    start_warming(worker.app.wsgi().extensions["moodtape"])


def _post_worker_init(worker: Any) -> None:
    # A terminal's Ctrl+C reaches every process of the group: let the master lead a graceful stop.
    signal.signal(signal.SIGINT, worker.handle_exit)


def _board_hooks(board: WorkerBoard, master: int) -> dict[str, Callable[[Any, Any], None]]:
    """gunicorn's hooks that keep ``board`` (which workers are ready) true to the workers alive.

    ``pre_fork`` gives each new worker a slot, in the master before the fork; ``child_exit`` frees
    it once the master has reaped the worker; ``worker_exit`` frees it too when it runs in the
    ``master`` (gunicorn's ``kill_worker`` found the worker gone without reaping it): in a worker,
    on its own way out, it leaves the slot to ``child_exit``.
    """

    def claim_slot(_server: Any, worker: Any) -> None:
        worker.slot = board.claim()

    def worker_gone(server: Any, worker: Any) -> None:
        _worker_gone(board, server, worker)

    def worker_exit(_server: Any, worker: Any) -> None:
        if os.getpid() == master:
            board.release(worker.slot)

    return {"pre_fork": claim_slot, "child_exit": worker_gone, "worker_exit": worker_exit}


def _worker_gone(board: WorkerBoard, server: Any, worker: Any) -> None:
    """In the master, once a worker has exited: its slot on the board is free, whatever else fails.

    Freed first: were the metrics' clean-up (:func:`_child_exit`) to raise, a slot left marked
    ready would make every later replacement wait for a sibling that is gone.
    """
    try:
        board.release(worker.slot)
    finally:
        _child_exit(server, worker)


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


__all__ = ["MultiprocessUnavailableError", "ort_threads", "serve_processes", "share_state", "shares_a_database"]
