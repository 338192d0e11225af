"""``moodtape serve``: the web app on a real WSGI server (cheroot), HTTP or HTTPS."""

from __future__ import annotations

import logging
import signal
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
@click.option("--port", type=int, default=None, help="Port to listen on (default: MOODTAPE_PORT, 5000).")
@click.option("--certfile", type=click.Path(path_type=Path), help="TLS certificate (PEM) to serve HTTPS.")
@click.option("--keyfile", type=click.Path(path_type=Path), help="TLS private key (PEM) for --certfile.")
@click.option("--threads", type=int, default=None, help="Request threads (default: MOODTAPE_WORKERS, 4).")
def serve(host: str | None, port: int | None, certfile: Path | None, keyfile: Path | None, threads: int | None) -> None:
    """Serve the moodtape page and API; open the printed address in a browser."""
    from moodtape.config import Settings
    from moodtape.web.app import create_app
    from moodtape.web.server import is_loopback, make_server, server_url

    settings = Settings.load()
    host = host if host is not None else settings.get("MOODTAPE_HOST")
    port = port if port is not None else settings.get_int("MOODTAPE_PORT")
    threads = threads if threads is not None else settings.get_int("MOODTAPE_WORKERS")
    logging.basicConfig(level=logging.INFO, format="moodtape: %(levelname)s: %(message)s")
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
    warming = threading.Thread(target=_warm, args=(services,), name="moodtape-warm", daemon=True)
    warming.start()
    signal.signal(signal.SIGTERM, _interrupt)
    click.echo(f"moodtape is running at {server_url(host, port, tls=tls)} — press Ctrl+C to stop", err=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        info("moodtape: stopping")
    finally:
        server.stop()
        # A Ctrl+C during start-up can come while the warm-up thread is still importing ONNX
        # Runtime; exiting under it can deadlock on the import lock, so let it finish first.
        warming.join(timeout=WARM_JOIN_SECONDS)


WARM_JOIN_SECONDS = 15.0


def _warm(services: Services) -> None:
    """Load the model and catalog in the background so the first analysis does not wait."""
    from moodtape.errors import MoodtapeError

    try:
        services.warm()
    except MoodtapeError as exc:
        info(f"moodtape: warning: {exc}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
