"""``moodtape serve``: the web app on waitress in one process, HTTP or (``--certfile``) HTTPS."""

from __future__ import annotations

import gc
import os
import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from moodtape.cli._common import fail, info

if TYPE_CHECKING:
    from moodtape.web.app import Services


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
    threading.Thread(target=_warm, args=(services,), name="moodtape-warm", daemon=True).start()
    # Both set explicitly: a server started from a script with `&` inherits SIGINT as ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    click.echo(f"moodtape is running at {server_url(host, port, tls=tls)} — press Ctrl+C to stop", err=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        info("moodtape: stopping")
    finally:
        # Bounded: stalled uploads are closed at once and a running request gets a few seconds
        # (web/buffered_server.py); the worker threads are daemons, so exiting never waits on one.
        server.stop()
        # Exiting tears down the model, OpenCV and SQLAlchemy, and the final garbage collection
        # walks every object: under CPU contention that took seconds (benchmarks/serve_stop.py).
        # Nothing left needs collecting before exit; freezing skips that walk (atexit still runs).
        gc.freeze()


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
    # Ignore repeats while stopping: a second signal must not interrupt the clean-up itself.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt
