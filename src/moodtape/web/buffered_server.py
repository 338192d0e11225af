"""Serving with waitress: whole requests are read by an event loop before any thread sees them.

Why waitress and not a thread-per-connection server (cheroot, before): a thread that reads a
request blocks until the client sends it, so a few clients sending one byte a second held all
four threads and nobody else was answered (issue 10). waitress reads every connection on one
``select``/``poll`` loop and hands a request to a worker thread only once its headers and body have
fully arrived, so slow clients cost a socket and a buffer each, never a thread. HTTPS is the same
server with TLS inside each connection (:mod:`moodtape.web.tls_channel`), and ``serve --processes
N`` runs it in each gunicorn worker on the sockets the master bound
(:mod:`moodtape.web.gunicorn_worker`). The measurements are in ``benchmarks/slow_clients_single.py``
and ``docs/deployment.md``.

What this module adds to waitress:

- **Limits**: headers at most :data:`MAX_HEADER_BYTES` and :data:`MAX_HEADER_FIELDS` fields;
  bodies at most the app's upload limit plus :data:`BODY_HEADROOM` (multipart framing), held in
  memory (never spooled to a temporary file: photos are never written anywhere); at most
  :data:`CONNECTION_LIMIT` connections, and at that limit the idlest ones are closed to make room
  (:mod:`moodtape.web.eviction`); a connection that sends nothing for :data:`CHANNEL_TIMEOUT`
  seconds is closed. Unfinished bodies together hold at most :data:`UNFINISHED_UPLOADS` largest
  uploads: over that, the longest-open let go of theirs, and each client hears a 503 with
  ``Retry-After`` once it has sent the rest, dropped as it came (:meth:`_DrainingParser.shed_body`).
- **JSON errors**: waitress's own refusals (413, 431, 400 for malformed framing such as two
  different ``Content-Length`` headers) answer with the API's JSON error shape and security headers,
  and, as the app's answers, an ``X-Request-ID``, a count in the metrics and a log line
  (:func:`~moodtape.web.refusals.note_answered_alone`; none of the three until session 39).
- **Framing bounds**: a chunk-size line over :data:`MAX_CHUNK_LINE`, a trailer over
  :data:`MAX_HEADER_BYTES`, or chunk extensions over :data:`MAX_CHUNK_EXTENSIONS` in one body is a
  400 at once (waitress bounds none of them); a request with both
  ``Content-Length`` and ``Transfer-Encoding`` is refused and its connection closed (RFC 9112 §6.1),
  and so is ``chunked`` applied twice, or before another coding (``chunked, identity``: RFC 9112
  §6.3's 400, where waitress said 501), or a ``Transfer-Encoding`` that lists no coding at all
  (``Transfer-Encoding:``, which waitress dropped and framed by ``Content-Length``). A chunk whose
  declared size alone goes over the body limit is a 413 at once. Chunk lines and trailer lines
  must end in CR LF and a chunk size may not be empty (RFC 9112 §7.1): waitress waited for a CR
  LF that never came, and the client got nothing for a minute; now a 400 at once. Whitespace
  before a chunk extension's ``;`` and around its ``=`` is allowed (§7.1.1), which waitress refused.
- **Too long**: over :data:`MAX_HEADER_BYTES`, a request line of :data:`LONG_REQUEST_LINE` or more
  is a 414 (the address is at fault), else a 431; either way only that much is ever held.
- **TLS on the HTTP port**: a TLS handshake (``curl https://`` to an HTTP server) is refused at
  once, so the client reports its TLS error rather than waiting for the idle timeout.
- **HTTP versions**: a request line without a version is a 400 (as soon as the line ends: an
  HTTP/0.9 ``GET /`` never sends the headers waitress waited for), a version other than 1.x a 505
  (waitress answered ``HTTP/9.9`` as if it were 1.0), and a later 1.x (``HTTP/1.2``) is read and
  answered as 1.1. HTTP/2's connection preface is told HTTP_1_1_REQUIRED in HTTP/2's own frames
  (curl then asks again in HTTP/1.1; an HTTP/1.1 505 was unreadable to it): the client's frames are
  read for a while, and RST_STREAM names each stream it opens (:mod:`moodtape.web.http2_farewell`).
  An absolute-form target's authority is the request's ``Host`` (:mod:`moodtape.web.request_line`).
  ``close`` anywhere in a ``Connection`` list (``TE, close``) closes the connection after the
  answer, as ``close`` alone does, and an answer without a body (a 304) no longer closes a
  connection the client kept (waitress closed after any answer without ``Content-Length``). An
  HTTP/1.1 ``Expect`` other than ``100-continue`` is a 417 (RFC 9110 §10.1.1).
- **Request shapes waitress let through**: obsolete line folding (a header line beginning with a
  space or tab) is a 400, as RFC 9112 §5.2 allows (waitress joined it to the line before, which a
  proxy in front may read otherwise); so is a control character in the request line, the target
  ``*`` with any method but ``OPTIONS`` (which :mod:`moodtape.web.server_wide` answers), and an
  absolute-form target whose bracketed host is no address (waitress let urllib's ValueError close
  the connection without an answer). ``CONNECT`` is a 501: this server is no proxy.
- **Blank lines before a request** are skipped in one step, at most :data:`MAX_BLANK_BYTES` of them
  (waitress made each ``CR LF CR LF`` an empty request, at a cost growing with the square of the read).
  Any other whitespace there (a CR alone, VT, FF, a space) is a 400 once the request line ends: it
  is no empty line (RFC 9112 §2.2), and waitress skipped it.
- **Origin-form targets begin with** ``/``: ``GET metrics HTTP/1.1`` is a 400 (it was ``/metrics``).
- **Refusals' status lines** say ``HTTP/1.1`` (``HTTP/1.0`` to a request line that said so, whatever
  is refused after it), and a refused ``HEAD`` gets the headers alone.
- **Header values**: the whitespace after each colon is dropped before waitress reads the headers
  (its pattern took seconds over a long run of it), and repeated ``Cookie`` lines are joined with
  ``"; "``, as cookies are, where waitress joined them with ``", "``.
- **Reasons**: each refusal says what was wrong, in fixed words of ours
  (:mod:`moodtape.web.framing_reasons`), never echoing what the client sent.
- **Pipelining**: a connection has at most :data:`PIPELINE_DEPTH` requests queued, and the next
  one it already sent is parsed only once less than :data:`PIPELINE_OUTPUT` of answers waits for
  it to read: four clients that pipelined large GETs and read nothing held every worker thread.
  An answer the client stops taking is closed after a while, queued requests or not
  (:mod:`moodtape.web.eviction`).
- **Bodies refused before they are sent**: to a client that waits for ``100 Continue``, a body the
  app would refuse unread (another site's request; a compressed body; a JSON body over its bound or
  of another type, :mod:`moodtape.web.refusals`) is refused at once, in the app's words, and never
  asked for. It is refused ahead of the app's ``Host``, query and CSRF checks, but the app answers
  it, without the body, after its rate limit: it has an ``X-Request-ID``, a log line and a count in
  the metrics, and a client past its limit hears the 429 (``_DrainingParser.answer_refusal_in_the_app``;
  until session 35 the server answered alone, and none of these applied). So does a body too large
  for the server (the "Readable 413s" below).
  ``OPTIONS *``, which the app answers without reading a body, goes to the app without asking for
  one, and its connection closes after the answer.
- **Readable 413s**: a client that declares a too-large ``Content-Length`` without
  ``Expect: 100-continue`` (Python's urllib, browsers) keeps sending its body; closing then would
  make it see "broken pipe" instead of the answer. Up to :data:`DRAIN_LIMIT` bytes are read and
  dropped (no memory kept) before the 413 goes out.
- **Bodies refused by their head, sent at once**: the same bodies the app would refuse unread,
  sent by their ``Content-Length`` without waiting for ``100 Continue`` (urllib, requests, httpx,
  browsers' fetch), get the same refusal in the app's words, drained as above: none of the body is
  held. waitress read and held it all for the app to refuse (5,000,000 bytes of 5 MB sent to
  ``/api/feedback`` for its 413 "at most 64 KiB"). A chunked one has no length to drain by: a
  compressed one is read to its last chunk and dropped as it comes, then refused the same way
  (waitress held it for the app's 415); for the small JSON endpoints see the next point.
- **Small JSON bodies sent chunked**: a chunked body for an endpoint that takes a small JSON object
  (:mod:`moodtape.web.refusals`) is read only to the app's bound (64 KiB of data): past it, the
  app's own 413 goes out and no more is read. waitress read and held it to the upload limit first.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from flask import Flask
from waitress import trigger, wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented, get_header_lines
from waitress.receiver import ChunkedReceiver
from waitress.rfc7230 import QUOTED_STRING, TCHAR, TOKEN
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import (
    BadRequest,
    Error,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    find_double_newline,
)

from moodtape.web.eviction import MIN_RATE, PER_CLIENT, close_soon, evict_when_full
from moodtape.web.framing_reasons import client_reason, explained
from moodtape.web.hosts import one_host
from moodtape.web.http2_farewell import GOODBYE, SERVER_PREFACE, Http2Farewell
from moodtape.web.logs import LET_GO_FOR_THE_BUDGET
from moodtape.web.proxies import Network, from_one_of, trusted_networks
from moodtape.web.refusals import (
    REFUSED_BY_THE_SERVER,
    SMALL_JSON_BYTES,
    SMALL_JSON_REFUSAL,
    BodyRefusal,
    answers_server_refusals,
    note_answered_alone,
    refusal,
    refusal_said,
    small_json_route,
    unwanted_body,
)
from moodtape.web.request_line import as_highest_minor, target_authority_problem
from moodtape.web.security import foreign_by_headers
from moodtape.web.server_wide import SERVER_WIDE

_log = logging.getLogger(__name__)

#: Request line plus headers: 64 KiB is 8× what browsers send; the 30 MB header line is refused.
MAX_HEADER_BYTES: Final[int] = 64 * 1024
#: Header fields in one request (Apache's and Tomcat's default). Each costs waitress about 7 µs on
#: the event loop every connection shares, and as many of one name were joined in quadratic time:
#: 64 KiB of ``a:b`` lines (13,000 fields) took 120-280 ms, and four clients sending such requests
#: in a loop made ``/healthz`` take 230 ms (median) instead of 4. Browsers send about 20.
MAX_HEADER_FIELDS: Final[int] = 100
#: A chunk's size line with its extensions (``1000;name=value``): waitress sets no bound, and
#: rescans the whole unfinished line on every read (10 MB of extension took 34 s of CPU).
MAX_CHUNK_LINE: Final[int] = 4 * 1024
#: Bytes of chunk extensions (what follows the size on a chunk-size line) in one body, all chunks
#: together. Each line is checked against RFC 9112 §7.1.1's grammar (quotes must close: a proxy that
#: reads a quoted CR LF otherwise frames the body otherwise), which costs about 100 ns a byte for
#: extensions such as ``;a;a;a…``, a hundred times what a plain body's byte costs: 10 MB of them took
#: 0.87 s of the loop every connection shares, where a plain 10 MB body takes 33 ms. Clients send
#: none, or a signature per chunk (AWS's ``;chunk-signature=`` and 64 hex digits: 13 KB in 10 MB
#: sent in 64 KiB chunks).
MAX_CHUNK_EXTENSIONS: Final[int] = 64 * 1024
#: The digits a chunk size is written in (what is left of a size line after them is its extensions).
HEX_DIGITS: Final[bytes] = b"0123456789abcdefABCDEF"
#: The fewest chunks one chunked body may always have. Each chunk costs the event loop a few
#: microseconds whatever its size, so one-byte chunks made a 10 MB body cost seconds of the loop
#: every connection shares. Clients send far larger chunks (curl 64 KiB).
MAX_CHUNKS: Final[int] = 16 * 1024
#: Bytes per chunk, on average, that a body of the largest allowed size must reach: the bound on
#: chunks grows with ``MOODTAPE_MAX_UPLOAD_BYTES`` (``body limit // 640``, at least
#: :data:`MAX_CHUNKS`), so raising the upload limit never refuses a client whose chunks were fine.
MIN_AVERAGE_CHUNK: Final[int] = 640
#: Bytes a body may hold beyond the upload limit, for a form's framing around a picture of the
#: largest allowed size: a body of the limit plus this is read, one byte more is a 413.
BODY_HEADROOM: Final[int] = 64 * 1024
#: Open connections at once; beyond this new ones wait in the listen backlog.
CONNECTION_LIMIT: Final[int] = 200
#: Largest uploads' worth of unfinished request bodies held in memory at once, all connections together.
UNFINISHED_UPLOADS: Final[int] = 8
#: Seconds an upload refused for that budget is told to wait before sending again (``Retry-After``):
#: about the time the uploads held take to arrive and be answered.
BUSY_RETRY_AFTER_S: Final[int] = 2
#: Seconds of silence after which a connection is closed (waitress checks every few seconds).
CHANNEL_TIMEOUT: Final[int] = 60
#: Seconds a request already running may take to finish when the server stops.
STOP_GRACE: Final[float] = 3.0
#: The longest wait of one loop turn while draining (a connection that finishes is closed after it).
DRAIN_TURN: Final[float] = 0.1
#: While draining, a connection answered less than this long ago is kept for the request its
#: client may be sending already (the answer before the stop said the connection stays open).
IDLE_QUIET_SECONDS: Final[float] = 0.25
#: While draining, a connection the server waits on (a request arriving, or the next one) must send
#: at least :data:`~moodtape.web.eviction.MIN_RATE` bytes a second over each span this long, or it
#: is closed: a client sending a byte every 0.2 s held the stop to its deadline (10 s), silent for
#: too short a time for the 60 s idle timeout. A real upload sends kilobytes a second, but may pause:
#: measured over each second, one at 100 KB/s that paused 1.5 s (a phone between two cells, a lost
#: packet sent again) was closed unanswered (a review of session 39); over 3 s, a pause under that
#: passes, and a trickling client is still closed well before the deadline.
DRAIN_PACE_S: Final[float] = 3.0
#: The most of a refused body read and dropped so that the client can read its 413.
DRAIN_LIMIT: Final[int] = 256 * 1024 * 1024
#: After a refusal the client may still be sending. Closing with its bytes unread makes the kernel
#: send a reset, which can wipe the answer from the client's buffer before it is read (seen as a
#: flaky "connection reset" instead of the 400). So the sending side is shut first and what still
#: comes is read and dropped, for at most this long and this much: a "lingering close".
LINGER_SECONDS: Final[float] = 2.0
LINGER_BYTES: Final[int] = 1024 * 1024
#: Requests of one connection queued at once: the one being answered and one more. Further requests
#: it pipelined wait, unparsed, until the answers before them have gone out (browsers never pipeline).
PIPELINE_DEPTH: Final[int] = 2
#: Bytes of answers a client may leave unread before its next pipelined request is parsed.
PIPELINE_OUTPUT: Final[int] = 1024 * 1024
#: A control character (C0 or DEL), which no request line may hold (RFC 9112 section 3); CR and LF
#: are left to waitress's check, whose refusal names them.
CONTROL_BYTE: Final[re.Pattern[bytes]] = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
#: The most significant digits a ``Content-Length`` may have: 10^18 bytes is beyond any body limit. A
#: longer one is a 413 before waitress reads it: past 4,300 digits its int() raised ValueError
#: (Python's limit). Leading zeros do not count: ``0005`` is the number 5 (RFC 9110 §8.6, ``1*DIGIT``).
MAX_CONTENT_LENGTH_DIGITS: Final[int] = 18
#: A ``Content-Length`` header line whose value is digits, more significant ones than the above.
TOO_LONG_CONTENT_LENGTH: Final[re.Pattern[bytes]] = re.compile(
    rb"\r\ncontent-length:[ \t]*0*[1-9][0-9]{%d,}[ \t]*\r\n" % MAX_CONTENT_LENGTH_DIGITS, re.IGNORECASE
)
#: The leading zeros of a ``Content-Length`` value (group 1 is what comes before them), dropped before
#: waitress reads the number: thousands of zeros before a ``5`` made its int() raise (a 400).
CONTENT_LENGTH_ZEROS: Final[re.Pattern[bytes]] = re.compile(rb"(\r\ncontent-length:[ \t]*)0+(?=[0-9])", re.IGNORECASE)
#: The whitespace after a header line's colon (group 1 is the line up to the colon): dropped before
#: waitress reads the headers. Its header regex takes time growing with the square of such a run when
#: a visible byte follows: ``X-A:`` with 30,000 spaces before an ``x`` held the one loop every client
#: is read in for 16.5 s (60,000: 48 s). RFC 9112 §5.1: that whitespace is no part of the value.
SPACE_AFTER_COLON: Final[re.Pattern[bytes]] = re.compile(rb"(\r\n[^\r\n:]*:)[ \t]+")
#: Bytes of blank lines (CR LF, or LF alone) a client may send before a request line: RFC 9112 §2.2
#: has a server ignore at least one (some clients send a CR LF after a body); no client sends hundreds.
MAX_BLANK_BYTES: Final[int] = 1024
#: A CR that no LF follows (at a search's end: none does).
BARE_CR: Final[re.Pattern[bytes]] = re.compile(rb"\r(?!\n)")
#: Bytes of a request's start kept to know its method when it is refused, from its first byte that is
#: no whitespace (blank lines, or stray whitespace refused once the request line ends, may come first).
REQUEST_START: Final[int] = 64
#: A byte that is no whitespace (none of what ``bytes.isspace`` calls whitespace).
NOT_WHITESPACE: Final[re.Pattern[bytes]] = re.compile(rb"[^ \t\n\r\x0b\x0c]")
#: A request line that ends in HTTP/1.1 or a later 1.x (read as 1.1, web/request_line.py).
HTTP_1_1_OR_LATER: Final[re.Pattern[bytes]] = re.compile(rb" HTTP/1\.[1-9]\Z")
#: The request line of the HTTP/2 connection preface (RFC 9113 §3.4), which a client that speaks
#: HTTP/2 from the first byte (``curl --http2-prior-knowledge``, an h2c proxy) begins with.
HTTP2_PREFACE_LINE: Final[bytes] = b"PRI * HTTP/2.0"
#: How long, and for how many bytes, the frames of a client that sent that preface are read to
#: answer them (web/http2_farewell.py): long enough for a client that waits for the server's SETTINGS
#: before it opens a stream; then GOAWAY, and the connection closes.
HTTP2_WAIT: Final[float] = 2.0
HTTP2_BYTES: Final[int] = 1024 * 1024
#: How a TLS connection begins: a handshake record (type 22) of TLS 1.x or SSL 3 (version 3.x).
TLS_HANDSHAKE: Final[bytes] = b"\x16\x03"
#: A request line at least this long, in a request over :data:`MAX_HEADER_BYTES`, makes the refusal
#: a 414 (the target is what is too long) rather than a 431 (the header fields are).
LONG_REQUEST_LINE: Final[int] = MAX_HEADER_BYTES // 2
#: A whole chunk-size line as RFC 9112 §7.1.1 writes it, extensions with their optional whitespace
#: (BWS) around ``;`` and ``=`` included: ``5 ;name = "value"``. Group 1 is the size.
CHUNK_SIZE_LINE: Final[re.Pattern[bytes]] = re.compile(
    (rf"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*{TOKEN}(?:[ \t]*=[ \t]*(?:{TOKEN}|{QUOTED_STRING}))?)*\r\n").encode("latin-1")
)
#: Bytes a field's value may hold (RFC 9110 §5.5: tab, space, visible ASCII and obs-text), as regex text.
_FIELD_VALUE_BYTE: Final[str] = r"[\t\x20-\x7e\x80-\xff]"
#: Whole trailer field lines from the start of a line, as RFC 9112 §5.1 writes a field line: a name
#: (a token), a colon with no whitespace before it, the value, CR LF. One call takes all of a read's
#: whole lines in C.
TRAILER_FIELD_LINES: Final[re.Pattern[bytes]] = re.compile(rf"(?:{TOKEN}:{_FIELD_VALUE_BYTE}*\r\n)*".encode("latin-1"))
#: One byte of a field's name; the rest of a trailer field's name, and of its value, when a read ends
#: inside them.
_NAME_BYTE: Final[re.Pattern[bytes]] = re.compile(TCHAR.encode("latin-1"))
_TRAILER_NAME_BYTES: Final[re.Pattern[bytes]] = re.compile(rf"{TCHAR}*".encode("latin-1"))
_TRAILER_VALUE_BYTES: Final[re.Pattern[bytes]] = re.compile(rf"{_FIELD_VALUE_BYTE}*".encode("latin-1"))
#: Why a trailer line is refused that is no header field.
_NOT_A_TRAILER_FIELD: Final[str] = "a trailer line is no header field (a name, then a colon, then its value)"


class _VersionNotSupportedError(Error):  # type: ignore[misc]
    code = 505
    reason = "HTTP Version Not Supported"


class _Http2PrefaceError(_VersionNotSupportedError):
    """The refusal of an HTTP/2 connection preface, which the connection answers in HTTP/2 frames
    (:meth:`JsonErrorChannel._begin_http2`) rather than an HTTP/1.1 status line the client cannot read.

    The 505 in HTTP/1.1 made ``curl --http2-prior-knowledge`` say "Empty reply from server" (exit
    52) and stop; told HTTP_1_1_REQUIRED it asks again in HTTP/1.1 and gets its answer. Pipelined
    behind HTTP/1.1 requests still queued on the same connection, it is the 505 in HTTP/1.1."""


class _UriTooLongError(RequestHeaderFieldsTooLarge):  # type: ignore[misc]
    """The 431 whose excess is the request line: the request target is too long (RFC 9110 §15.5.15).

    A subclass so that what follows a 431 (the rest of the headers read and dropped, no memory kept)
    follows it too."""

    code = 414
    reason = "URI Too Long"


class _TooManyFieldsError(RequestHeaderFieldsTooLarge):  # type: ignore[misc]
    """The 431 for more than :data:`MAX_HEADER_FIELDS` header fields; its ``body`` is the message."""


class _ExpectationFailedError(Error):  # type: ignore[misc]
    """A 417 for an ``Expect`` other than ``100-continue`` (RFC 9110 §10.1.1), its ``body`` the message."""

    code = 417
    reason = "Expectation Failed"


class _ExplainedError(BadRequest):  # type: ignore[misc]
    """A 400 whose ``body`` (our own text, from :func:`~moodtape.web.framing_reasons.explained`,
    holding nothing the client sent) is the message the client gets, rather than the general
    "not valid HTTP/1.1"."""


class _NotProvidedError(Error):  # type: ignore[misc]
    """A 501 for a method this server does not provide at all (``CONNECT``: it is not a proxy); its
    ``body`` is the message, as for :class:`_ExplainedError`."""

    code = 501
    reason = "Not Implemented"


class _UnwantedBodyError(Error):  # type: ignore[misc]
    """The app's own refusal of a body it would not read (its 413 or 415), made by the server before
    it asks for the body (:meth:`_DrainingParser._refuse_unwanted_body`); ``body`` is the message."""

    def __init__(self, said: BodyRefusal) -> None:
        super().__init__(said.message)
        self.code, self.api_code = said.status, said.code
        self.reason = "Request Entity Too Large" if said.status == 413 else "Unsupported Media Type"


class _ForeignSiteError(Error):  # type: ignore[misc]
    """The app's 403 ``csrf_failed`` for a request from another site, made by the server before it
    asks for the body (:meth:`_DrainingParser._refuse_foreign_before_body`); ``body`` is the message."""

    code = 403
    reason = "Forbidden"
    api_code = "csrf_failed"


class _BodiesFullError(Error):  # type: ignore[misc]
    """The 503 for an upload the server stopped holding (:meth:`_DrainingParser.shed_body`): the
    unfinished requests' bodies together went over their budget (:data:`UNFINISHED_UPLOADS`), and
    this one had been open longest; ``body`` is the message, ``retry_after`` the seconds to wait."""

    code = 503
    reason = "Service Unavailable"
    api_code = "busy"  # as the app's own 503 for too many large pictures at once (ServerBusyError)
    retry_after = BUSY_RETRY_AFTER_S


#: What an upload refused for that budget is told.
BODIES_FULL: Final[str] = (
    "the server is holding as many uploads as it can right now; this one was not kept: send it again in a few seconds"
)


def _stopping_full(request_id: tuple[str, str] | None) -> bytes:
    """The whole answer to a connection queued at the port past the connection limit during a stop
    (:meth:`BufferedServer._accept_queued`): a 503 ``busy`` in the API's JSON shape, with
    ``Retry-After``, ``Connection: close`` and the ``X-Request-ID`` header ``request_id`` (or none).
    Written by the server alone, before any request is read: it goes out whatever was asked (a HEAD
    too gets the body)."""
    headers, body = refusal(503, "Service Unavailable", STOPPING_FULL_MESSAGE, "busy")
    lines = [
        "HTTP/1.1 503 Service Unavailable",
        *(f"{name}: {value}" for name, value in headers),
        f"Retry-After: {BUSY_RETRY_AFTER_S}",
        *([f"{request_id[0]}: {request_id[1]}"] if request_id else []),
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


#: What it says: the instance is going and holds all it may (a balancer's next try goes elsewhere).
STOPPING_FULL_MESSAGE: Final[str] = (
    "the server is stopping and holds as many connections as it can: send the request again in a few seconds"
)

#: Methods that change nothing (RFC 9110 §9.2.1): a request from another site may use them.
SAFE_METHODS: Final[frozenset[str]] = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: What a request from another site is told when refused before its body (a fixed text: the
#: app's own refusal names the header that told, which may hold the client's words).
FOREIGN_BEFORE_BODY: Final[str] = (
    "this request came from another site (its Origin, Referer or Sec-Fetch-Site says so): reload moodtape "
    "from its own address; the body was not asked for"
)
#: The same, to a client that sent its body without waiting for ``100 Continue``: dropped as it came.
FOREIGN_BODY_DROPPED: Final[str] = (
    "this request came from another site (its Origin, Referer or Sec-Fetch-Site says so): reload moodtape "
    "from its own address; the body was ignored"
)


def _refused(why: str) -> _ExplainedError:
    """The 400 saying ``why`` (a fixed text of ours)."""
    return _ExplainedError(explained(why))


class _StrictChunkedReceiver(ChunkedReceiver):  # type: ignore[misc]
    """waitress's chunked body reader, refusing at once the lines RFC 9112 §7.1 does not allow, and
    a body split into more than :data:`MAX_CHUNKS` chunks.

    waitress looks only for CR LF: a chunk-size line, or a trailer, ended by a bare LF never ended,
    and empty lines where a chunk size belongs were skipped forever; the client waited for the idle
    timeout. Here each piece of input is checked before waitress's reader takes it, one line at a
    time, so that every line is seen; the trailer never reaches waitress's reader at all
    (:meth:`_take_trailer` reads it).

    A chunk costs the event loop, which every connection shares, a few microseconds whatever its
    size, and the body limit counts the bytes sent: one-byte chunks (``1\\r\\nA\\r\\n``) made a 10 MB
    body cost about 10 s of the loop, and one request of a million slowed ``/healthz`` from 1 ms to
    37 ms while it lasted. Hence :data:`MAX_CHUNKS`; and each read is walked by position, since
    cutting off what was left of it after every piece copied the read once per chunk in it.
    """

    error: Any  # waitress's: None, or the refusal
    completed: bool  # waitress's: the body and its trailer are read
    all_chunks_received: bool  # waitress's: the last (empty) chunk is read, or the body refused
    control_line: bytes  # waitress's: the chunk-size line read so far
    #: The piece :meth:`_next_piece` gave ends a chunk-size line (:meth:`_size_alone` reads it whole).
    _ends_a_size_line = False
    #: Chunk-size lines read so far (the last, empty chunk's included).
    chunks = 0
    #: Chunk-size lines allowed (:func:`chunk_bound` of the server's body limit).
    max_chunks = MAX_CHUNKS
    #: Bytes of chunk extensions read so far, the lines' whitespace included (:data:`MAX_CHUNK_EXTENSIONS`).
    extension_bytes = 0
    #: Where the trailer read so far stops (:func:`_scan_trailer`): at a line's start, in a field's
    #: name or value, or after a CR.
    _trailer_state = "line"
    #: Bytes of the trailer read so far (at most :data:`MAX_HEADER_BYTES`, its empty line included).
    _trailer_bytes = 0

    def received(self, s: bytes) -> int:
        at = 0
        while at < len(s) and not (self.completed or self.error):
            if self.all_chunks_received:
                return self._take_trailer(s, at)
            piece, why = self._next_piece(s, at)
            if why:
                self.error = _refused(why)
                self.all_chunks_received = True
                return len(s)
            taken = len(piece)
            if self._ends_a_size_line:
                piece = self._size_alone(piece)
            super().received(piece)
            at += taken
        return at

    def _size_alone(self, piece: bytes) -> bytes:
        """A whole chunk-size line (the ``piece`` that ends it, after what waitress holds of it) as
        the size and CR LF alone, when it is valid with its extensions; else ``piece`` as it is.

        waitress allows no whitespace before ``;`` or around ``=``, which RFC 9112 §7.1.1 allows
        (BWS): ``5 ;name=value`` was a 400 about the chunk size. No extension means anything to this
        server, so a valid line's are dropped here; an invalid line goes to waitress to be refused.
        """
        line = CHUNK_SIZE_LINE.fullmatch(self.control_line + piece)
        if line is None:
            return piece
        self.control_line = b""
        return line.group(1) + b"\r\n"

    def _next_piece(self, s: bytes, at: int) -> tuple[bytes, str]:
        """How much of ``s`` from ``at`` waitress's reader may take next, or why the body is refused."""
        self._ends_a_size_line = False
        if self.chunk_remainder > 0:
            return s[at : at + self.chunk_remainder], ""
        if self.validate_chunk_end:
            end = (self.chunk_end + s[at : at + 2])[:2]
            if end.startswith(b"\n"):
                return b"", "a chunk's data must end with CR LF"
            return s[at : at + 2 - len(self.chunk_end)], ""
        return self._size_line(s, at)

    def _take_trailer(self, s: bytes, at: int) -> int:
        """Read the trailer (and the empty line ending it) from ``s[at:]``; return where it was read to.

        waitress only looks for the trailer's end: ``0\\r\\nno colon here\\r\\n\\r\\n``, or a line
        holding a bare CR or a NUL, ended a body, lines no header may be (RFC 9112 §7.1.2, §5.1) and
        that HAProxy refuses with a 400. Each byte is looked at once, as it comes
        (:attr:`_trailer_state` holds where the last read stopped), and none is kept: the app never
        sees trailer fields. waitress's own reader joined every read to all it held and searched the
        whole again, so a 64 KiB trailer sent a byte at a time cost 1.4 s of CPU on the loop every
        connection shares. The section (field lines and the empty line) may be at most
        :data:`MAX_HEADER_BYTES` long, counted exactly however the reads split it.
        """
        stop = min(len(s), at + MAX_HEADER_BYTES - self._trailer_bytes)
        state, end, why = _scan_trailer(self._trailer_state, s, at, stop)
        if not why and end < 0 and stop < len(s):
            why = f"the trailer is longer than {MAX_HEADER_BYTES} bytes"
        if why:
            self.error = _refused(why)
            return len(s)
        self._trailer_state = state
        if end < 0:
            self._trailer_bytes += len(s) - at
            return len(s)
        self.completed = True
        return end

    def _size_line(self, s: bytes, at: int) -> tuple[bytes, str]:
        """The piece of ``s`` from ``at`` that holds (the rest of) a chunk-size line, or why it is refused.

        The line's length is bounded here, however it arrives: :meth:`_DrainingParser._bound_chunk_framing`
        sees only what waitress still holds after a read, so a 5 KiB line that came in one read passed.
        """
        stop = s.find(b"\n", at)
        if len(self.control_line) + (len(s) if stop < 0 else stop + 1) - at > MAX_CHUNK_LINE:
            return b"", f"a chunk-size line is longer than {MAX_CHUNK_LINE} bytes"
        if stop < 0:
            line = self.control_line + s[at:]
            return (b"", "a bare CR in a chunk-size line") if b"\r" in line[:-1] else (s[at:], "")
        line = self.control_line + s[at : stop + 1]
        if len(line) == 1 or line[-2:-1] != b"\r":
            return b"", "a chunk-size line must end with CR LF"
        if len(line) == 2:
            return b"", "an empty line where a chunk size belongs"
        if b"\r" in line[:-2]:
            return b"", "a bare CR in a chunk-size line"
        self.chunks += 1
        if self.chunks > self.max_chunks:
            return b"", f"the body is split into over {self.max_chunks} chunks"
        self.extension_bytes += len(line) - 2 - (len(line) - len(line.lstrip(HEX_DIGITS)))
        if self.extension_bytes > MAX_CHUNK_EXTENSIONS:
            return b"", f"the chunk extensions of one body are over {MAX_CHUNK_EXTENSIONS} bytes"
        self._ends_a_size_line = True
        return s[at : stop + 1], ""


