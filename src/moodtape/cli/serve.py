"""``moodtape serve``: the web app on waitress in one process, HTTP or (``--certfile``) HTTPS."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from moodtape.cli._common import fail, info

if TYPE_CHECKING:
    from moodtape.web.app import Services
    from moodtape.web.buffered_server import BufferedServer


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
        metrics_dir = Path(tempfile.mkdtemp(prefix="moodtape-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        from moodtape.errors import MoodtapeError
        from moodtape.web.multiprocess import serve_from_cli

        try:
            serve_from_cli(host, port, _processes(processes), threads, certfile, keyfile, metrics_dir)
        except (MoodtapeError, ValueError) as exc:
            fail(str(exc))
        return
    from moodtape.config import Settings
    from moodtape.web.app import create_app
    from moodtape.web.server import is_loopback, make_server, server_url

    settings = Settings.load()
    host = host if host is not None else settings.get("MOODTAPE_HOST")
    port = port if port is not None else settings.get_int("MOODTAPE_PORT")
    threads = threads if threads is not None else settings.get_int("MOODTAPE_WORKERS")
    from moodtape.web.logs import configure_logging

    try:
        configure_logging(settings.get("MOODTAPE_LOG_FORMAT"))  # text (as before) or json
    except ValueError as exc:
        fail(str(exc))
    app = create_app(settings)
    server = make_server(app, host, port, threads=threads, certfile=certfile, keyfile=keyfile)
    try:
        server.prepare()  # binds the port now, so the address we print already answers
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc}); is another server using it? Try --port 5001")
    tls = certfile is not None
    if not tls and not is_loopback(host):
        info(
            f"moodtape: warning: serving plain HTTP on {host}; browsers allow the camera only on localhost "
            "or HTTPS, so use --certfile/--keyfile or a reverse proxy with TLS (see docs/deployment.md)"
        )
    services: Services = app.extensions["moodtape"]
    warm = threading.Thread(target=_warm, args=(services,), name="moodtape-warm", daemon=True)
    warm.start()
    # Both set explicitly: a server started from a script with `&` inherits SIGINT as ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        # Inside: a signal that comes while the line is still being written stops the server too.
        click.echo(f"moodtape is running at {server_url(host, port, tls=tls)} — press Ctrl+C to stop", err=True)
        server.serve()
    except KeyboardInterrupt:
        info("moodtape: stopping")
        _finish_in_flight(server, settings.get_int("MOODTAPE_SHUTDOWN_SECONDS"))
    finally:
        _ignore_signals()  # a further signal must not interrupt the clean-up itself
        # Bounded: stalled uploads are closed at once and a running request gets a few seconds
        # (web/buffered_server.py); the worker threads are daemons, so exiting never waits on one.
        still_running = server.stop()
        # Exiting tears down the model, OpenCV and SQLAlchemy, and the final garbage collection
        # walks every object: under CPU contention that took seconds (benchmarks/serve_stop.py).
        # Nothing left needs collecting before exit; freezing skips that walk (atexit still runs,
        # unless a thread is still in native code: see _exit_without_teardown).
        gc.freeze()
    if still_running or warm.is_alive():
        _exit_without_teardown()


def _warm(services: Services) -> None:
    """Load the model and catalog in the background so the first analysis does not wait."""
    from moodtape.errors import MoodtapeError

    try:
        services.warm()
    except MoodtapeError as exc:
        info(f"moodtape: warning: {exc}")


def _processes(given: int | None) -> int:
    from moodtape.config import Settings

    return given if given is not None else max(1, Settings.load().get_int("MOODTAPE_PROCESSES"))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _ignore_signals()  # until the next stage of stopping says otherwise
    raise KeyboardInterrupt


def _ignore_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _finish_in_flight(server: BufferedServer, seconds: int) -> None:
    """Answer the requests in flight (new connections are refused) for up to ``seconds``.

    A person waiting on an analysis or a list gets it rather than a reset connection; a second
    Ctrl+C (or SIGTERM) stops waiting at once.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    if server.close_idle():
        info(f"moodtape: answering the requests in flight (up to {seconds} s; Ctrl+C again to stop now)")
    try:
        server.drain(seconds)
    except KeyboardInterrupt:
        info("moodtape: stopping now")


def _exit_without_teardown() -> None:
    """Exit now, skipping the interpreter's teardown of modules.

    A thread still inside native code (the model loading at start-up, a request past the grace)
    while the interpreter tears down makes the C++ runtime abort the process ("terminate called
    without an active exception", exit -6). Logs and output are flushed first; nothing else is
    pending (every write to the database is committed by its request).
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
