"""``OPTIONS *``: a question about the server as a whole, answered by the server, not a route.

RFC 9112 §3.2.4 has ``OPTIONS *`` ask what the server can do rather than what one resource can
(clients and proxies send it to probe a server, e.g. ``curl -X OPTIONS --request-target '*'``).
waitress hands ``*`` to the app as the path, and Flask answered 404 "nothing here", as if the
server did not exist. Now it is a 200 with no body and an ``Allow`` header listing every method
some route takes (RFC 9110 §9.3.7), with the usual security headers (HSTS over this server's own
TLS).

Answered before the app, it has none of what the app's hooks add: no ``X-Request-ID``, no line in
the request log or the metrics, and no HSTS when HTTPS ends at a proxy in front.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from flask import Flask

from moodtape.web.hosts import one_host
from moodtape.web.security import HSTS, SECURITY_HEADERS

#: What waitress gives as the path of the target ``*`` (and of an absolute-form target with no
#: path in an ``OPTIONS``, which RFC 9112 §3.2.4 makes the same question).
SERVER_WIDE: Final[str] = "*"

StartResponse = Callable[..., Any]


def server_methods(app: Flask) -> str:
    """Every method some route of ``app`` takes, for ``Allow`` (``DELETE, GET, HEAD, ...``)."""
    methods: set[str] = {"OPTIONS"}
    for rule in app.url_map.iter_rules():
        methods |= set(rule.methods or ())
    return ", ".join(sorted(methods))


def asks_about_the_server(environ: dict[str, Any]) -> bool:
    """Whether the request is ``OPTIONS *`` with a usable ``Host``: an HTTP/1.1 one without ``Host``,
    or with a bad one, goes on to the app, whose 400 says so (web/hosts.py), as for any target."""
    if environ.get("REQUEST_METHOD") != "OPTIONS" or environ.get("PATH_INFO") != SERVER_WIDE:
        return False
    host = environ.get("HTTP_HOST")
    if host is None:
        return environ.get("SERVER_PROTOCOL") == "HTTP/1.0"
    return one_host(host)


def _security_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The security headers the app's answers have (web/app.py), HSTS over HTTPS included.

    HTTPS is this server's own TLS only: this answer comes before the app, so before its trusted
    proxies' ``X-Forwarded-Proto`` is read (web/proxies.py); behind such a proxy, the proxy's HSTS
    is what the browser gets."""
    headers = list(SECURITY_HEADERS.items())
    if environ.get("wsgi.url_scheme") == "https":
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def answering_server_wide_options(app: Flask) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """``app`` as a WSGI application that answers ``OPTIONS *`` itself (see the module docstring)."""
    allow = server_methods(app)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if asks_about_the_server(environ):
            start_response("200 OK", [("Allow", allow), ("Content-Length", "0"), *_security_headers(environ)])
            return [b""]
        answer: Iterable[bytes] = app(environ, start_response)
        return answer

    return application