class _DroppedBody:
    """Where a refused chunked body goes as it is read (:meth:`_DrainingParser._drop_chunked_body`):
    nowhere. It holds nothing, so it counts for nothing toward the unfinished bodies' budget either;
    it counts the data dropped (:attr:`dropped`), which the small JSON bound still applies to."""

    def __init__(self) -> None:
        self.dropped = 0

    def append(self, data: bytes) -> None:
        """Drop ``data`` (waitress's chunk reader appends each chunk's bytes here)."""
        self.dropped += len(data)

    def __len__(self) -> int:
        return 0

    def close(self) -> None:
        """Nothing to free (waitress closes a request's body buffer when it is done)."""


def _data_read(receiver: _StrictChunkedReceiver) -> int:
    """The bytes of body data ``receiver`` has read: those it holds, or those it dropped."""
    buf = receiver.buf
    return buf.dropped if isinstance(buf, _DroppedBody) else len(receiver)


def _long_request_line(before: bytes, data: bytes) -> bool:
    """Whether the request line of the request whose header bytes were ``before`` and then ``data``
    is at least :data:`LONG_REQUEST_LINE` long (or has not ended yet): its refusal is then a 414.

    An 8 MB address was a 431 "headers too large", where the client's fault is the address. Only
    the first :data:`LONG_REQUEST_LINE` bytes (after any blank lines) are looked at, once."""
    head = (before[: 2 * LONG_REQUEST_LINE] + data[: 2 * LONG_REQUEST_LINE]).lstrip(b"\r\n")
    return b"\n" not in head[:LONG_REQUEST_LINE]


