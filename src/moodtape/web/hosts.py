"""The ``Host`` header: checked as RFC 9112 asks, never reflected in a redirect, loopback for loopback pages.

- **400 for a bad Host.** An HTTP/1.1 request without ``Host``, with two (waitress joins them as
  ``a, b``) or with one that is no host name or address with an optional port (``Host: a b``)
  gets a JSON 400, as RFC 9112 §3.2 asks. An empty ``Host`` is allowed (the RFC's form for a
  target without an authority), and HTTP/1.0 needs none.
- **Redirects name no host.** Routing sends ``/api//config`` to ``/api/config`` (Werkzeug merges
  slashes) with a 308; its ``Location`` used to be absolute, built from the request's ``Host``, so
  ``Host: evil.example`` came back as ``Location: http://evil.example/api/config``, with an HTML
  body. Now the ``Location`` is the path alone (``/api/config``, query kept), which a client
  resolves against the address it asked, and the body is the API's JSON shape.
- **Leading slashes too.** waitress (in ``PATH_INFO``) and Werkzeug (in ``request.path``) both
  make the slashes a path begins with one before it routes, so
  ``//privacy``, ``//api/config`` and ``//metrics`` were answered 200 as their one-slash paths,
  while ``/api//config`` got the 308: a proxy rule or a cache keyed on the path (``path_beg /api/``,
  ``location = /metrics``) saw another path than moodtape served. Such a path that routes now gets
  the same 308 to its one-slash form (never a ``//`` ``Location``, which would leave the host).
- **An encoded slash is no slash.** waitress decodes ``%2F`` into ``PATH_INFO`` before routing,
  so ``/api%2Fconfig`` was answered as ``/api/config``: the same split between what a proxy rule
  sees and what moodtape serves. A path sent with ``%2F`` (either case) is a 404 now, as Apache
  and most frameworks answer it; other escapes (``%20``, ``%C3%A9``) still decode as before.
- **Loopback pages need a loopback Host** (:func:`loopback_host`). ``/metrics`` in its default
  ``local`` mode answers clients on loopback only; a DNS-rebinding page (``rebind.attacker.example``
  made to resolve to 127.0.0.1) runs in the visitor's browser on this machine, so its requests
  come from loopback, but carry the attacker's name as ``Host``. Asking for ``localhost``,
  ``127.0.0.1`` or ``[::1]`` (any port) keeps it out; so does a proxy on this machine that passes
  the public name on.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import quote, urlsplit

from flask import Flask, Response, request
from werkzeug.routing import RequestRedirect

from moodtape.web.errors import HTTP_CODES, error_response

#: A host name or IPv4 address (letters, digits, ``-._~``) or a bracketed IPv6 address, then an
#: optional port. Stricter than RFC 3986's reg-name (no ``%``, no sub-delimiters such as ``,``),
#: which no DNS name uses: two Host headers joined as ``a, b`` do not pass.
_HOST: Final = re.compile(r"(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9._~-]{1,253})(?::[0-9]{0,5})?")


def install_host_checks(app: Flask) -> None:
    """Refuse bad ``Host`` headers and answer routing's redirects without naming a host."""
    app.before_request(_check_host)


def one_host(host: str) -> bool:
    """True when a ``Host`` header's value is one host name or address with an optional port, or
    empty (RFC 9112 §3.2): what :func:`install_host_checks` lets through."""
    return not host or _HOST.fullmatch(host) is not None


def loopback_host(host: str) -> bool:
    """True when ``host`` (a ``Host`` header, port and all) names this machine's loopback.

    ``localhost``, ``127.0.0.1`` (all of 127.0.0.0/8), ``[::1]``, with or without a port.
    """
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:5000
        name, closed, _ = name[1:].partition("]")
        if not closed:
            return False
    elif ":" in name:  # localhost:5000
        name = name.rpartition(":")[0]
    name = name.removesuffix(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _check_host() -> Response | None:
    host = request.environ.get("HTTP_HOST")
    if host is None:
        if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            return error_response(400, HTTP_CODES[400], "an HTTP/1.1 request needs a Host header")
    elif not one_host(host):
        return error_response(
            400, HTTP_CODES[400], "the Host header must be one host name or address, with an optional port"
        )
    if _asked_with_encoded_slash():
        return error_response(404, HTTP_CODES[404], "nothing here: a path may not hold an encoded slash (%2F)")
    if isinstance(request.routing_exception, RequestRedirect):
        return _redirect_by_path(request.routing_exception)
    if _asked_with_leading_slashes() and request.url_rule is not None:
        return _redirect_leading_slashes()
    return None


def _target_as_sent() -> str:
    """The path and query of the request target as the client sent it: ``REQUEST_URI`` (waitress,
    Werkzeug's test client), gunicorn's ``RAW_URI``, else ``PATH_INFO`` (already decoded, with its
    slashes made one). An absolute-form target (``http://host//api/config``) gives its path on."""
    environ = request.environ
    target = str(environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO") or "")
    if target.startswith("/"):
        return target  # origin-form (urlsplit would read "//api/config" as a host "api")
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _asked_with_leading_slashes() -> bool:
    """True when the request target began with ``//`` (``PATH_INFO`` has them made one already)."""
    return _target_as_sent().startswith("//")


def _asked_with_encoded_slash() -> bool:
    """True when the path of the target as sent holds ``%2F`` or ``%2f`` (its query may: it is no path)."""
    path = _target_as_sent().partition("?")[0].partition("#")[0]
    return "%2f" in path.lower()


def _redirect_leading_slashes() -> Response:
    """The 308 routing gives ``/api//config``, for a path that begins with several slashes."""
    path = request.script_root + request.path  # Werkzeug's path: the leading slashes made one
    location = quote(path, safe="/:@!$&'()*+,;=-._~")
    query = request.query_string.decode("latin-1")
    response = error_response(308, "moved", f"moved to {path}")
    response.headers["Location"] = location + (f"?{query}" if query else "")
    return response


def _redirect_by_path(redirect: RequestRedirect) -> Response:
    """Routing's redirect (merged slashes, a missing trailing slash) with a Location that names no host."""
    target = urlsplit(redirect.new_url)
    location = target.path + (f"?{target.query}" if target.query else "")
    if not location.startswith("/") or location.startswith(("//", "/\\")):
        # Never a scheme-relative Location (``//elsewhere``): that would send the client away.
        return error_response(404, HTTP_CODES[404], "nothing here: see /api/openapi.yaml for the API")
    response = error_response(redirect.code, "moved", f"moved to {target.path}")
    response.headers["Location"] = location
    return response
