"""``OPTIONS *``: a question about the server as a whole, answered by the app like any request.

RFC 9112 §3.2.4 has ``OPTIONS *`` ask what the server can do rather than what one resource can
(clients and proxies send it to probe a server, e.g. ``curl -X OPTIONS --request-target '*'``).
waitress hands ``*`` to the app as the path, and Flask answered 404 "nothing here", as if the
server did not exist. It is a 200 with no body and an ``Allow`` header listing every method some
route takes (RFC 9110 §9.3.7).

It is answered by a ``before_request`` hook, after the request id, the rate limit and the ``Host``
check (an HTTP/1.1 ``OPTIONS *`` without a good ``Host`` is their 400, as for any target): so it
has the ``X-Request-ID``, the rate limit's 429, the request metrics (under the endpoint
:data:`ENDPOINT`) and the security headers of every other answer, HSTS behind a trusted TLS proxy
included. Before (session 26) it was answered by the server ahead of the app, without any of these:
a probe a monitoring system sent every few seconds left no trace in the metrics or the request ids.

The endpoint is named by a hook of its own (:func:`install_server_wide_endpoint`) that runs before
the rate limit's: the routing finds none for ``*``. (The rate limit now counts requests without an
endpoint too, as ``unmatched``: web/ratelimit.py; the name keeps ``OPTIONS *`` apart in the metrics.)
"""

from __future__ import annotations

from typing import Final

from flask import Flask, Response, request
from werkzeug.routing import Rule

#: What waitress gives as the path of the target ``*`` (and of an absolute-form target with no
#: path in an ``OPTIONS``, which RFC 9112 §3.2.4 makes the same question).
SERVER_WIDE: Final[str] = "*"
#: The endpoint the answer is counted under in the request metrics (``/metrics``).
ENDPOINT: Final[str] = "server_options"


def server_methods(app: Flask) -> str:
    """Every method some route of ``app`` takes, for ``Allow`` (``DELETE, GET, HEAD, ...``)."""
    methods: set[str] = {"OPTIONS"}
    for rule in app.url_map.iter_rules():
        methods |= set(rule.methods or ())
    return ", ".join(sorted(methods))


def asks_about_the_server() -> bool:
    """Whether this request is ``OPTIONS *`` (the server refuses ``*`` with other methods, and every
    other target that merely begins with it: web/buffered_server.py)."""
    return request.method == "OPTIONS" and request.environ.get("PATH_INFO") == SERVER_WIDE


def install_server_wide_endpoint(app: Flask) -> None:
    """Give ``OPTIONS *`` in ``app`` the endpoint :data:`ENDPOINT`; register it before the rate limit.

    The routing finds no rule for ``*``, and Flask-Limiter counted no request without an endpoint
    (it let the unmatched paths of scanners through to their 404 too, until web/ratelimit.py named
    them ``unmatched`` for the limit). Named only by the hook that
    answers, after the limit's own hook had passed it over, ``OPTIONS *`` was never limited: under
    ``MOODTAPE_RATE_LIMIT=2``, 60 of them in a row all got their 200 (``OPTIONS /api/config``: 58
    of them 429). With an endpoint of its own it is also counted in the metrics under that name,
    not among the "unmatched" paths; no view runs, since :func:`install_server_wide_options`
    answers first.
    """

    def name_the_server_wide_endpoint() -> None:
        if asks_about_the_server():
            request.url_rule = Rule("/*", endpoint=ENDPOINT)

    app.before_request(name_the_server_wide_endpoint)


def install_server_wide_options(app: Flask) -> None:
    """Answer ``OPTIONS *`` in ``app`` (see the module docstring); register it after the hooks that
    every request must pass (the request id, the rate limit, the ``Host`` check), and
    :func:`install_server_wide_endpoint` before the rate limit."""
    allow: list[str] = []  # worked out at the first such request: blueprints register after this

    def answer_server_wide_options() -> Response | None:
        if not asks_about_the_server():
            return None
        if not allow:
            allow.append(server_methods(app))
        response = Response(status=200, headers={"Allow": allow[0]})
        response.headers.pop("Content-Type", None)  # no body, so no type (as the app's own OPTIONS)
        return response

    app.before_request(answer_server_wide_options)
