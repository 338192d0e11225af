"""Every error becomes JSON ``{"error": {"code", "message"}}`` with its status: never HTML, never a traceback.

- :class:`~moodtape.errors.MoodtapeError` subclasses carry their own status and code, and their
  messages are written for people, so they are passed on as they are.
- Werkzeug's HTTP errors (404, 405, 413, …) keep their status and headers (``Allow`` on 405).
- Anything else is a bug: the traceback goes to the server log, the client gets a generic 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing.exceptions import WebsocketMismatch

from moodtape.errors import MoodtapeError

#: The JSON error code for each HTTP status: of the app's errors, Werkzeug's, and the HTTP server's
#: own refusals (:mod:`moodtape.web.refusals`).
HTTP_CODES: Final[dict[int, str]] = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    412: "precondition_failed",
    413: "too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
    505: "http_version_not_supported",
}

TOO_LARGE_MESSAGE: Final = "the upload is too large (see limits.max_upload_bytes in /api/config)"
INTERNAL_ERROR_MESSAGE: Final = "something went wrong on the server; the details are in its log"

_MESSAGES: Final[dict[int, str]] = {
    404: "nothing here: see /api/openapi.yaml for the API",
    413: TOO_LARGE_MESSAGE,
}
#: Werkzeug refuses a WebSocket handshake (``Connection: Upgrade`` with ``Upgrade: websocket``) to a
#: path that is plain HTTP with its generic "the browser (or proxy) sent a request that this server
#: could not understand", which says nothing of why.
WEBSOCKET_MESSAGE: Final = (
    "this server does not take WebSocket connections: send the request as plain HTTP, without Upgrade: websocket"
)


#: Characters that mean markup to HTML, written as JSON escapes in error bodies (the same JSON).
_MARKUP_ESCAPES: Final[dict[int, str]] = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def error_response(status: int, code: str, message: str) -> Response:
    """The JSON error body with ``status``.

    A message may quote what the client sent (``unknown emotion '<script>…'``). The body is JSON with
    ``nosniff``, so no browser runs it, but a client that shows the message as HTML, or a proxy or
    log viewer that sniffs, would: ``<``, ``>`` and ``&`` go out as ``\\u003c``, ``\\u003e``,
    ``\\u0026``, which every JSON parser reads back as the same characters.
    """
    text = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))
    return Response(text.translate(_MARKUP_ESCAPES) + "\n", status=status, mimetype="application/json")


def register_error_handlers(app: Flask) -> None:
    """Install the JSON handlers on ``app``."""
    app.register_error_handler(MoodtapeError, _moodtape_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _moodtape_error(error: MoodtapeError) -> Response:
    response = error_response(error.status, error.code, str(error))
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _http_error(error: HTTPException) -> Response:
    if isinstance(error.response, Response):  # already a JSON answer (the rate limit's 429)
        return error.response
    status = error.code or 500
    message = _MESSAGES.get(status) or (error.description or error.name).strip()
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        message = _method_message(error.valid_methods)
    elif isinstance(error, WebsocketMismatch):
        message = WEBSOCKET_MESSAGE
    response = error_response(status, HTTP_CODES.get(status, "http_error"), message)
    for name, value in error.get_headers():
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


def _method_message(allowed: Iterable[str]) -> str:
    """What a 405 says: the methods the path takes (as its ``Allow`` header), so a client knows what to send."""
    methods = ", ".join(sorted(set(allowed) - {"HEAD", "OPTIONS"})) or "OPTIONS"
    return f"this path does not take that method; it takes {methods} (see the Allow header)"


def _unexpected_error(error: Exception) -> Response:
    if isinstance(error, HTTPException):  # pragma: no cover - Flask routes these to _http_error
        return _http_error(error)
    current_app.logger.error("unexpected error answering a request", exc_info=error)
    return error_response(500, HTTP_CODES[500], INTERNAL_ERROR_MESSAGE)
