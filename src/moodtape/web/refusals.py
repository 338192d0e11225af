"""The answer when the HTTP server itself refuses a request, before the app sees it.

waitress (``buffered_server``, in one process and in each ``serve --processes N`` worker) refuses
too-large bodies and headers, a bad request line or header, and broken framing on its own. Its
answers are plain text without the security headers; these are the API's JSON error shape
(``{"error": {"code", "message"}}``, web/openapi.yaml) with the same headers as every other answer.
Messages are fixed texts: nothing the client sent is echoed.
"""

from __future__ import annotations

import json
from typing import Final

from moodtape.web.errors import HTTP_CODES, INTERNAL_ERROR_MESSAGE, TOO_LARGE_MESSAGE
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
    code = code or HTTP_CODES.get(status, "http_error")
    body = json.dumps({"error": {"code": code, "message": message or MESSAGES.get(status, reason)}}).encode()
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), *SECURITY_HEADERS.items()]
    return headers, body
