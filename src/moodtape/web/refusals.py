"""The answer when the HTTP server itself refuses a request, before the app sees it.

waitress (``buffered_server``, in one process and in each ``serve --processes N`` worker) refuses
too-large bodies and headers, a bad request line or header, and broken framing on its own. Its
answers are plain text without the security headers; these are the API's JSON error shape
(``{"error": {"code", "message"}}``, web/openapi.yaml) with the same headers as every other answer.
Messages are fixed texts: nothing the client sent is echoed.

Some requests are refused by their headers alone, before the body is asked for
(:func:`unwanted_body`): the app would refuse them without reading a byte of it, and a client
that waits for ``100 Continue`` should not send megabytes to learn so. Such a refusal, like the
server's 403 for another site's request, is decided before the app's own checks run (its ``Host``
check, its query check, the CSRF token): a request failing one of those too hears of its body
first; it was refused either way. The same body sent at once, by its ``Content-Length`` (urllib,
requests, browsers' fetch do not wait), is refused the same way once it has come, read and dropped
as it comes rather than held; so is a compressed body sent chunked, once its last chunk has
come.

The app still answers such a refusal, without the body (:func:`install_server_refusals`): the
server hands it the request with the refusal under :data:`REFUSED_BY_THE_SERVER` in the WSGI
environ and an empty body. So the refusal has an ``X-Request-ID``, a line in the log, a count in the
request metrics, and is counted by the rate limit (on every path, ``/healthz`` and static files
too), whose 429 a client past its limit hears instead. The log lines are summed up once a minute
past the first of each kind (web/logs.py), as other lines a client can cause at will.
Until session 35 the server answered it alone: a client sending 200 such bodies in a row got 200
refusals that left no trace and were never limited.

A chunked body, whose size no header tells, is refused the same way once too much of it has come
(:func:`small_json_route`): the server stops reading it in the read that takes its data past
:data:`SMALL_JSON_BYTES`, where it read and held up to the upload limit before (10 MiB by default).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Final, NamedTuple

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header

from moodtape.metrics import REQUESTS
from moodtape.web.errors import HTTP_CODES, INTERNAL_ERROR_MESSAGE, TOO_LARGE_MESSAGE, error_response
from moodtape.web.logs import ANSWERED_ALONE, REFUSED_BY_ITS_HEAD
from moodtape.web.security import SECURITY_HEADERS

MESSAGES: Final[dict[int, str]] = {
    400: "the request is not valid HTTP/1.1 (its request line, a header, or the body's framing such as "
    "Content-Length or chunks; a chunked body may not be split into very many tiny chunks)",
    413: TOO_LARGE_MESSAGE,
    414: "the address is too long",
    417: "the only expectation understood is Expect: 100-continue",
    431: "the request's headers are too large",
    500: INTERNAL_ERROR_MESSAGE,
    501: "that Transfer-Encoding is not supported; send the body as it is or chunked",
    505: "this server speaks HTTP/1.1 and HTTP/1.0 only: send the request as HTTP/1.1",
}


def refusal(
    status: int, reason: str, message: str | None = None, code: str | None = None
) -> tuple[list[tuple[str, str]], bytes]:
    """The headers (without ``Content-Length``) and JSON body refusing a request with ``status``.

    ``message``, when given, is said instead of the status's usual one: a fixed text of the server's
    that names the refusal more closely (never one holding what the client sent). ``code``, when
    given, is the API's code for the same refusal made by the app (``csrf_failed``), in place of
    the status's general one.
    """
    said = refusal_said(status, reason, message, code)
    body = json.dumps({"error": {"code": said.code, "message": said.message}}).encode()
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *SECURITY_HEADERS.items()]
    return headers, body


def refusal_said(status: int, reason: str, message: str | None = None, code: str | None = None) -> BodyRefusal:
    """The status, API code and message refusing a request with ``status`` (see :func:`refusal`)."""
    return BodyRefusal(status, code or HTTP_CODES.get(status, "http_error"), message or MESSAGES.get(status, reason))


#: The endpoints whose body is a small JSON object, read by web/lists_api.py's ``_json_body``: one
#: over :data:`SMALL_JSON_BYTES` is a 413 there, and a body of another media type a 415, both before
#: any of it is read. ``tests/web/test_hostile33_continue.py`` checks the app agrees.
SMALL_JSON_ENDPOINTS: Final[frozenset[str]] = frozenset(
    {"lists.feedback", "lists.undo", "lists.delete_history", "lists.put_consent"}
)
#: The most bytes such a body may hold: a feedback or consent body is a few hundred bytes. The one
#: bound, which web/lists_api.py enforces and the server's early refusal names.
SMALL_JSON_BYTES: Final[int] = 64 * 1024
#: What the app says to those refusals, the server using the same words (the app's Content-Encoding
#: refusal names the coding; :data:`ENCODED_BODY`, a fixed text, does not).
SMALL_JSON_TOO_LARGE: Final[str] = f"the JSON body is too large (at most {SMALL_JSON_BYTES // 1024} KiB)"
NOT_JSON: Final[str] = "send the body as JSON, with Content-Type: application/json"
ENCODED_BODY: Final[str] = "request bodies sent with a Content-Encoding are not accepted; send the body uncompressed"


class BodyRefusal(NamedTuple):
    """A refusal made before the body is asked for (or, chunked, once too much of it has come): its
    status, the API's code and the message; the seconds to send as ``Retry-After`` (None: none),
    and the log line's text (status, code, method and endpoint its arguments)."""

    status: int
    code: str
    message: str
    retry_after: int | None = None
    logged_as: str = REFUSED_BY_ITS_HEAD


