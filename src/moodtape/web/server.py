"""Running the app in one process: waitress for plain HTTP, cheroot for HTTPS with ``--certfile``.

Plain HTTP (the default, and what a reverse proxy talks to) goes through
:class:`~moodtape.web.buffered_server.BufferedServer`: an event loop reads whole requests before
a worker thread runs the app, so slow clients cannot tie up the threads. waitress has no TLS, so
HTTPS straight from moodtape (``--certfile``/``--keyfile``, handy on a home network) uses cheroot's
built-in TLS adapter, with a thread per connection being read: there a reverse proxy is the way to
resist slow clients (docs/deployment.md). Both objects have ``prepare()`` (bind now), ``serve()``
and ``stop()``.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import Final

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask

from moodtape.errors import DataError
from moodtape.web.buffered_server import BufferedServer

#: cheroot refuses bodies above this many bytes itself; the app's own 413 (JSON) must come first.
SERVER_BODY_HEADROOM: Final[int] = 1024 * 1024


def make_server(
    app: Flask,
    host: str,
    port: int,
    *,
    threads: int = 4,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> BufferedServer | wsgi.Server:
    """A server for ``app``, not yet bound (call ``prepare()`` to bind, ``serve()`` to run, ``stop()``)."""
    if (certfile is None) != (keyfile is None):
        raise DataError("HTTPS needs both --certfile and --keyfile")
    if certfile is None:
        return BufferedServer(app, host, port, threads=threads)
    server = wsgi.Server((host, port), app, numthreads=max(1, threads), server_name="moodtape")
    max_upload = int(app.config.get("MAX_CONTENT_LENGTH") or 0)
    server.max_request_body_size = 2 * max_upload + SERVER_BODY_HEADROOM if max_upload else 0
    if certfile is not None and keyfile is not None:
        for label, path in (("certificate", certfile), ("key", keyfile)):
            if not path.is_file():
                raise DataError(f"the TLS {label} file {path} does not exist")
        try:
            server.ssl_adapter = BuiltinSSLAdapter(str(certfile), str(keyfile))
        except (ssl.SSLError, OSError) as exc:
            raise DataError(f"cannot use {certfile} and {keyfile} for HTTPS ({exc}); are both PEM files?") from None
    return server


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
