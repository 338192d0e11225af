"""gunicorn's threaded worker, answering every refusal the way the app does (``serve --processes N``).

gunicorn refuses some requests itself, before the app runs: a bad request line or method, an
address over 4 KB, a bad header, ``Transfer-Encoding`` with ``Content-Length``, an unknown
``Expect``. Its answer is an HTML page without the security headers; :class:`JsonErrorWorker`
sends :func:`~moodtape.web.refusals.refusal` instead, as waitress does in one-process mode.

A chunked body whose framing breaks while the app reads it (a chunk size that is not hex, a
missing chunk end) raised gunicorn's parser error inside the app, a 500; here it is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gunicorn.http.errors import ParseException
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.exceptions import BadRequest

from moodtape.web.refusals import refusal

_BAD_BODY = "the request body's chunked framing is broken (a chunk size that is not hexadecimal, or a missing end)"


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]
    """``gthread`` with JSON refusals and body framing errors as 400s."""

    wsgi: Callable[..., Iterable[bytes]]  # set by load_wsgi

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = _BodyErrorsAreBadRequests(self.wsgi)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _JsonErrorSocket(client), addr, exc)


class _JsonErrorSocket:
    """Stands in for the client socket while gunicorn writes its HTML error page: sends the JSON one.

    gunicorn writes the whole page with one ``sendall`` whose first line is ``HTTP/1.1 <status> <reason>``.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        first_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        _, status, reason = [*first_line.split(" ", 2), "", ""][:3]
        code = int(status) if status.isascii() and status.isdigit() else 500
        headers, body = refusal(code, reason)
        head = [f"HTTP/1.1 {code} {reason}", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
        head.append(f"Content-Length: {len(body)}")
        self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def __getattr__(self, name: str) -> Any:  # gettimeout, setblocking, ...: the real socket's
        return getattr(self._sock, name)


class _BodyErrorsAreBadRequests:
    """WSGI middleware: gunicorn's body parsing errors, raised while the app reads, become a 400."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"] = _CheckedInput(environ["wsgi.input"])
        return self._app(environ, start_response)


class _CheckedInput:
    """``wsgi.input`` whose framing errors are :class:`~werkzeug.exceptions.BadRequest` (400 JSON)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int | None = None) -> bytes:
        return _checked(self._stream.read, size)

    def readline(self, size: int | None = None) -> bytes:
        return _checked(self._stream.readline, size)

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def _checked(method: Callable[[int | None], bytes], size: int | None) -> bytes:
    """``method(size)``, with gunicorn's framing errors raised as a 400."""
    try:
        return method(size)
    except ParseException:
        raise BadRequest(_BAD_BODY) from None
