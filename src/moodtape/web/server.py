"""Running the app under cheroot, CherryPy's production WSGI server (pure Python, HTTP and HTTPS).

One server object serves plain HTTP on loopback (browsers allow the camera on ``localhost``) or
HTTPS with a certificate and key, through cheroot's built-in TLS adapter (Python's ``ssl``).
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
) -> wsgi.Server:
    """A cheroot server for ``app``, not yet bound (call ``prepare()`` to bind, ``serve()`` to run)."""
    if (certfile is None) != (keyfile is None):
        raise DataError("HTTPS needs both --certfile and --keyfile")
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