def chunk_bound(max_body_bytes: int) -> int:
    """Chunks allowed in one body when bodies may be ``max_body_bytes`` long (see :data:`MIN_AVERAGE_CHUNK`)."""
    return max(MAX_CHUNKS, max_body_bytes // MIN_AVERAGE_CHUNK)


def field_count(header_plus: bytes) -> int:
    """How many header fields ``header_plus`` holds (the request line, the headers, the blank line
    that ends them), counted in one pass in C: its lines less the request line and the blank line.

    Lines are what waitress splits them at, CR LF: a bare LF inside a value was counted as a line of
    its own, so 60 fields holding one each were a 431 "more than 100 header fields" where the fault
    is the bare LF (a 400). A folded line still counts as one; folding is refused before the count.
    """
    return max(0, header_plus.count(b"\r\n") - 2)


def bare_cr_or_lf(header_plus: bytes) -> str:
    """waitress's refusal text for a CR or an LF in ``header_plus`` that is not part of a CR LF, or
    "" when there is none: waitress splits the lines at CR LF, and refuses a request line (less its
    trailing whitespace) or a header line still holding either. Counted in C, a few passes."""
    request_line, _, lines = header_plus.partition(b"\r\n")
    if b"\r" in request_line.rstrip() or b"\n" in request_line.rstrip():
        return "Bare CR or LF found in HTTP message"
    line_ends = lines.count(b"\r\n")
    if lines.count(b"\r") != line_ends or lines.count(b"\n") != line_ends:
        return "Bare CR or LF found in header line"
    return ""


def folds_a_line(header_plus: bytes) -> bool:
    """Whether a header line in ``header_plus`` (request line, headers) begins with a space or tab.

    That is obsolete line folding (RFC 9112 §5.2), or whitespace before the first header, which
    §2.2 has a server refuse. waitress joined a folded line to the one before it: a proxy in front
    that reads it otherwise (as a header of its own, or ignores it) sees other headers than moodtape
    does, a request smuggling shape. §5.2 lets a server refuse it with a 400; no client sends it today.
    """
    return b"\r\n " in header_plus or b"\r\n\t" in header_plus


def _scan_trailer(state: str, data: bytes, at: int, stop: int) -> tuple[str, int, str]:
    """Read ``data[at:stop]``, the next bytes of a trailer, from ``state`` (where the bytes before
    them stopped): the state they end in, where the trailer ends in ``data`` (after the CR LF of
    its empty line; -1 when not yet), and why the bytes are refused ("" when they are not).

    The states: ``line`` (a line's start), ``name`` (inside a field's name), ``value`` (after its
    colon), ``cr`` (after a field line's CR), ``blank-cr`` (after the CR of the empty line that
    ends the trailer). Each byte is looked at once, whole lines in one regex match.
    """
    while at < stop:
        if state == "line":
            at = _matched_to(TRAILER_FIELD_LINES, data, at, stop)
            if at == stop:
                break
            byte = data[at : at + 1]
            if byte == b"\r":
                state, at = "blank-cr", at + 1
            elif _NAME_BYTE.fullmatch(byte):
                state = "name"
            else:
                return state, -1, _trailer_byte_refused(byte, in_value=False)
        elif state in ("name", "value"):
            at = _matched_to(_TRAILER_NAME_BYTES if state == "name" else _TRAILER_VALUE_BYTES, data, at, stop)
            if at == stop:
                break
            byte = data[at : at + 1]
            if byte != (b":" if state == "name" else b"\r"):
                return state, -1, _trailer_byte_refused(byte, in_value=state == "value")
            state, at = ("value" if state == "name" else "cr"), at + 1
        else:  # after a CR, only an LF
            if data[at : at + 1] != b"\n":
                return state, -1, "a bare CR in a trailer line (lines end with CR LF)"
            if state == "blank-cr":
                return "line", at + 1, ""
            state, at = "line", at + 1
    return state, -1, ""


def _matched_to(pattern: re.Pattern[bytes], data: bytes, at: int, stop: int) -> int:
    """Where ``pattern`` (one that matches the empty string) stops matching ``data[at:stop]``."""
    found = pattern.match(data, at, stop)
    return at if found is None else found.end()


def _trailer_byte_refused(byte: bytes, in_value: bool) -> str:
    """Why a trailer is refused at ``byte``, which its field line may not hold where it stands (in
    the field's value or before it). Fixed texts: nothing the client sent is echoed."""
    if byte == b"\n":
        return "trailer lines must end with CR LF"
    if in_value:
        return "a trailer field's value holds a control character such as NUL (tab, space and visible bytes only)"
    return _NOT_A_TRAILER_FIELD


class _JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's refusal, in the API's JSON error shape with the security headers, in the version
    :meth:`_DrainingParser.answer_version` says, and without its body when the request was a HEAD
    (waitress sent the JSON after the headers of a HEAD's refusal, where the client reads none)."""

    def __init__(self, channel: Any, request: Any) -> None:
        super().__init__(channel, request)
        if isinstance(request, _DrainingParser):
            self.version = request.answer_version()

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        said = refusal_said(status, error.reason, _message_for(error), getattr(error, "api_code", None))
        headers, body = refusal(status, error.reason, said.message, said.code)
        self.status = f"{status} {error.reason}"
        self.response_headers.extend(headers)
        if answers_server_refusals(self.channel.server.application):
            # The app's answers all have an id, a count and a line: this one, which the app never
            # sees, gets them here (before session 39 it had none of them).
            given = str(self.request.headers.get("X_REQUEST_ID", ""))
            self.response_headers.append(note_answered_alone(status, said.code, given))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            self.response_headers.append(("Retry-After", str(retry_after)))
        self.set_close_on_finish()
        self.channel.linger_on_close = True
        self.content_length = len(body)
        if isinstance(self.request, _DrainingParser) and self.request.asked_for_head():
            self.write(b"")  # the headers alone; Content-Length says what a GET's body would be
            return
        self.write(body)

    def build_response_header(self) -> bytes:
        """waitress's header, less the ``Connection: Keep-Alive`` it adds for an HTTP/1.0 client that
        asked for it: a refusal always closes, and says so only once."""
        return _closing_said_once(super().build_response_header(), self.close_on_finish)


class _ConnectionListTask(WSGITask):  # type: ignore[misc]
    """waitress's task for the app's answers, closing after one when ``close`` is anywhere in the
    request's ``Connection`` list.

    waitress closes only for a header that is exactly ``close``; RFC 9110 (section 7.6.1) makes the
    header a list, and clients send ``Connection: TE, close`` (libwww-perl) or ``keep-alive, close``.
    Their connection stayed open for the idle timeout (a minute), and a client reading the answer
    to the end of the stream waited that long for it.
    """

    def get_environment(self) -> dict[str, Any]:
        """waitress's environ, with the refusal the app is to answer for a body refused by its head
        (:meth:`_DrainingParser.answer_refusal_in_the_app`; the body itself is not there)."""
        environ: dict[str, Any] = super().get_environment()
        refused = getattr(self.request, "refused_body", None)
        if refused is not None:
            environ[REFUSED_BY_THE_SERVER] = refused
        return environ

    def build_response_header(self) -> bytes:
        if self.version == "1.1" and asks_to_close(self.request.headers.get("CONNECTION", "")):
            self.set_close_on_finish()
        if getattr(self.request, "ends_the_connection", False):
            # The body announced was never asked for, or was refused: the client may still send it, so
            # the connection carries no further request; what comes is dropped as the close lingers.
            self.set_close_on_finish()
            self.channel.linger_on_close = True
        # When the answer begins, not when bytes move: blank lines read, or TLS handshake bytes sent
        # (web/tls_channel.py counts them in bytes_sent), are no answer (web/eviction.py).
        self.channel.answered_at = time.time()
        if self.channel.close_after_answer:  # room asked for (web/eviction.py), or a stop
            self.set_close_on_finish()
        stays_open = self._may_stay_open_without_a_length()
        header = super().build_response_header()
        if stays_open and self.close_on_finish:
            header = self._kept_open(header)
        return _closing_said_once(header, self.close_on_finish)

    def _may_stay_open_without_a_length(self) -> bool:
        """Whether the answer has no body and nothing else closes the connection after it: the
        request kept it (HTTP/1.1, or HTTP/1.0 asking ``keep-alive`` as waitress reads it), and the
        app's answer has no ``Connection`` header of its own (waitress's ``close`` is then the only one)."""
        if self.has_body or self.close_on_finish:
            return False
        if self.version == "1.0" and self.request.headers.get("CONNECTION", "").lower() != "keep-alive":
            return False
        return all(name.lower() != "connection" for name, _ in self.response_headers)

    def _kept_open(self, header: bytes) -> bytes:
        """``header`` for a connection kept open after an answer without a body (a 304; a 204, 1xx),
        which waitress closes as it closes any answer without ``Content-Length``.

        RFC 9112 (section 6.3) ends such an answer at its blank line whatever its headers, so nothing
        is left to frame: every revalidation that a browser, a cache or a proxy's pool made on a
        kept-alive connection (a 304) closed it, and the next request paid for a new connection (and
        over HTTPS a new handshake). An HTTP/1.0 client that asked to keep the connection is told so,
        as after an answer with a length.
        """
        self.close_on_finish = False
        said = b"\r\nConnection: Keep-Alive" if self.version == "1.0" else b""
        return header.replace(b"\r\nConnection: close", said, 1)


def _request_may_come(channel: JsonErrorChannel, quiet_since: float) -> bool:
    """Whether an idle ``channel`` that stays open may be about to get a request: bytes wait unread
    on it (a next request, or the client's close), or it was active after ``quiet_since``.

    Never for a channel already closing or lingering: it reads nothing more. The loop's next turn
    reads what waits, and a request begun is then busy, an end of stream closes the channel.
    """
    if channel.closed or channel.lingering or channel.will_close or channel.close_when_flushed:
        return False
    if float(channel.last_activity) > quiet_since:  # waitress's wall-clock time of its last read or write
        return True
    try:
        readable, _, _ = select.select([channel.socket], [], [], 0)
    except (OSError, ValueError):  # closed under us: nothing to read
        return False
    return bool(readable)


def _turn_away(sock: socket.socket, tls: bool, noted: bool) -> socket.socket | None:
    """Answer :func:`_stopping_full` on ``sock``, a connection accepted past the limit during a stop,
    and shut its sending side; returns it for a lingering close (:class:`_TurnedAway`), or None once
    closed. What the client sent is read first (at most :data:`LINGER_BYTES`, what has come). When
    ``noted`` (the app answers the server's refusals), it is counted in the metrics and has an id.

    Closed at once, as until a review of session 39, a client whose request was still coming (a
    body sent after the head) got a reset, and its next send failed before it read the 503.

    Over TLS no answer can be read without a handshake, which the stop does not make room for: the
    connection is closed, as every queued one was before session 38.
    """
    try:
        sock.setblocking(False)
        _read_and_drop(sock, LINGER_BYTES)
        if not tls:
            request_id = note_answered_alone(503, "busy", log=False) if noted else None
            sock.send(_stopping_full(request_id))  # a few hundred bytes: an empty send buffer takes them whole
            sock.shutdown(socket.SHUT_WR)
            return sock
    except OSError:
        pass
    sock.close()
    return None


def _read_and_drop(sock: socket.socket, most: int) -> tuple[int, bool]:
    """Read and drop what has come on the non-blocking ``sock``, at most about ``most`` bytes: how
    many, and whether the stream ended (or failed)."""
    read = 0
    try:
        while read <= most:
            data = sock.recv(65536)
            if not data:
                return read, True
            read += len(data)
    except (BlockingIOError, InterruptedError):
        return read, False
    except OSError:
        return read, True
    return read, False


class _TurnedAway:
    """A connection a stop answered 503 past the connection limit (:func:`_turn_away`), lingering:
    what its client still sends is read and dropped until it closes, or for at most
    :data:`LINGER_SECONDS` and :data:`LINGER_BYTES`, as after the server's other refusals, so that
    the close is not a reset that fails the client's sends before it reads its answer. It is kept
    out of waitress's map: it takes no room under the connection limit."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.until = time.monotonic() + LINGER_SECONDS
        self.dropped = 0

    def linger(self) -> bool:
        """Drop what has come; whether to keep lingering (False: closed now)."""
        read, ended = _read_and_drop(self.sock, LINGER_BYTES - self.dropped)
        self.dropped += read
        if ended or self.dropped > LINGER_BYTES or time.monotonic() >= self.until:
            self.sock.close()
            return False
        return True


def _close_too_slow(waited_on: dict[JsonErrorChannel, int], least: float) -> None:
    """Close each connection of ``waited_on`` (the bytes it had received as a span of a drain began)
    that still waits on its client and received fewer than ``least`` bytes since (:data:`DRAIN_PACE_S`).

    Only those waited on for the whole span: a connection answered during it may be about to send
    its next request. It is closed without an answer, as the drain's deadline would have closed it.
    """
    for channel, received in waited_on.items():
        if channel.waits_on_client() and channel.bytes_received - received < least:
            close_soon(channel)


def _closing_said_once(header: bytes, closing: bool) -> bytes:
    """``header`` (waitress's), less the ``Connection: Keep-Alive`` it adds for an HTTP/1.0 client that
    asked for it when the connection closes after this answer (``closing``): waitress says both, and a
    client told to keep the connection (ab) sends its next request on a closing one and counts a reset."""
    return header.replace(b"\r\nConnection: Keep-Alive", b"") if closing else header


def _unparsable(target: str) -> Error:
    """The refusal of a request whose parsing raised ValueError: urllib's ``urlsplit`` refusing the
    ``target`` (``http://[::1/``, ``http://[zz]/``: a bracketed host that is no IPv6 address, the only
    ValueErrors it raises on bytes) says so; any other cause the general 400."""
    try:
        urlsplit(target.encode("latin-1"))
    except UnicodeError:
        pass
    except ValueError:
        return _refused("the request target is not a valid URI (a host in [ ] must be an IPv6 address)")
    return BadRequest("unparsable request")


def _message_for(error: Error) -> str | None:
    """What the refusal ``error`` says to the client: our own reason, waitress's made ours
    (web/framing_reasons.py), or None for the status's general message."""
    if isinstance(
        error,
        _ExplainedError
        | _NotProvidedError
        | _TooManyFieldsError
        | _ForeignSiteError
        | _UnwantedBodyError
        | _BodiesFullError,
    ):
        return str(error.body)
    if isinstance(error, BadRequest) and isinstance(error.body, str):
        return client_reason(error.body)
    return None


def expects_nothing_unknown(expect: str) -> bool:
    """Whether an ``Expect`` header's list holds no expectation but ``100-continue`` (in any case)."""
    return {member.strip(" \t").lower() for member in expect.split(",")} <= {"", "100-continue"}


def transfer_codings(header_plus: bytes) -> list[bytes]:
    """The codings a request's ``Transfer-Encoding`` lines list, lowercased, in the order applied:
    every such line, in order, makes one list (RFC 9110 §5.3), and empty members count for nothing
    (§5.6.1), as waitress reads them."""
    return [
        coding
        for line in get_header_lines(header_plus.partition(b"\r\n")[2])
        if line.partition(b":")[0].lower() == b"transfer-encoding"
        for member in line.partition(b":")[2].split(b",")
        if (coding := member.strip(b" \t").lower())
    ]


def asks_to_close(connection: str) -> bool:
    """Whether a ``Connection`` header's list of options holds ``close`` (in any case)."""
    return "close" in {option.strip(" \t").lower() for option in connection.split(",")}


class _DrainingParser(HTTPRequestParser):  # type: ignore[misc]
    """Reads and drops what is left of a refused request (up to :data:`DRAIN_LIMIT`) before answering.

    A too-large declared body is read to its end; headers over the limit are read to the blank line
    that ends them, unless the read that went over the limit held that line already. Nothing is
    kept but the last three bytes (to find that line across reads).

    It also refuses a request with both ``Content-Length`` and ``Transfer-Encoding`` (a request
    smuggling shape), and an HTTP/1.0 request with ``Transfer-Encoding`` at all: RFC 9112 §6.1 lets
    a server refuse them, and says the connection must not carry another request after them (the
    refusal closes it).
    """

    error: Any  # waitress's: None, or the refusal to answer with
    completed: bool  # waitress's: the request (headers and body) has been read, or refused
    empty: bool  # waitress's: what came was blank lines only, no request
    body_rcv: Any  # waitress's: None, or the body's receiver
    chunked: bool  # waitress's: the body is chunked
    content_length: int  # waitress's: the body's declared length (0: none)
    expect_continue: bool  # waitress's: the client waits for 100 Continue before its body
    #: The refusal to answer with instead of the one waitress makes of our ParsingError (which
    #: would say only "Bad Request"); None when waitress's own is meant.
    _refusal: Error | None = None
    path: str  # waitress's: the target's path, unquoted
    _discard = 0
    _until_blank = False
    _tail = b""
    #: The request line has ended (and was looked at for a missing version).
    _line_seen = False
    #: Bytes of blank lines skipped before the request line (:meth:`_skip_blank_lines`).
    _blank = 0
    #: The last read ended in a CR before the request line: the next must begin with its LF.
    _pending_cr = False
    #: Why what came before the request line is refused (a bare CR, other whitespace), "" when nothing
    #: is: said once the request line ends, to answer in its version (:meth:`_skip_blank_lines`).
    _lead_problem = ""
    #: The first bytes the client sent for this request (:data:`REQUEST_START` of them at most).
    _start = b""
    #: The request line, read whole (:meth:`_incomplete_request_line`), says HTTP/1.0: a refusal then
    #: answers in HTTP/1.0, whatever it refuses (a bare LF, headers over the limit, ...).
    _said_http_1_0 = False
    #: The last bytes of a request line too long to read, while the rest of it is dropped.
    _line_tail = b""
    #: The body is chunked, for an endpoint whose body is a small JSON object: past the app's bound it
    #: is refused as the app would, and no more of it is read (:meth:`_bound_chunk_framing`).
    small_json_body = False
    #: The refusal a chunked body is read and dropped for, answered once it ends (:meth:`_drop_chunked_body`).
    _refused_after_body: Error | None = None
    #: The app the request is for (set by the channel), whose routes tell a body it would not read.
    application: Any = None
    #: The request was handed on without the body its head announced
    #: (:meth:`_leave_an_options_body_unasked`): its connection ends with its answer.
    body_unasked = False
    #: The refusal of the body that the app answers (:meth:`answer_refusal_in_the_app`), the request
    #: handed on without its body; its connection ends with its answer. None for any other request.
    refused_body: BodyRefusal | None = None
    #: waitress read the request line and headers (``command``, ``path`` and ``headers`` are set).
    _head_read = False

    @property
    def ends_the_connection(self) -> bool:
        """The request was handed to the app without the body its head announced: nothing after it
        on the connection is read as a request."""
        return self.body_unasked or self.refused_body is not None

    def answer_refusal_in_the_app(self) -> None:
        """Have the app answer this request's refusal by its head, once it is complete.

        A body refused by its head (too large for the server, one the app would refuse unread,
        another site's: :meth:`_refuse_unwanted_body`, :meth:`_refuse_foreign_before_body`) was
        answered by the server alone: no ``X-Request-ID``, no log line, no count in the metrics, and
        not counted by the rate limit, so a client could send such bodies without end and never
        hear a 429. Now the request goes to the app (a worker thread, like any request) without its
        body, the refusal under :data:`~moodtape.web.refusals.REFUSED_BY_THE_SERVER`: the app's
        limit comes first, then the same status, code and words. Nothing changes for the body: it
        was never asked for, or was dropped as it came (none of it is handed on). Only for an app
        that answers them (:func:`~moodtape.web.refusals.answers_server_refusals`), and a head read
        whole with one valid ``Host`` (or none); the server still answers the others itself.

        So does an upload let go of for the budget of unfinished bodies (:meth:`shed_body`), since
        session 39: its 503 ``busy`` keeps its ``Retry-After``, and its log line says why it was refused.
        """
        error = self.error
        if not (
            self._head_read
            and isinstance(error, RequestEntityTooLarge | _UnwantedBodyError | _ForeignSiteError | _BodiesFullError)
            and one_host(self.headers.get("HOST", ""))
            and answers_server_refusals(self.application)
        ):
            return
        said = refusal_said(int(error.code), error.reason, _message_for(error), getattr(error, "api_code", None))
        if isinstance(error, _BodiesFullError):
            said = said._replace(retry_after=error.retry_after, logged_as=LET_GO_FOR_THE_BUDGET)
        self.refused_body = said
        self.error, self.body_rcv = None, None  # the app's task, with an empty body (whatever was held goes)

    def answer_version(self) -> str:
        """The HTTP version a refusal of this request answers in: ``1.0`` when a request line that
        said HTTP/1.0 was read, else ``1.1``, the highest this server speaks (RFC 9110 §2.5).

        waitress answers in the version it parsed, and parses a made-up ``GET / HTTP/1.0`` line for
        headers over the limit: a 414 or 431 to an HTTP/1.1 client, and the 505 to an HTTP/2
        preface, began ``HTTP/1.0`` where every other answer began ``HTTP/1.1``.
        """
        return "1.0" if self._said_http_1_0 else "1.1"

    def asked_for_head(self) -> bool:
        """Whether the request's method is ``HEAD``, from the bytes sent (waitress's ``command`` may be
        unset, or its made-up ``GET``): the answer to a HEAD has no body (RFC 9110 §9.3.2)."""
        return self._start.startswith(b"HEAD ")

    def _starts_a_tls_handshake(self, data: bytes) -> bool:
        """Whether the request so far, with ``data``, begins as a TLS handshake (:data:`TLS_HANDSHAKE`).

        Looked at only while fewer bytes than that are buffered (once more are, the first read already
        told): joining the buffered headers with each read made one more copy of them per read.
        """
        wanted = len(TLS_HANDSHAKE)
        if self.body_rcv is not None or len(self.header_plus) >= wanted:
            return False
        head: bytes = self.header_plus + data[:wanted]
        return head.startswith(TLS_HANDSHAKE)

    def received(self, data: bytes) -> int:
        if self._discard or self._until_blank:
            return self._drop(data)
        if self._before_request_line() and (data[:1].isspace() or self._pending_cr):
            skipped = self._skip_blank_lines(data)
            if skipped or self.completed:
                return skipped
        if len(self._start) < REQUEST_START and self.body_rcv is None:
            self._keep_start(data)
        if self._starts_a_tls_handshake(data):
            # ``curl https://`` to the plain HTTP port: its handshake holds no line break, so the
            # request never ended and the client waited for the idle timeout (a minute) to say
            # "timed out". A request line cannot begin with this control byte: refuse at once, and
            # the client reports its TLS error ("wrong version number") as soon as it reads it.
            self.error = _refused("a TLS handshake on a plain HTTP port")
            self.completed = True
            return len(data)
        why = self._incomplete_request_line(data)
        if why:
            self.error = _refused(why)
            self.completed = True
            return len(data)
        header_ends_here = self.body_rcv is None and find_double_newline(self.header_plus + data) >= 0
        if self.body_rcv is None and not header_ends_here and b"\n\n" in self.header_plus + data:
            # Lines ended by a bare LF: waitress looks only for CR LF CR LF, so the request never
            # ended and the client waited a minute for the idle timeout. RFC 9112 (section 2.2) lets
            # a server refuse them; say so at once.
            self.error = _refused("header lines must end with CR LF, not a bare LF")
            self.completed = True
            return len(data)
        before = self.header_plus
        consumed: int = super().received(data)
        if self.empty and self._lead_problem:
            # A CR alone, then CR LF CR LF over later reads: waitress strips all of it as an empty
            # request, and the request after it would be served as if nothing had come before.
            self.empty, self.error = False, _refused(self._lead_problem)
        if self._refusal is not None and self.error is not None:
            self.error = self._refusal
        if type(self.error) is RequestHeaderFieldsTooLarge and _long_request_line(before, data):
            self.error = _UriTooLongError("the request line is too long")
        self._bound_chunk_framing()
        if self._refused_after_body is not None and self.completed:
            self.error = self._refused_after_body  # however the drain ended: the last chunk, a fault, the limit
        if isinstance(self.error, RequestHeaderFieldsTooLarge):
            if not header_ends_here:  # else the refusal is due now: waiting would hang the client
                self._until_blank, self._discard, self.completed = True, DRAIN_LIMIT, False
                self._tail = (self.header_plus + data)[-3:]
                self._line_tail = (self.header_plus + data)[-len(b" HTTP/1.0\r") :]
                self._line_seen = self._line_seen or b"\n" in self.header_plus or b"\n" in data  # ended unread
        elif self._drains_before_answering():
            self._discard, self.completed = self.content_length, False
        return consumed

    def _drains_before_answering(self) -> bool:
        """Whether the body of this refused request is read and dropped before its answer goes out.

        A client that sends its body without waiting for ``100 Continue`` (Python's urllib, requests
        and httpx, browsers) would see "broken pipe" rather than the answer if the connection closed
        under it. So a body refused from its head alone, too large for the server or one the app would
        refuse unread (:meth:`_refuse_unwanted_body`), is read to its declared end, up to
        :data:`DRAIN_LIMIT`, and nothing of it is kept. A chunked body has no declared end to read to.
        """
        return (
            isinstance(self.error, RequestEntityTooLarge | _UnwantedBodyError | _ForeignSiteError)
            and not self.chunked
            and not self.expect_continue  # those clients wait for our answer before sending
            and 0 < self.content_length <= DRAIN_LIMIT
            and self.body_bytes_received == 0
        )

    def _keep_start(self, data: bytes) -> None:
        """Add ``data`` to the request's first bytes (:attr:`_start`), which begin at its first byte
        that is no whitespace.

        Stray whitespace before a request line (a VT, a space: not blank lines) is read on, to be
        refused once the line ends. Kept as it came, 64 such bytes filled :data:`REQUEST_START` and
        left no room for the method: a refused ``HEAD`` got the 160-byte body of the 400.
        """
        at = 0
        if not self._start:
            visible = NOT_WHITESPACE.search(data)
            if visible is None:
                return
            at = visible.start()
        self._start = (self._start + data[at : at + REQUEST_START])[:REQUEST_START]

    def begun(self) -> bool:
        """Whether anything but blank lines has come for this request (a connection that sent only
        those waits for a request, as one that sent nothing does)."""
        return bool(self.header_plus or self.body_rcv is not None or self.completed or self._start)

    def _before_request_line(self) -> bool:
        """Whether nothing of the request line has come yet (only blank lines, if anything)."""
        return not self.header_plus and self.body_rcv is None and not self._lead_problem

    def _skip_blank_lines(self, data: bytes) -> int:
        """Take the blank lines before a request in one step, up to :data:`MAX_BLANK_BYTES`; how
        many bytes of ``data`` they are.

        waitress made each CR LF CR LF an empty request of its own and copied what was left of the
        read after each one: a client streaming blank lines cost the loop time that grows with the
        square of the read, and four of them made ``/healthz`` take 1.1 s (median) instead of 2 ms.
        RFC 9112 §2.2 asks a server to ignore at least one blank line before a request; more than
        :data:`MAX_BLANK_BYTES` of them are a 400 (nothing was asked).

        A blank line is CR LF, or LF alone (§2.2 lets a server take LF as a line's end). Any other
        whitespace there (a CR alone, a space, a tab, VT, FF) begins no line at all: §2.2 says a bare
        CR is invalid, and a request line begins with its method (§3); HAProxy refuses them all,
        nginx all but the lone CR. They were skipped, so a proxy in front that framed ``\\rGET /a``
        otherwise saw another request than this server. Such a byte is noted (:attr:`_lead_problem`)
        and refused with a 400 once the request line ends, in the version that line says, as other
        refusals are.
        """
        lead = (b"\r" if self._pending_cr else b"") + data
        blank = len(lead) - len(lead.lstrip(b"\r\n"))
        stray = BARE_CR.search(lead, 0, blank)
        bare_cr = stray.start() if stray else -1
        self._pending_cr = bare_cr == len(lead) - 1  # a CR ending the read: its LF may come next
        if bare_cr >= 0 and not self._pending_cr:
            blank = bare_cr
            self._lead_problem = "a CR without its LF before the request line"
        elif blank < len(lead) and lead[blank : blank + 1].isspace():
            self._lead_problem = "whitespace before the request line (only empty lines, CR LF, may come first)"
        skipped = max(0, blank - (len(lead) - len(data)))
        self._blank += skipped
        if self._blank > MAX_BLANK_BYTES:
            self.error = _refused(f"over {MAX_BLANK_BYTES} bytes of blank lines where a request line belongs")
            self.completed = True
            return len(data)
        return skipped

    def _incomplete_request_line(self, data: bytes) -> str:
        """Why the request line that ``data`` ends is refused at once ("" when it is not, or when it
        does not end here).

        A line of one or two words (``GET /``, HTTP/0.9's request) is no HTTP/1.x request line.
        waitress waited for the blank line that ends the headers, which an HTTP/0.9 client never
        sends: it got nothing until the idle timeout (a minute). Now a 400 as soon as the line ends.
        """
        if self._line_seen or self.body_rcv is not None:
            return ""
        # Blank lines may come before a request; a body or pipelined requests after it are not looked at.
        head = (self.header_plus + data[:MAX_HEADER_BYTES]).lstrip(b"\r\n")
        end = head.find(b"\n")
        if end < 0:
            return ""
        self._line_seen = True
        self._said_http_1_0 = head[:end].rstrip().endswith(b" HTTP/1.0")  # whatever is refused later
        if self._lead_problem:
            return self._lead_problem
        words = head[:end].split()
        if len(words) == 2:
            return "the request line has no HTTP version: end it with HTTP/1.1"
        if len(words) < 2:
            return "the request line must be 'METHOD /path HTTP/1.1', one space between each part"
        return ""

    def _bound_chunk_framing(self) -> None:
        """Refuse a chunked body whose size line outgrows its bound, or whose next chunk alone would
        take it over the body limit.

        The line is held unbounded by waitress, outside what :mod:`~moodtape.web.eviction` counts as
        a body's bytes, and rescanned whole on every read: CPU that grows with the square of the
        size (the trailer is never held: :meth:`_StrictChunkedReceiver._take_trailer`). A chunk
        declared larger than the body limit (``FFFFFFFFFFFF``) was refused by waitress only once
        that many bytes had come: a client that stopped after the size line waited for the idle
        timeout, one that went on sent the whole limit for nothing. The 413 now comes at once, as
        for a too-large ``Content-Length``.

        A body for an endpoint that takes a small JSON object (:attr:`small_json_body`) is bounded
        the same way at the app's :data:`~moodtape.web.refusals.SMALL_JSON_BYTES` (its data, not its
        framing): waitress read and held 5 MB sent chunked to ``/api/feedback`` for the app's 413
        "at most 64 KiB"; it is that 413 once the data, or a chunk declared, goes past 64 KiB. A
        body dropped for a refusal decided from its head (:meth:`_drop_chunked_body`) is bounded
        there too, and that refusal is the answer.
        """
        receiver = self.body_rcv
        if not self.chunked or receiver is None or self.completed:
            return
        if len(receiver.control_line) > MAX_CHUNK_LINE:
            self.error = BadRequest("a chunk-size line is too long")
            self.completed = True
        elif self.body_bytes_received + receiver.chunk_remainder >= self.adj.max_request_body_size:
            self.error = RequestEntityTooLarge("a chunk is larger than the body limit")
            self.completed = True
        elif self.small_json_body and _data_read(receiver) + receiver.chunk_remainder > SMALL_JSON_BYTES:
            # The app's own 413, once the body, or the chunk begun, is past the bound it reads (a body
            # being dropped hears the refusal decided from its head instead: received()).
            self.error = _UnwantedBodyError(SMALL_JSON_REFUSAL)
            self.completed = True

    def _answered_as_the_app_would(self) -> bool:
        """Whether the server may refuse this request's body in the app's words: its target is a plain
        path (no escape, no second leading slash, not absolute) with one valid ``Host``. The app
        answers the others otherwise (a redirect, its 400 for the ``Host``), so they are left to it."""
        host = self.headers.get("HOST", "")
        plain_path = self.request_uri.partition("?")[0] == self.path and not self.path.startswith("//")
        return plain_path and bool(host) and one_host(host)

    def _small_json_route(self) -> bool:
        """Whether the request is for an endpoint whose body is a small JSON object (web/refusals.py)."""
        return small_json_route(self.application, self.command, self.path)

    def parse_header(self, header_plus: bytes) -> None:
        request_line = header_plus.partition(b"\r\n")[0]
        if HTTP_1_1_OR_LATER.search(request_line.rstrip()):
            # What waitress sets only once it has read the request line: a refusal before that was
            # an ``HTTP/1.0 400`` status line to an HTTP/1.1 client.
            self.version = "1.1"
        if folds_a_line(header_plus):
            raise self._refuse(
                _refused(
                    "a header line begins with a space or tab (obsolete line folding, RFC 9112 section 5.2): "
                    "send each header on one line"
                )
            )
        if field_count(header_plus) > MAX_HEADER_FIELDS:  # counted before waitress reads any of them
            bare = bare_cr_or_lf(header_plus)
            if bare:
                # waitress's own refusal (its text made ours by _message_for), as with fewer fields:
                # the line breaks are what is wrong, not the count.
                raise ParsingError(bare)
            raise self._refuse(_TooManyFieldsError(f"the request has more than {MAX_HEADER_FIELDS} header fields"))
        if CONTROL_BYTE.search(request_line):
            # waitress takes any byte but a space in a target: ``GET /\x00`` and ``GET /\x1b[2J`` were
            # routed (404s, logged with the raw bytes). RFC 9112 section 3.2: a target has no controls.
            raise self._refuse(
                _refused(
                    "the request line holds a control character (NUL, tab, ...): separate its parts by one "
                    "space, and percent-encode such a byte in the target (%00)"
                )
            )
        if TOO_LONG_CONTENT_LENGTH.search(header_plus):
            raise self._refuse(RequestEntityTooLarge(f"Content-Length over {MAX_CONTENT_LENGTH_DIGITS} digits"))
        header_plus = CONTENT_LENGTH_ZEROS.sub(rb"\1", SPACE_AFTER_COLON.sub(rb"\1", header_plus))
        try:
            super().parse_header(as_highest_minor(header_plus))  # HTTP/1.2 is read as 1.1 (web/request_line.py)
        except TransferEncodingNotImplemented as error:
            if b"chunked" in transfer_codings(header_plus)[:-1]:
                # waitress made a 501 of any list holding a coding but chunked: ``chunked, identity`` was
                # "not supported; send it chunked". RFC 9112 §6.3: chunked not last leaves the body's
                # length unknown, a 400 whatever the other codings are, and the connection closes.
                raise self._refuse(
                    _refused("Transfer-Encoding must end with chunked: send chunked alone, last in the list")
                ) from error
            raise  # a coding this server does not know (gzip alone, or before chunked): waitress's 501
        except ValueError as error:
            # waitress catches only UnicodeError: any other ValueError closed the connection without
            # an answer, and the log got an "uncaptured python exception" with its traceback.
            raise self._refuse(_unparsable(getattr(self, "request_uri", ""))) from error
        self._head_read = True
        self._join_cookie_lines(header_plus)
        if not self.version:  # "GET /": HTTP/0.9's form, which has no headers to go with them
            raise self._refuse(_refused("the request line has no HTTP version: end it with HTTP/1.1"))
        if request_line == HTTP2_PREFACE_LINE:
            raise self._refuse(_Http2PrefaceError("HTTP/2 is not served: send the request as HTTP/1.1"))
        if not self.version.startswith("1."):
            raise self._refuse(_VersionNotSupportedError("only HTTP/1.0 and HTTP/1.1 are served"))
        self._refuse_other_targets()
        self._refuse_a_fragment()
        self._take_target_authority()
        if self.version == "1.1" and not expects_nothing_unknown(self.headers.get("EXPECT", "")):
            # RFC 9110 §10.1.1 lets a server refuse an expectation it does not know with a 417 (as
            # gunicorn's own workers do); waitress ran the request as if none was asked. HTTP/1.0 has no Expect.
            raise self._refuse(_ExpectationFailedError("an Expect other than 100-continue"))
        if self.chunked:
            if transfer_codings(header_plus).count(b"chunked") > 1:  # RFC 9112 §6.1: chunked is applied once, last
                raise self._refuse(_refused("Transfer-Encoding applies chunked more than once"))
            self.body_rcv = _StrictChunkedReceiver(self.body_rcv.buf)
            self.body_rcv.max_chunks = chunk_bound(self.adj.max_request_body_size)
        elif self.version == "1.1" and any(
            line.partition(b":")[0].strip(b" \t").lower() == b"transfer-encoding"
            for line in get_header_lines(header_plus.partition(b"\r\n")[2])
        ):
            # An empty list of codings (``Transfer-Encoding:`` or ``Transfer-Encoding: ,``), which
            # waitress drops and then frames the body by Content-Length. RFC 9112 §6.1: a request
            # whose Transfer-Encoding does not end in chunked has no reliable length (400, closed).
            raise self._refuse(_refused("Transfer-Encoding lists no coding: send chunked, or leave the header out"))
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise self._refuse(_refused("a request may have Content-Length or Transfer-Encoding, not both"))
        if "TRANSFER_ENCODING" in self.headers:
            # waitress reads HTTP/1.0 bodies by Content-Length and leaves this header in place, but a
            # proxy in front may have framed the body by it: RFC 9112 §6.1 calls the framing faulty.
            raise self._refuse(_refused("Transfer-Encoding is not part of HTTP/1.0: send HTTP/1.1"))
        self.small_json_body = self.chunked and self._answered_as_the_app_would() and self._small_json_route()
        self._refuse_foreign_before_body()
        self._refuse_unwanted_body()
        self._leave_an_options_body_unasked()

    def _refuse_foreign_before_body(self) -> None:
        """Refuse, by its head, a request with a body that the browser marks as another site's
        (:func:`~moodtape.web.security.foreign_by_headers`): every endpoint that takes a body
        refuses such a request (403 ``csrf_failed``) without reading it, and asking for the body
        first made the client send all of it (10 MB of a photo) to be refused. With ``Expect:
        100-continue`` it is refused before the body is asked for; the refusal closes the connection,
        dropping a body the client sends anyway (it lingers). Sent at once by its ``Content-Length``,
        the body is read and dropped as it comes before the answer (:meth:`_drains_before_answering`):
        until session 35 waitress read and held it whole for the app's 403 (5,000,000 bytes of a
        5 MB photo posted to ``/api/analyze``), but for a body the app refuses unread anyway. A
        chunked one sent at once has no length to drain by: read for the app, which refuses it.
        A request without one valid ``Host`` is left to the app, whose 400 for that comes first, and
        so is a safe method's (a page elsewhere may link to a GET).
        """
        if self.chunked and not self.expect_continue:
            return
        if (self.chunked or self.content_length > 0) and self._from_another_site():
            raise self._refuse(_ForeignSiteError(FOREIGN_BEFORE_BODY if self.expect_continue else FOREIGN_BODY_DROPPED))

    def _from_another_site(self) -> bool:
        """Whether this request would change state and its headers show it came from another site
        (:func:`~moodtape.web.security.foreign_by_headers`), with one valid ``Host`` to tell by."""
        host = self.headers.get("HOST", "")
        changes_state = self.command not in SAFE_METHODS
        return changes_state and bool(host) and one_host(host) and foreign_by_headers(self.headers, self.url_scheme)

    def _refuse_unwanted_body(self) -> None:
        """Refuse, from its head, a body the app would refuse unread
        (:func:`~moodtape.web.refusals.unwanted_body`: a compressed body, a JSON body over its bound
        or of another type), with the app's own status, code and words.

        A client that waits for ``100 Continue`` is refused before it sends the body (it was told to
        go on, and sent it all: 5 MB to ``/api/feedback`` for its 413 "at most 64 KiB", or a gzipped
        photo for its 415). A client that sends its body at once, by its ``Content-Length``, is refused
        the same way, its body read and dropped before the answer (:meth:`_drains_before_answering`):
        waitress read and held it all (5,000,000 bytes of those 5 MB) for the app to refuse. Another
        site's request has heard its 403 first (:meth:`_refuse_foreign_before_body`), unless chunked
        and sent at once: it hears it here. A chunked body sent at once has no length to drain by: it
        is read to its last chunk and dropped as it comes (:meth:`_drop_chunked_body`), then refused
        the same way. Only a compressed one can be refused by its head (a chunked body's size is
        bounded on the small JSON endpoints as it comes, :meth:`_bound_chunk_framing`).

        Only when the target is a plain path (no escape, no second leading slash, not absolute: the
        app answers those otherwise) with one valid ``Host``. This refusal comes before every check
        of the app's but the rate limit (its ``Host`` and query checks, the CSRF token): a request
        failing one of those too is told of its body first; it was refused either way. The app
        answers it without the body (:meth:`answer_refusal_in_the_app`): its ``X-Request-ID``, log
        line, metrics and rate limit.
        """
        wants_body = self.chunked or self.content_length > 0
        if not (wants_body and self._answered_as_the_app_would()):
            return
        said = unwanted_body(self.application, self.command, self.path, self.headers)
        if said is None:
            return
        if not (self.chunked and not self.expect_continue):
            raise self._refuse(_UnwantedBodyError(said))
        foreign = self._from_another_site()  # not refused before: its chunked body is dropped too
        self._drop_chunked_body(_ForeignSiteError(FOREIGN_BODY_DROPPED) if foreign else _UnwantedBodyError(said))

    def _drop_chunked_body(self, refused: Error) -> None:
        """Read this chunked body to its end keeping none of it, then answer ``refused``
        (:meth:`received`), as a body refused by its ``Content-Length`` is drained.

        Its chunks are still framed and bounded as any chunked body's (a framing fault, the body
        limit, or on a small JSON endpoint :data:`~moodtape.web.refusals.SMALL_JSON_BYTES` of data,
        ends the drain early, with the same answer, and the connection closes). waitress read and
        held a compressed body sent chunked, up to the upload limit, for the app's 415. On
        ``/api/feedback`` the drain read 5 MB to its end for the 415 where, until the drain came
        (earlier in session 35), the bound stopped it past 64 KiB with the 413: it stops there
        again, and the answer is still the 415, as for the same body sent by its ``Content-Length``
        (:func:`~moodtape.web.refusals.unwanted_body` names the coding before the size): the
        refusal was decided from the head, and the bound only ends the reading.
        """
        self._refused_after_body = refused
        self.body_rcv.buf = _DroppedBody()  # small_json_body stays: the drain ends at its bound

    def shed_body(self) -> bool:
        """Stop holding this unfinished request's body, for the budget of all unfinished bodies
        (:mod:`~moodtape.web.eviction`): what it holds is let go now, the rest is read and dropped as
        it comes, and once the client has sent it all it hears a 503 with ``Retry-After``
        (:class:`_BodiesFullError`), and the connection closes, lingering. False, and nothing done,
        for a request whose headers are still arriving (the eviction closes it, as before).

        Before session 38 such a connection was closed at once, its client still sending: the kernel
        answered the unread bytes with a reset, and of 16 uploads of 9.7 MB sent at once 8 saw
        "connection reset" and no answer. Dropping the rest costs the loop a read of each byte, and no
        memory. A client that stalls hears nothing: the idle timeout closes it, as any silent one.
        """
        receiver = self.body_rcv
        if receiver is None or self.completed or self.error is not None or self._refused_after_body is not None:
            return False
        receiver.getbuf().close()
        self._refused_after_body = _BodiesFullError(BODIES_FULL)
        receiver.buf = _DroppedBody()  # the receiver still frames the body (its length, its chunks)
        # waitress keeps the first part of headers that came in two reads: counted as held, it made a
        # request already let go of look over the budget still, and the next pass closed it.
        self.header_plus = b""
        return True

    def _leave_an_options_body_unasked(self) -> None:
        """Answer ``OPTIONS *`` that waits for ``100 Continue`` without asking for its body.

        The app answers ``OPTIONS *`` (web/server_wide.py) without reading a byte of a body. waitress
        said ``100 Continue`` all the same, and the client sent it all before it heard anything:
        curl uploaded 5 MB for the empty 200. Now the request goes to the app at once without its
        body (``Content-Length: 0`` as the app sees it), and the connection closes after the answer
        (RFC 9110 §10.1.1 lets a server answer before the content; what the client sends after the
        head is dropped, never read as another request: :attr:`body_unasked`). A route's ``OPTIONS``
        is still asked for its body (tests/web/test_hostile33_continue.py holds it so).
        """
        wants_body = self.chunked or self.content_length > 0
        if not (self.expect_continue and wants_body and self.command == "OPTIONS" and self.path == SERVER_WIDE):
            return
        self.body_rcv, self.chunked, self.content_length, self.expect_continue = None, False, 0, False
        self.headers["CONTENT_LENGTH"] = "0"
        self.body_unasked = True

    def _refuse(self, refusal: Error) -> ParsingError:
        """The ParsingError that stops waitress's parsing, ``refusal`` being the answer it becomes
        (set in :meth:`received`; waitress would make any ParsingError a plain 400)."""
        self._refusal = refusal
        return ParsingError(str(refusal.body))

    def _join_cookie_lines(self, header_plus: bytes) -> None:
        """Join two or more ``Cookie`` lines with ``"; "``, as one line holds cookies (RFC 9110 §5.3,
        RFC 6265 §5.4), where waitress joined them with ``", "`` as for any repeated header.

        Werkzeug reads ``a=1, moodtape_session=…`` as one cookie ``a``: a client sending a line per
        cookie (a script, a proxy passing HTTP/2's cookie crumbs on) lost its session on every
        request. Here, where the lines' bounds are known, a ``,`` inside one cookie's value (which
        browsers allow) stays inside that value: it never starts a cookie of its own.
        """
        values = [
            line.partition(b":")[2].strip(b" \t")
            for line in get_header_lines(header_plus.partition(b"\r\n")[2])
            if line.partition(b":")[0].lower() == b"cookie"
        ]
        if len(values) > 1:
            self.headers["COOKIE"] = b"; ".join(values).decode("latin-1")

    def _refuse_other_targets(self) -> None:
        """Refuse ``CONNECT`` (501: this server is no proxy, and the bytes after it would be a tunnel's)
        and the target ``*`` with any method but ``OPTIONS`` (400, RFC 9112 §3.2.4); before, CONNECT
        was a 400 about its target's scheme and ``GET *`` a 404.

        Only the target ``*`` exactly is server-wide: ``*?x`` or ``%2A`` (which waitress decodes to the
        same path ``*``) is no form of target at all (RFC 9112 §3.2), a 400 whatever the method; before,
        ``OPTIONS *?x`` and ``OPTIONS %2A`` were answered as ``OPTIONS *``, ``GET *?x`` was a 404.

        An absolute-form target without a path is ``/`` (RFC 9110 §4.2.3), or ``*`` for an ``OPTIONS``
        without a query (RFC 9112 §3.2.4): Flask redirected the empty path to ``/``, losing the query.
        """
        if self.command == "CONNECT":
            raise self._refuse(_NotProvidedError("CONNECT is not supported: this server is not a proxy"))
        if self.request_uri == SERVER_WIDE:
            if self.command != "OPTIONS":
                raise self._refuse(_refused("the request target * is for OPTIONS only; ask for a path such as /"))
        elif self.request_uri.startswith(SERVER_WIDE) or self.path == SERVER_WIDE:
            raise self._refuse(
                _refused("the request target * stands alone (no query, not percent-encoded); ask for a path such as /")
            )
        if self.proxy_netloc and not self.path:
            self.path = SERVER_WIDE if self.command == "OPTIONS" and not self.query else "/"
        if not (
            self.proxy_scheme
            or self.proxy_netloc
            or self.request_uri.startswith("/")
            or self.request_uri == SERVER_WIDE
        ):
            # RFC 9112 §3.2: a target that is no URI with a scheme, nor ``*``, begins with ``/``.
            # ``GET metrics HTTP/1.1`` was served as ``/metrics``: a proxy rule in front that matches
            # paths by their ``/`` (``^/+metrics``) let it through, where nginx and haproxy refuse it.
            raise self._refuse(_refused("the request target must begin with / (or be an http or https URI)"))

    def _refuse_a_fragment(self) -> None:
        """Refuse a target holding ``#``: a fragment is the client's own (RFC 3986 §3.5; RFC 9110 §7.1
        sends the target URI less its fragment), no form of request target has one (RFC 9112 §3.2),
        and clients drop it before sending.

        waitress dropped it and served ``GET /healthz#x`` as ``/healthz``. HAProxy 2.6 answers such a
        request with a 400; nginx 1.22 routes it by the path alone but passes the target on as sent
        (its ``$request_uri`` keeps the ``#``), so a rule on the whole target and moodtape read two
        targets. An encoded ``%23`` is a plain byte of the path and stays allowed.
        """
        if "#" in self.request_uri:
            raise self._refuse(
                _refused("the request target holds a # (a fragment is never sent): leave it out, or send %23")
            )

    def _take_target_authority(self) -> None:
        """An absolute-form target's authority as the ``Host`` (RFC 9112 §3.2.2, web/request_line.py).

        An HTTP/1.1 request that sent no ``Host`` at all is left without one, and one that sent a
        bad ``Host`` (two of them, joined as ``a, b``, or ``a b``) keeps it: RFC 9112 §3.2 asks a
        400 of both whatever the target (web/hosts.py), as for an origin-form target.
        """
        problem = target_authority_problem(self.proxy_scheme, self.proxy_netloc)
        if problem:
            raise self._refuse(_refused(problem))
        if not self.proxy_netloc:
            return
        sent = self.headers.get("HOST")
        if (sent is None and self.version == "1.0") or (sent is not None and one_host(sent)):
            self.headers["HOST"] = self.proxy_netloc

    def _see_a_long_line_end(self, data: bytes) -> None:
        """Note the version a request line too long to be read (a 414) ends with, as the rest of it is
        dropped: waitress's made-up ``HTTP/1.0`` line answered every such client in 1.0, and ours in
        1.1 whatever the client said."""
        if self._line_seen:
            return
        stop = data.find(b"\n")
        if stop < 0:
            self._line_tail = (self._line_tail + data)[-len(b" HTTP/1.0\r") :]
            return
        self._line_seen = True
        self._said_http_1_0 = (self._line_tail + data[:stop]).rstrip().endswith(b" HTTP/1.0")

    def _drop(self, data: bytes) -> int:
        taken = min(len(data), self._discard)
        if self._until_blank:
            self._see_a_long_line_end(data[:taken])
            seen = self._tail + data[:taken]
            end = seen.find(b"\r\n\r\n")
            if end >= 0:
                taken = end + 4 - len(self._tail)
                self._discard = taken  # finishes below
            self._tail = seen[-3:]
        self._discard -= taken
        if self._discard <= 0:
            self._discard, self._until_blank, self.completed = 0, False, True
        return taken


class JsonErrorChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose refusals are JSON and whose too-large bodies are drained (HTTPS subclasses it)."""

    parser_class = _DrainingParser
    task_class = _ConnectionListTask
    error_task_class = _JsonErrorTask
    #: Set by a refusal: the close after it lingers (:data:`LINGER_SECONDS`).
    linger_on_close = False
    #: The reader of a client that spoke HTTP/2, told HTTP_1_1_REQUIRED in frames (:meth:`_begin_http2`)
    #: until :attr:`_http2_until` (monotonic); None for every other client.
    _http2: Http2Farewell | None = None
    _http2_until = 0.0
    #: Set by :mod:`~moodtape.web.eviction` with ``will_close``: close on the loop's next pass, even
    #: when the client reads nothing (waitress closes a channel only once its socket is writable).
    close_at_once = False
    #: When (wall clock, as waitress's ``last_activity``) the last answer's head was built; 0: none yet.
    answered_at = 0.0
    #: Set by :mod:`~moodtape.web.eviction` at the connection limit, and by a stop: close after the next answer.
    close_after_answer = False
    #: Bytes of answers the socket has taken (:mod:`~moodtape.web.eviction` watches them move); over
    #: TLS, encrypted bytes (web/tls_channel.py).
    bytes_sent = 0
    #: Bytes the socket has given (over TLS, encrypted bytes): a stop's drain watches them come
    #: (:data:`DRAIN_PACE_S`).
    bytes_received = 0
    #: :class:`~moodtape.web.eviction.OutputWatch` while an answer waits; the client it counts as.
    output_watch: Any = None
    client: Any = None
    request: Any  # waitress's: the request being read, or None
    sent_continue: bool  # waitress's
    _linger_until: float | None = None
    _lingered = 0
    _held = b""  # requests the client pipelined, read but not yet parsed (PIPELINE_DEPTH)
    #: The request queued last left its body unasked (``OPTIONS *``'s): nothing after it is parsed.
    _reading_ends = False

    @property
    def lingering(self) -> bool:
        """The answer is out and the sending side shut; what the client still sends is dropped."""
        return self._linger_until is not None

    def handle_close(self) -> None:
        """Close, or after a refusal, shut the sending side and linger (:data:`LINGER_SECONDS`) first."""
        if self.linger_on_close and not self.lingering and self.connected and self.socket is not None:
            try:
                self.socket.shutdown(socket.SHUT_WR)  # the answer goes out, then our end of the stream
            except OSError:
                pass  # already gone: close now
            else:
                self._linger_until = time.monotonic() + LINGER_SECONDS
                self.will_close = False  # else the loop's next turn would close at once
                return
        self.close_now()

    def shed_unfinished(self) -> bool:
        """Let go of the request body being read, to answer it 503 once it has come
        (:meth:`_DrainingParser.shed_body`); False when it cannot be (its headers are still arriving)."""
        request = self.request
        return isinstance(request, _DrainingParser) and request.shed_body()

    def close_now(self) -> None:
        """Close the connection without lingering."""
        HTTPChannel.handle_close(self)

    @property
    def closed(self) -> bool:
        """Closed already (waitress's loop may still ask it whether to poll, in the pass that closed it)."""
        return self._fileno is None

    def unsent(self) -> int:
        """Bytes of answers the client has not taken yet."""
        return int(self.total_outbufs_len)

    def readable(self) -> bool:
        if self.closed:
            return False
        if self.lingering:
            if self.will_close or time.monotonic() >= (self._linger_until or 0.0):
                self.close_now()  # its time is up, or the server closes it (a stop, a timeout)
                return False
            return True
        if self.will_close and self.close_at_once:
            self.close_now()  # evicted (web/eviction.py): a client that reads nothing never lets it write
            self.server.pull_trigger()  # the next turn at once, not after the loop's 1 s wait: room to accept
            return False
        if self._http2 is not None:
            if time.monotonic() < self._http2_until:
                return True  # its frames are read while ours go out
            self._end_http2()
        if self._held and self._may_queue():
            held, self._held = self._held, b""
            self.received(held)
        if self._held:
            return False  # the pipelined requests already read come first
        return bool(super().readable())

    def writable(self) -> bool:
        return False if self.lingering or self.closed else bool(super().writable())

    def send(self, data: bytes, do_close: bool = True) -> int:
        sent: int = super().send(data, do_close=do_close)
        self.bytes_sent += sent
        return sent

    def recv(self, buffer_size: int) -> bytes:
        data: bytes = super().recv(buffer_size)
        self.bytes_received += len(data)
        return data

    def waits_on_client(self) -> bool:
        """Whether only the client can move this connection on: open, no request queued or running,
        no answer left to send, none of its pipelined requests held back (a request may be arriving)."""
        return not (
            self.closed
            or self.lingering
            or self.will_close
            or self.close_when_flushed
            or self.requests
            or self.total_outbufs_len
            or self._held
            or self._http2 is not None
        )

    def _may_queue(self) -> bool:
        """Whether the next request the client pipelined may be parsed and queued now."""
        return (
            self.request is None and len(self.requests) < PIPELINE_DEPTH and self.total_outbufs_len <= PIPELINE_OUTPUT
        )

    def received(self, data: bytes) -> bool:
        """waitress's, except that at most :data:`PIPELINE_DEPTH` requests are queued at once.

        waitress parses every request in what it read (8 KiB holds a hundred small GETs) and queues
        them all; a worker answering them waits for room in the output once 16 MiB is unsent, for as
        long as the client does not read. The requests past the depth wait here, unparsed, until
        :meth:`readable` finds the answers before them gone.
        """
        if not data:
            return False
        if self._http2 is not None:
            self._http2_received(data)
            return True
        with self.requests_lock:
            if self.will_close or self.close_when_flushed or self._reading_ends:
                return False
            data, self._held = self._held + data, b""
            while data:
                if self.request is None:
                    if not self._may_queue():
                        self._held = data
                        break
                    self.request = self.parser_class(self.adj)
                    self.request.application = self.server.application
                n = self.request.received(data)
                # if there are requests queued, we can not send the continue header yet since the
                # responses need to be kept in order
                if (
                    self.request.expect_continue
                    and self.request.headers_finished
                    and not self.requests
                    and not self.sent_continue
                ):
                    self.send_continue()
                if self.request.completed:
                    self.sent_continue = False
                    if isinstance(self.request.error, _Http2PrefaceError) and not self.requests:
                        self.request = None
                        self._begin_http2(data[n:])
                        break
                    self.request.answer_refusal_in_the_app()
                    if not self.request.empty:
                        self.requests.append(self.request)
                        if len(self.requests) == 1:
                            # the queue was empty: no worker is on this channel, so start one
                            self.server.add_task(self)
                    self._reading_ends = self.request.ends_the_connection
                    self.request = None
                if self._reading_ends:
                    break  # what follows is the body never asked for (or more of it): dropped
                if n >= len(data):
                    break
                data = data[n:]
        return True

    def _begin_http2(self, rest: bytes) -> None:
        """Answer a client that began with HTTP/2's connection preface, in HTTP/2's frames: the
        server's SETTINGS at once, then, for :data:`HTTP2_WAIT` seconds and :data:`HTTP2_BYTES`
        bytes at most, what its frames ask (web/http2_farewell.py: RST_STREAM HTTP_1_1_REQUIRED on
        each stream it opens); ``rest`` is what it sent after the preface's first line.

        Answered here, on the loop, not by a worker: what the client sends next is read as frames,
        never as HTTP/1.1 requests. Before session 35 a worker sent RST_STREAM on stream 1 at once,
        before the client had opened it: a client that waits for the server's SETTINGS before its
        HEADERS was told of a stream it had not opened (a connection error, RFC 9113 §5.1).
        """
        self._http2, self._http2_until = Http2Farewell(), time.monotonic() + HTTP2_WAIT
        self._write_now(SERVER_PREFACE)
        if rest:
            self._http2_received(rest)

    def _http2_received(self, data: bytes) -> None:
        """Answer the HTTP/2 client's ``data`` (:meth:`_begin_http2`); past its bounds, say goodbye."""
        farewell = self._http2
        if farewell is None:
            return
        self._write_now(farewell.received(data))
        if farewell.over or farewell.read > HTTP2_BYTES:
            self._end_http2()

    def _end_http2(self) -> None:
        """GOAWAY HTTP_1_1_REQUIRED (RFC 9113 §6.8), then close, lingering as after any refusal: the
        client that opened no stream in time learns why the connection ends.

        Only at the end, never along with RST_STREAM: curl 7.88 that read both at once said
        "Transferred a partial file" (exit 18) instead of asking again in HTTP/1.1, 100 times in 100.
        By the end curl has asked again on a new connection."""
        self._http2 = None
        self._write_now(GOODBYE)
        self.close_when_flushed = True
        self.linger_on_close = True

    def _write_now(self, frames: bytes) -> None:
        """Queue ``frames`` for the client and send what the socket takes now (on the loop thread,
        as waitress sends ``100 Continue``; no worker writes on this connection meanwhile)."""
        if not frames or self.closed or not self.connected:
            return
        with self.outbuf_lock:
            self.outbufs[-1].append(frames)
            self.current_outbuf_count += len(frames)
            self.total_outbufs_len += len(frames)
            self._flush_exception(self._flush_some)

    def handle_read(self) -> None:
        if self.lingering:
            self.drop_lingering()
            return
        super().handle_read()

    def drop_lingering(self) -> None:
        """Read and drop what the client still sends; close at its end of the stream or a bound."""
        try:
            data = self.socket.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        self._lingered += len(data)
        if not data or self._lingered > LINGER_BYTES:
            self.close_now()

    def send_continue(self) -> None:
        """``100 Continue`` only while a body is still wanted.

        waitress sends it for every request with ``Expect: 100-continue`` and then marks the request
        unfinished, so a request already complete without a body (a GET, ``Content-Length: 0``) or
        already refused (a too-large ``Content-Length``) waited for a body that never came: no answer
        until the client gave up, where the 413 was due at once.
        """
        if self.request.completed:
            self.request.expect_continue = False
            return
        super().send_continue()

    def busy(self) -> bool:
        """True while a request is being read, run or answered (a graceful stop waits for those).

        Not while lingering: the answer is out, and what arrives is dropped, not a request.
        """
        if self.lingering:
            return False
        reading = self.request is not None and self.request.begun()
        return reading or bool(self.requests or self.total_outbufs_len or self._held)


class BufferedServer:
    """A waitress server for ``app`` (HTTP, or HTTPS with ``tls``): ``prepare``, ``serve``, ``stop``.

    Args:
        app: the Flask app; its ``MAX_CONTENT_LENGTH`` sets the body limit.
        host, port: where to listen (port 0: any free port; see :attr:`bound_port`).
        threads: worker threads that run the app (requests arrive complete, so few are needed).
        tls: a server TLS context to serve HTTPS (:mod:`moodtape.web.tls_channel`), None for HTTP.
        sockets: sockets already bound and listening to serve instead of ``host``/``port`` (a
            gunicorn worker gets them from its master, :mod:`moodtape.web.gunicorn_worker`).
    """

    def __init__(
        self,
        app: Flask,
        host: str = "",
        port: int = 0,
        *,
        threads: int,
        tls: ssl.SSLContext | None = None,
        sockets: Sequence[socket.socket] = (),
    ) -> None:
        self._app = app
        self._host, self._port, self._threads = host, port, threads
        self._tls = tls
        self._sockets = list(sockets)
        self._loop_thread: int | None = None  # the thread running serve(), while it runs
        self._loop_done = threading.Event()
        self._server: Any = None
        self._map: dict[int, Any] = {}  # waitress's socket map: listeners, its trigger, connections
        self._listeners: list[BaseWSGIServer] = []
        #: Connections a stop turned away past the limit, lingering until the drain ends (_TurnedAway).
        self._turned_away: list[_TurnedAway] = []
        # serve() and stop() agree under this lock on who came first: a stop() that runs before a
        # serve() thread got going must end that serve() at once, not let it bind a new server.
        # Reentrant: Ctrl+C may interrupt serve() holding it, and the same thread then calls stop().
        self._state_lock = threading.RLock()
        self._stopped = False

    def prepare(self) -> None:
        """Bind and listen now (raises ``OSError`` when the address is taken)."""
        max_body = int(self._app.config.get("MAX_CONTENT_LENGTH") or 0) + BODY_HEADROOM
        where: dict[str, Any] = (
            {"sockets": self._sockets} if self._sockets else {"host": self._host, "port": self._port}
        )
        self._map = {}
        self._server = create_server(
            self._app,
            map=self._map,
            **where,
            threads=max(1, self._threads),
            ident="moodtape",
            max_request_header_size=MAX_HEADER_BYTES,
            # waitress refuses a body of this size or more (``>=``): one over max_body. With max_body
            # itself, a form of the limit plus 64 KiB was a 413, 65,535 bytes of headroom.
            max_request_body_size=max_body + 1,
            # Above max_body so a body is never spooled to a temporary file: photos stay in memory.
            inbuf_overflow=max_body + 1,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=5,
            clear_untrusted_proxy_headers=False,  # ProxyFix decides, by MOODTAPE_PROXY_HOPS
            url_scheme="https" if self._tls else "http",
        )
        channel_class: type[JsonErrorChannel] = JsonErrorChannel
        if self._tls is not None:
            from moodtape.web.tls_channel import tls_channel_class

            channel_class = tls_channel_class(self._tls)
        # One listener per socket (several sockets: waitress returns a wrapper without channel_class).
        self._listeners = [each for each in self._map.values() if isinstance(each, BaseWSGIServer)]
        for listener in self._listeners:
            listener.channel_class = channel_class
            # A flood of idle sockets or stalled uploads must not keep others out (web/eviction.py).
            per_client, exempt = self._per_client_cap()
            evict_when_full(listener, body_budget=UNFINISHED_UPLOADS * max_body, per_client=per_client, exempt=exempt)

    def _per_client_cap(self) -> tuple[int | None, Callable[[str], bool] | None]:
        """The connections one address may hold, and which peers are exempt. Behind proxies every
        connection comes from one of them: with ``MOODTAPE_TRUSTED_PROXIES`` only those listed are
        exempt (a client reaching the port directly keeps its cap), without it nobody is capped."""
        hops, proxies = self._proxy_settings()
        if not hops:
            return PER_CLIENT, None
        if not proxies:
            return None, None
        return PER_CLIENT, functools.partial(from_one_of, proxies=proxies)

    def _proxy_settings(self) -> tuple[int, tuple[Network, ...]]:
        """``MOODTAPE_PROXY_HOPS`` and ``MOODTAPE_TRUSTED_PROXIES`` of the app's settings (0 and none
        for an app built without them)."""
        hops = self._proxy_hops()
        settings = getattr(self._app.extensions.get("moodtape"), "settings", None)
        if not hops or settings is None:
            return hops, ()
        try:
            return hops, trusted_networks(settings.get_networks("MOODTAPE_TRUSTED_PROXIES"))
        except (KeyError, ValueError):
            return hops, ()

    def _proxy_hops(self) -> int:
        """``MOODTAPE_PROXY_HOPS`` of the app's settings (0 for an app built without them)."""
        services = self._app.extensions.get("moodtape")
        settings = getattr(services, "settings", None)
        try:
            return int(settings.get_int("MOODTAPE_PROXY_HOPS")) if settings is not None else 0
        except (KeyError, ValueError):
            return 0

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        return int(self._listeners[0].effective_port)

    def serve(self, until: Callable[[], bool] | None = None) -> None:
        """Answer requests until :meth:`stop`, or until ``until()`` is true (checked after every turn
        of the loop; call :meth:`wake` when it becomes true, e.g. from a signal handler).

        Returns at once when :meth:`stop` came first: a stopped server stays stopped.
        """
        with self._state_lock:
            if self._stopped:
                return
            if self._server is None:
                self.prepare()
        with self._owning_the_loop() as server:
            if server is None:  # a stop() came in between
                return
            # Our own loop, not waitress's run(): this one ends between two turns as soon as stop() or
            # `until` asks, never in the middle of reading or writing a connection.
            while self._server is server and self._map and not (until is not None and until()):
                self.poll()

    @contextlib.contextmanager
    def _owning_the_loop(self) -> Iterator[Any]:
        """Mark this thread as the one turning the loop, so that :meth:`stop` from another thread
        waits for it to return before closing sockets under it; yields the server (None: stopped)."""
        with self._state_lock:
            server = self._server
            self._loop_thread, self._loop_done = threading.get_ident(), threading.Event()
        try:
            yield server
        finally:
            self._loop_thread = None
            self._loop_done.set()

    def poll(self, timeout: float | None = None) -> None:
        """One turn of the event loop: wait up to ``timeout`` seconds (waitress's default: 1) for sockets."""
        adj = self._server.adj
        loop = wasyncore.poll2 if adj.asyncore_use_poll else wasyncore.poll
        loop(adj.asyncore_loop_timeout if timeout is None else timeout, self._map)

    def wake(self) -> None:
        """Make a :meth:`poll` waiting in another thread (or under a signal handler) return now."""
        if self._server is not None and self._listeners:
            self._listeners[0].pull_trigger()

    def stop_accepting(self) -> None:
        """Close the listening sockets (new connections are refused); the connections open go on."""
        for listener in self._listeners:
            # The dispatcher's close, not the listener's: that one also closes the trigger that
            # worker threads pull to have their answers sent.
            wasyncore.dispatcher.close(listener)

    def _accept_queued(self) -> int:
        """Accept the connections waiting in the listening sockets' queue, so their requests are
        answered, up to the connection limit; returns how many were turned away past it.

        The kernel completes a client's handshake before the server accepts: closing the listening
        socket reset each connection still queued there, after the client (or a balancer, which then
        does not retry it as a refused connection) had sent its request on it. Accepted whatever was
        open already, a stop at the limit held up to twice the connections the limit allows (until
        session 39); each one past it now hears a 503 ``busy`` at once (:func:`_turn_away`).
        """
        turned_away = 0
        for listener in self._listeners:
            for _ in range(int(listener.adj.backlog) + 1):  # the most a queue holds
                try:
                    queued, _, _ = select.select([listener.socket], [], [], 0)
                except (OSError, ValueError):  # closed already
                    break
                if not queued:
                    break
                if len(self._map) < listener.adj.connection_limit:  # waitress's count (its own sockets too)
                    listener.handle_accept()
                    continue
                accepted = listener.accept()  # None when the client left meanwhile
                if accepted is not None:
                    kept = _turn_away(accepted[0], self._tls is not None, answers_server_refusals(self._app))
                    if kept is not None:
                        self._turned_away.append(_TurnedAway(kept))
                    turned_away += 1
        if turned_away:
            _log.warning(
                "stop: %d connections queued at the port past the connection limit were answered 503 busy",
                turned_away,
            )
        return turned_away

    def _keep_bounds(self) -> None:
        """Apply the bounds the listening sockets' turn of the loop applies, while they are closed
        (a stop's drain): the budget of unfinished bodies (web/eviction.py: over it, bodies are let
        go of and answered 503 ``busy``), answers that stopped moving, waitress's idle timeout.

        A closed listener is never polled, so during a drain none of them held: uploads in flight,
        and those of the queued connections the stop accepts, were read past the budget unchecked
        (a review of session 38: twice the budget held, no body let go of). With the listener no
        longer accepting, its ``readable`` makes no room for new connections and says False.
        """
        for listener in self._listeners:
            listener.readable()

    def close_idle(self) -> int:
        """Close the connections that wait for a new request; how many are still busy with one.

        A stop's step: every connection is also told to close after its answer (``Connection:
        close``), and one whose next request has arrived but is not read yet, or whose last answer
        went out less than :data:`IDLE_QUIET_SECONDS` ago (that answer let the client keep it, and
        its next request may be on the way), counts as busy, so that a request is read and answered
        by a later turn. Before session 38 such a connection was closed with the request unread or
        about to come, and a client of a stopping instance (a balancer reusing its pooled
        connections too) saw "connection reset" or "disconnected without sending a response".
        """
        busy = 0
        quiet_since = time.time() - IDLE_QUIET_SECONDS
        for each in list(self._map.values()):
            if isinstance(each, JsonErrorChannel):
                each.close_after_answer = True
                if each.busy() or _request_may_come(each, quiet_since):
                    busy += 1
                else:
                    each.will_close = True  # closed by the loop's next turn
        return busy

    def _clients_waited_on(self) -> dict[JsonErrorChannel, int]:
        """The connections that wait on their client now (:meth:`JsonErrorChannel.waits_on_client`),
        with the bytes each has received so far: a span of the drain's pace begins."""
        return {
            each: each.bytes_received
            for each in self._map.values()
            if isinstance(each, JsonErrorChannel) and each.waits_on_client()
        }

    def drain(
        self,
        seconds: float,
        on_turn: Callable[[], None] | None = None,
        until: Callable[[], bool] | None = None,
    ) -> int:
        """Refuse new connections and answer the requests in flight, for at most ``seconds``.

        Run it where :meth:`serve` ran, once that loop has ended (a signal, or the loop's owner
        decided to stop): this runs the loop itself, turn by turn, closing each connection as soon
        as it waits for nothing, and calls ``on_turn`` after each turn (gunicorn's heartbeat). It
        gives up early when ``until()`` turns true (a second Ctrl+C). :meth:`stop` must follow.
        Returns how many connections were still busy when it ended.

        A connection it waits on must keep a pace (:data:`DRAIN_PACE_S`): until session 39 a client
        trickling its request a byte every 0.2 s held the drain to its deadline.
        """
        with self._owning_the_loop() as server:
            if server is None:  # stopped already: nothing is left to answer
                return 0
            self._accept_queued()
            self.stop_accepting()
            deadline = time.monotonic() + seconds
            paced_at, waited_on = time.monotonic(), self._clients_waited_on()
            while (
                ((busy := self.close_idle()) or self._turned_away)
                and time.monotonic() < deadline
                and self._server is server
                and not (until is not None and until())
            ):
                self._keep_bounds()
                self.poll(min(DRAIN_TURN, max(0.0, deadline - time.monotonic())))
                self._turned_away = [each for each in self._turned_away if each.linger()]
                if time.monotonic() - paced_at >= DRAIN_PACE_S:
                    _close_too_slow(waited_on, MIN_RATE * (time.monotonic() - paced_at))
                    paced_at, waited_on = time.monotonic(), self._clients_waited_on()
                if on_turn is not None:
                    on_turn()
            if self._server is server:
                self.poll(0)  # the idle connections marked last are closed
            self._close_turned_away()
            return busy

    def _close_turned_away(self) -> None:
        """Close the turned-away connections still lingering (the drain's deadline, or a stop)."""
        turned_away, self._turned_away = self._turned_away, []
        for each in turned_away:
            each.sock.close()

    def stop(self, grace: float = STOP_GRACE) -> int:
        """Close every connection (stalled uploads included, at once) and end the worker threads.

        From another thread than :meth:`serve`'s, the loop is woken and ends first, so that nothing
        is closed under it. A request already running in a worker gets up to ``grace`` seconds; the
        workers are daemon threads, so the process never waits on one longer than that. Returns how
        many worker threads still run (a request past the grace), which the caller exiting the
        process must not leave to the interpreter's teardown.
        """
        with self._state_lock:
            self._stopped = True
            server, self._server = self._server, None
            loop_thread, loop_done = self._loop_thread, self._loop_done
        if server is None:
            return 0
        if loop_thread not in (None, threading.get_ident()):
            self._listeners[0].pull_trigger()  # wakes select(); the loop sees that it is stopped and returns
            loop_done.wait(grace)
        # The listening sockets and every connection first; the triggers last, once the workers are
        # done: a worker that answered pulls its listener's trigger after a check that the connection
        # is open, and one preempted between the two would write to a closed pipe (EBADF, a traceback
        # on Ctrl+C, seen in CI).
        self.stop_accepting()
        self._close_turned_away()
        wasyncore.close_all({fd: each for fd, each in self._map.items() if not isinstance(each, trigger.trigger)})
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=grace)
        wasyncore.close_all(self._map)  # the triggers
        return len(server.task_dispatcher.threads)  # numbers of the threads not yet ended