#: The app's 413 for a small JSON body over :data:`SMALL_JSON_BYTES`, said by the server too.
SMALL_JSON_REFUSAL: Final[BodyRefusal] = BodyRefusal(413, HTTP_CODES[413], SMALL_JSON_TOO_LARGE)


def _endpoint(app: object, method: str, path: str) -> str | None:
    """The endpoint of ``app`` (a Flask app; anything else has none) that ``method`` and ``path`` route
    to; None when they do not route (a 404, 405 or redirect, which the app's answer says more of)."""
    if not isinstance(app, Flask):
        return None
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method)
    except HTTPException:
        return None
    return str(endpoint)


def small_json_route(app: object, method: str, path: str) -> bool:
    """Whether ``method`` and ``path`` reach one of :data:`SMALL_JSON_ENDPOINTS` of ``app``, whose
    body the app refuses past :data:`SMALL_JSON_BYTES` (:data:`SMALL_JSON_REFUSAL`).

    The server holds a chunked body for such a route to that bound: it reads no more of one that goes
    past it, where waitress buffered up to the upload limit (10 MiB) for the app to refuse it after.
    ``OPTIONS`` is answered by Flask without reading the body: not such a route.
    """
    return method != "OPTIONS" and _endpoint(app, method, path) in SMALL_JSON_ENDPOINTS


def unwanted_body(app: object, method: str, path: str, headers: Mapping[str, str]) -> BodyRefusal | None:
    """How the app would refuse a request with a body by its headers alone (waitress's names:
    ``CONTENT_LENGTH``), without reading the body; None when it may want the body.

    For a route of ``app`` (a Flask app; anything else wants every body) that ``method`` and
    ``path`` (decoded, with no escapes) match: a ``Content-Encoding`` other than ``identity`` (415,
    web/app.py decodes none), and on :data:`SMALL_JSON_ENDPOINTS` a ``Content-Length`` over
    :data:`SMALL_JSON_BYTES` (413) or a media type that is not JSON (415). A path that does not route
    is left to the app, whose 404, 405 or redirect says more. ``OPTIONS`` matches every route (Flask
    adds it to each) but is answered with ``Allow`` by Flask, its body unread: only its
    ``Content-Encoding`` is refused, as the app refuses it for any method.

    The refusal this describes is made before any of the app's checks (see the module's docstring).
    """
    endpoint = _endpoint(app, method, path)
    if endpoint is None:  # no route (404, 405) or a redirect: the app's answer says which
        return None
    coding = headers.get("CONTENT_ENCODING", "").strip().lower()
    if coding and coding != "identity":
        return BodyRefusal(415, HTTP_CODES[415], ENCODED_BODY)
    if method == "OPTIONS" or endpoint not in SMALL_JSON_ENDPOINTS:
        return None
    length = headers.get("CONTENT_LENGTH", "")
    if length.isdigit() and int(length) > SMALL_JSON_BYTES:
        return SMALL_JSON_REFUSAL
    if length.isdigit() and int(length) > 0 and not is_json(headers.get("CONTENT_TYPE", "")):
        return BodyRefusal(415, HTTP_CODES[415], NOT_JSON)
    return None


