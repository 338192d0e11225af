"""``moodtape serve``: the web app on waitress in one process, HTTP or (``--certfile``) HTTPS."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from moodtape.cli._common import fail, info

if TYPE_CHECKING:
    from flask import Flask

    from moodtape.config import Settings
    from moodtape.web.app import Services
    from moodtape.web.buffered_server import BufferedServer
    from moodtape.web.draining import DrainWindow
    from moodtape.web.stopping import StopRequests


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: MOODTAPE_HOST, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="Port to listen on (default: MOODTAPE_PORT, 5000)."
)
@click.option("--certfile", type=click.Path(path_type=Path), help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--keyfile", type=click.Path(path_type=Path), help="TLS private key (PEM) for --certfile.")
@click.option(
    "--threads", type=click.IntRange(1, 256), default=None, help="Request threads (default: MOODTAPE_WORKERS, 4)."
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Server processes (default: MOODTAPE_PROCESSES, 1); more than 1 runs gunicorn (POSIX only).",
)
def serve(
    host: str | None,
    port: int | None,
    certfile: Path | None,
    keyfile: Path | None,
    threads: int | None,
    processes: int | None,
) -> None:
    """Serve the moodtape page and API; open the printed address in a browser."""
    if _processes(processes) > 1:
        # Before anything imports prometheus-client: it picks its multi-process mode on import.
        metrics_dir = fresh_metrics_dir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        from moodtape.errors import MoodtapeError
        from moodtape.web.multiprocess import serve_from_cli

        try:
            serve_from_cli(host, port, _processes(processes), threads, certfile, keyfile, metrics_dir)
        except (MoodtapeError, ValueError) as exc:
            fail(str(exc))
        return
    from moodtape.web.stopping import StopRequests

    # From the start: a Ctrl+C during start-up is seen at the next safe point below, never swallowed
    # by a library that catches every exception (web/stopping.py); a second one forces the way out.
    stops = StopRequests()
    stops.install()
    _serve_until_asked(_start_up(host, port, threads, certfile, keyfile, stops), stops)


#: Workers' metrics folders are named after the serving process: ``moodtape-metrics-<pid>-<random>``.
METRICS_PREFIX = "moodtape-metrics-"


def fresh_metrics_dir() -> Path:
    """A new temporary folder for the workers' metrics files, after removing this user's folders that
    servers stopped without a chance to clean up (SIGKILL, a power cut) left behind.

    A folder is left alone while the process named in it runs: that is another server's, in use.
    """
    for old in Path(tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*"):
        pid = old.name.removeprefix(METRICS_PREFIX).partition("-")[0]
        if pid.isdigit() and old.is_dir() and old.stat().st_uid == os.getuid() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-"))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class _Started(NamedTuple):
    """What start-up hands to serving."""

    server: BufferedServer
    services: Services
    url: str  # the address to print
    shutdown_seconds: int  # MOODTAPE_SHUTDOWN_SECONDS
    drain: DrainWindow  # MOODTAPE_DRAIN_SECONDS, with the app's drain mark
    app: Flask  # served, whose release note is forgotten at the stop (web/versions_here.py)


def _start_up(
    host: str | None,
    port: int | None,
    threads: int | None,
    certfile: Path | None,
    keyfile: Path | None,
    stops: StopRequests,
) -> _Started:
    """Build the app and bind its port; a signal meanwhile ends the command here, as "aborted"."""
    from moodtape.config import Settings
    from moodtape.web.app import create_app
    from moodtape.web.draining import DrainWindow, drain_mark
    from moodtape.web.logs import configure_logging
    from moodtape.web.server import is_loopback, make_server, server_url

    settings = Settings.load()
    host = host if host is not None else settings.get("MOODTAPE_HOST")
    port = port if port is not None else settings.get_int("MOODTAPE_PORT")
    threads = threads if threads is not None else settings.get_int("MOODTAPE_WORKERS")
    try:
        configure_logging(settings.get("MOODTAPE_LOG_FORMAT"))  # text (as before) or json
    except ValueError as exc:
        fail(str(exc))
    _claim_store_file(settings)  # before building the app: a refused instance stops at once
    app = create_app(settings)
    _share_state_across_instances(app, settings)
    _abort_if_asked(stops)
    server = make_server(app, host, port, threads=threads, certfile=certfile, keyfile=keyfile)
    try:
        server.prepare()  # binds the port now, so the address we print already answers
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc}); is another server using it? Try --port 5001")
    _abort_if_asked(stops, server)
    if certfile is None and not is_loopback(host):
        info(
            f"moodtape: warning: serving plain HTTP on {host}; browsers allow the camera only on localhost "
            "or HTTPS, so use --certfile/--keyfile or a reverse proxy with TLS (see docs/deployment.md)"
        )
    url = server_url(host, port, tls=certfile is not None)
    drain = DrainWindow(drain_mark(app), settings.get_int("MOODTAPE_DRAIN_SECONDS"))
    return _Started(server, app.extensions["moodtape"], url, settings.get_int("MOODTAPE_SHUTDOWN_SECONDS"), drain, app)


def _claim_store_file(settings: Settings) -> None:
    """Stop here when another instance serves from the same SQLite file and this one cannot share it.

    Two one-process instances on one data folder behind a balancer, without Redis, each kept a
    visit's lists in memory: a list made on one was a 404 "no such list" on the other.
    """
    from moodtape.store.serving_claim import FileServedElsewhereError, claim_store_file

    try:
        claim_store_file(settings, processes=1)
    except FileServedElsewhereError as exc:
        fail(str(exc))


def _share_state_across_instances(app: Flask, settings: Settings) -> None:
    """Keep a visit's lists and calibration in the store when other machines share it (PostgreSQL).

    Two one-process instances on one PostgreSQL behind a balancer, without Redis, each kept them in
    their own memory: every other request of a visit was a 404 "no such list".
    """
    from moodtape.web.multiprocess import share_state

    note = share_state(app, settings, processes=1)
    if note is not None:
        info(f"moodtape: {note}")


def _abort_if_asked(stops: StopRequests, server: BufferedServer | None = None) -> None:
    if not stops.asked:
        return
    if server is not None:
        server.stop()
    info("moodtape: aborted")
    sys.exit(130)


def _serve_until_asked(started: _Started, stops: StopRequests) -> None:
    """Serve until a signal; then answer the requests in flight and exit without a long teardown."""
    from moodtape.web.stopping import exit_if_native_threads_run, ignore_stop_signals, start_warming
    from moodtape.web.versions_here import forget_release

    server = started.server
    start_warming(started.services, warn=lambda message: info(f"moodtape: warning: {message}"))
    stops.serving(server.wake)
    try:
        click.echo(f"moodtape is running at {started.url} — press Ctrl+C to stop", err=True)
        server.serve(until=lambda: stops.asked)
        if stops.first == signal.SIGTERM and started.drain.begin():
            _serve_while_draining(server, started.drain, stops)
        if stops.asked:
            info("moodtape: stopping")
            _finish_in_flight(server, started.shutdown_seconds, stops)
    finally:
        ignore_stop_signals()  # a further signal must not interrupt the clean-up itself
        # Bounded: stalled uploads are closed at once and a running request gets a few seconds
        # (web/buffered_server.py); the worker threads are daemons, so exiting never waits on one.
        still_running = server.stop()
        forget_release(started.app)  # the drain is over, or there was none: no other instance must defer to this one
        # Exiting tears down the model, OpenCV and SQLAlchemy, and the final garbage collection
        # walks every object: under CPU contention that took seconds (benchmarks/serve_stop.py).
        # Nothing left needs collecting before exit; freezing skips that walk (atexit still runs,
        # unless a thread is still in native code: see web/stopping.py).
        gc.freeze()
    exit_if_native_threads_run(still_running)


def _serve_while_draining(server: BufferedServer, drain: DrainWindow, stops: StopRequests) -> None:
    """Serve as usual (``/readyz`` now says 503) until the drain window is over or another signal comes.

    The port stays open meanwhile: a balancer sends new requests until its checks have failed
    often enough, and those must still be answered (web/draining.py).
    """
    info(f"moodtape: {drain.announcement()}")
    timer = threading.Timer(drain.left(), server.wake)  # the loop waits on sockets up to 1 s a turn
    timer.daemon = True
    timer.start()
    try:
        server.serve(until=lambda: stops.count > 1 or drain.over())
    finally:
        timer.cancel()


def _processes(given: int | None) -> int:
    from moodtape.config import Settings

    return given if given is not None else max(1, Settings.load().get_int("MOODTAPE_PROCESSES"))


def _finish_in_flight(server: BufferedServer, seconds: int, stops: StopRequests) -> None:
    """Answer the requests in flight (new connections are refused) for up to ``seconds``.

    A person waiting on an analysis or a list gets it rather than a reset connection; a second
    Ctrl+C (or SIGTERM) stops waiting at once.
    """
    if server.close_idle():
        info(f"moodtape: answering the requests in flight (up to {seconds} s; Ctrl+C again to stop now)")
    if server.drain(seconds, until=lambda: stops.count > 1) and stops.count > 1:
        info("moodtape: stopping now")
