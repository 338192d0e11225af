"""Running the app in one process: waitress for HTTP, and for HTTPS with ``--certfile``/``--keyfile``.

Both go through :class:`~moodtape.web.buffered_server.BufferedServer`: an event loop reads whole
requests before a worker thread runs the app, so slow clients cannot tie up the threads. HTTPS
adds TLS inside each connection on that same loop (:mod:`moodtape.web.tls_channel`), so the
handshake is read the same way and every limit holds for both. The server has ``prepare()`` (bind
now), ``serve()`` and ``stop()``.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from flask import Flask

from moodtape.web.buffered_server import BufferedServer


def make_server(
    app: Flask,
    host: str,
    port: int,
    *,
    threads: int = 4,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> BufferedServer:
    """A server for ``app``, not yet bound (call ``prepare()`` to bind, ``serve()`` to run, ``stop()``).

    Raises:
        DataError: only one of ``certfile``/``keyfile`` given, or they are missing or unusable.
    """
    from moodtape.web.tls_channel import https_context

    services = app.extensions.get("moodtape")
    if services is not None:  # the bound on threads waiting on the database follows the real count
        services.set_request_threads(threads)
    return BufferedServer(app, host, port, threads=threads, tls=https_context(certfile, keyfile))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_url(host: str, port: int, *, tls: bool) -> str:
    """The address to open in a browser (``0.0.0.0`` and ``::`` shown as loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"{'https' if tls else 'http'}://{shown}:{port}/"