def is_json(content_type: str) -> bool:
    """Whether ``content_type`` is JSON as Werkzeug's ``request.is_json`` reads it: ``application/json``
    or an ``application/…+json`` type, in any case, whatever its parameters."""
    mimetype = parse_options_header(content_type)[0].lower()
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


#: The WSGI environ key under which the HTTP server hands the app a request it refused by its head
#: (a :class:`BodyRefusal`), none of its body handed on (web/buffered_server.py). No header can set
#: it: waitress names every header ``HTTP_…``.
REFUSED_BY_THE_SERVER: Final[str] = "moodtape.refused_by_the_server"
#: The methods a refusal's log line names; any other (a method is any token, up to 32 KiB) is ``other``.
_LOGGED_METHODS: Final[frozenset[str]] = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
_log = logging.getLogger(__name__)


def install_server_refusals(app: Flask) -> None:
    """Have ``app`` answer the requests the HTTP server refused by their head (:data:`REFUSED_BY_THE_SERVER`).

    Register it after the request id, the metrics' timing and the rate limit, and before every
    other check: the request then has the ``X-Request-ID``, the metrics (its endpoint, its status),
    the limit's 429 past the client's budget and the security headers of any answer, and the
    refusal is still said before the app's ``Host``, query and CSRF checks, as the server decided
    it. The log line names the status, the method and the endpoint only (never the path, the query
    or a header: the client's words and secrets stay out); the request id ties it to the answer.
    Under ``configure_logging`` the first of each kind is written, the rest summed up once a minute
    (web/logs.py). The limit counts these requests on every path, its exempt ones too
    (web/ratelimit.py's ``_exempt``).
    """
    app.extensions[REFUSED_BY_THE_SERVER] = True

    def answer_the_servers_refusal() -> Response | None:
        said = request.environ.get(REFUSED_BY_THE_SERVER)
        if not isinstance(said, BodyRefusal):
            return None
        _log.info(
            said.logged_as,
            said.status,
            said.code,
            request.method if request.method in _LOGGED_METHODS else "other",
            request.endpoint or "unmatched",
        )
        response = error_response(said.status, said.code, said.message)
        if said.retry_after is not None:
            response.headers["Retry-After"] = str(said.retry_after)
        return response

    app.before_request(answer_the_servers_refusal)


def answers_server_refusals(app: object) -> bool:
    """Whether ``app`` answers the server's refusals by their head (:func:`install_server_refusals`);
    the server answers them itself for any other app."""
    return isinstance(app, Flask) and bool(app.extensions.get(REFUSED_BY_THE_SERVER))


#: The endpoint, in ``/metrics``, of the refusals the HTTP server answers alone (no route was looked at).
ANSWERED_ALONE_ENDPOINT: Final[str] = "server"


def note_answered_alone(status: int, code: str, given_id: str = "", *, log: bool = True) -> tuple[str, str]:
    """Count and log a refusal the HTTP server answers alone (the app never reads the request);
    return the ``X-Request-ID`` header it goes out with: ``given_id`` (what the client's header said,
    "" when unread) when it is a plausible id, else a new one.

    Answered by the server alone, these had no id, no count and no line, where every answer of the
    app has all three (session 39). The line names the status and code only, never what the client
    sent; under ``configure_logging`` the first of each kind is written, the rest summed up. Without
    ``log`` no line: the caller writes one for many (a stop's turned-away connections).
    """
    from moodtape.web.ops import REQUEST_ID_HEADER, request_id_for  # imports the app: once a refusal comes

    request_id = request_id_for(given_id)
    REQUESTS.labels(endpoint=ANSWERED_ALONE_ENDPOINT, status=str(status)).inc()
    if log:
        _log.info(ANSWERED_ALONE, status, code, extra={"request_id": request_id})
    return REQUEST_ID_HEADER, request_id
