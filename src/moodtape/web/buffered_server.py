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

- **Limits**: headers at most :data:`MAX_HEADER_BYTES`; bodies at most the app's upload limit plus
  :data:`BODY_HEADROOM` (multipart framing), held in memory (never spooled to a temporary file:
  photos are never written anywhere); at most :data:`CONNECTION_LIMIT` connections, and at that
  limit the idlest ones are closed to make room (:mod:`moodtape.web.eviction`); a connection
  that sends nothing for :data:`CHANNEL_TIMEOUT` seconds is closed.
- **JSON errors**: waitress's own refusals (413, 431, 400 for malformed framing such as two
  different ``Content-Length`` headers) answer with the API's JSON error shape and security headers.
- **Framing bounds**: a chunk-size line over :data:`MAX_CHUNK_LINE` or a trailer over
  :data:`MAX_HEADER_BYTES` is a 400 at once (waitress bounds neither); a request with both
  ``Content-Length`` and ``Transfer-Encoding`` is refused and its connection closed (RFC 9112 §6.1).
- **Readable 413s**: a client that declares a too-large ``Content-Length`` without
  ``Expect: 100-continue`` (Python's urllib, browsers) keeps sending its body; closing then would
  make it see "broken pipe" instead of the answer. Up to :data:`DRAIN_LIMIT` bytes are read and
  dropped (no memory kept) before the 413 goes out.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from flask import Flask
from waitress import trigger, wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import BadRequest, RequestEntityTooLarge, RequestHeaderFieldsTooLarge, find_double_newline

from moodtape.web.eviction import evict_when_full
from moodtape.web.refusals import refusal

#: Request line plus headers: 64 KiB is 8× what browsers send; the 30 MB header line is refused.
MAX_HEADER_BYTES: Final[int] = 64 * 1024
#: A chunk's size line with its extensions (``1000;name=value``): waitress sets no bound, and
#: rescans the whole unfinished line on every read (10 MB of extension took 34 s of CPU).
MAX_CHUNK_LINE: Final[int] = 4 * 1024
#: Multipart framing around an upload of the largest allowed size.
BODY_HEADROOM: Final[int] = 64 * 1024
#: Open connections at once; beyond this new ones wait in the listen backlog.
CONNECTION_LIMIT: Final[int] = 200
#: Largest uploads' worth of unfinished request bodies held in memory at once, all connections together.
UNFINISHED_UPLOADS: Final[int] = 8
#: Seconds of silence after which a connection is closed (waitress checks every few seconds).
CHANNEL_TIMEOUT: Final[int] = 60
#: Seconds a request already running may take to finish when the server stops.
STOP_GRACE: Final[float] = 3.0
#: The longest wait of one loop turn while draining (a connection that finishes is closed after it).
DRAIN_TURN: Final[float] = 0.1
#: The most of a refused body read and dropped so that the client can read its 413.
DRAIN_LIMIT: Final[int] = 256 * 1024 * 1024
#: After a refusal the client may still be sending. Closing with its bytes unread makes the kernel
#: send a reset, which can wipe the answer from the client's buffer before it is read (seen as a
#: flaky "connection reset" instead of the 400). So the sending side is shut first and what still
#: comes is read and dropped, for at most this long and this much: a "lingering close".
LINGER_SECONDS: Final[float] = 2.0
LINGER_BYTES: Final[int] = 1024 * 1024


class _JsonErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's refusal, in the API's JSON error shape with the security headers."""

    def execute(self) -> None:
        error = self.request.error
        status = int(error.code)
        headers, body = refusal(status, error.reason)
        self.status = f"{status} {error.reason}"
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.channel.linger_on_close = True
        self.content_length = len(body)
        self.write(body)

    def build_response_header(self) -> bytes:
        """waitress's header, less the ``Connection: Keep-Alive`` it adds for an HTTP/1.0 client that
        asked for it: a refusal always closes, and says so only once."""
        header: bytes = super().build_response_header()
        if self.close_on_finish:
            header = header.replace(b"\r\nConnection: Keep-Alive", b"")
        return header


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
    _discard = 0
    _until_blank = False
    _tail = b""

    def received(self, data: bytes) -> int:
        if self._discard or self._until_blank:
            return self._drop(data)
        header_ends_here = self.body_rcv is None and find_double_newline(self.header_plus + data) >= 0
        if self.body_rcv is None and not header_ends_here and b"\n\n" in self.header_plus + data:
            # Lines ended by a bare LF: waitress looks only for CR LF CR LF, so the request never
            # ended and the client waited a minute for the idle timeout. RFC 9112 (section 2.2) lets
            # a server refuse them; say so at once.
            self.error = BadRequest("header lines must end with CR LF")
            self.completed = True
            return len(data)
        consumed: int = super().received(data)
        self._bound_chunk_framing()
        if isinstance(self.error, RequestHeaderFieldsTooLarge):
            if not header_ends_here:  # else the refusal is due now: waiting would hang the client
                self._until_blank, self._discard, self.completed = True, DRAIN_LIMIT, False
                self._tail = (self.header_plus + data)[-3:]
        elif (
            isinstance(self.error, RequestEntityTooLarge)
            and not self.chunked
            and not self.expect_continue  # those clients wait for our answer before sending
            and 0 < self.content_length <= DRAIN_LIMIT
            and self.body_bytes_received == 0
        ):
            self._discard, self.completed = self.content_length, False
        return consumed

    def _bound_chunk_framing(self) -> None:
        """Refuse a chunked body whose size line or trailer outgrows its bound.

        Both are held unbounded by waitress, outside what :mod:`~moodtape.web.eviction` counts as a
        body's bytes, and rescanned whole on every read: CPU that grows with the square of the size.
        """
        receiver = self.body_rcv
        if not self.chunked or receiver is None or self.completed:
            return
        if len(receiver.control_line) > MAX_CHUNK_LINE or len(receiver.trailer) > MAX_HEADER_BYTES:
            self.error = BadRequest("a chunk-size line or the trailer is too long")
            self.completed = True

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding in one request")
        if "TRANSFER_ENCODING" in self.headers:
            # waitress reads HTTP/1.0 bodies by Content-Length and leaves this header in place, but a
            # proxy in front may have framed the body by it: RFC 9112 §6.1 calls the framing faulty.
            raise ParsingError("Transfer-Encoding in an HTTP/1.0 request")

    def _drop(self, data: bytes) -> int:
        taken = min(len(data), self._discard)
        if self._until_blank:
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
    error_task_class = _JsonErrorTask
    #: Set by a refusal: the close after it lingers (:data:`LINGER_SECONDS`).
    linger_on_close = False
    _linger_until: float | None = None
    _lingered = 0

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

    def close_now(self) -> None:
        """Close the connection without lingering."""
        HTTPChannel.handle_close(self)

    def readable(self) -> bool:
        if self.lingering:
            if self.will_close or time.monotonic() >= (self._linger_until or 0.0):
                self.close_now()  # its time is up, or the server closes it (a stop, a timeout)
                return False
            return True
        return bool(super().readable())

    def writable(self) -> bool:
        return False if self.lingering else bool(super().writable())

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
        return self.request is not None or bool(self.requests) or bool(self.total_outbufs_len)


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
            max_request_body_size=max_body,
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
            evict_when_full(listener, body_budget=UNFINISHED_UPLOADS * max_body)

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

    def close_idle(self) -> int:
        """Close the connections that wait for a new request; how many are still busy with one."""
        busy = 0
        for each in list(self._map.values()):
            if isinstance(each, JsonErrorChannel):
                if each.busy():
                    busy += 1
                else:
                    each.will_close = True  # closed by the loop's next turn
        return busy

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
        """
        with self._owning_the_loop() as server:
            if server is None:  # stopped already: nothing is left to answer
                return 0
            self.stop_accepting()
            deadline = time.monotonic() + seconds
            while (
                (busy := self.close_idle())
                and time.monotonic() < deadline
                and self._server is server
                and not (until is not None and until())
            ):
                self.poll(min(DRAIN_TURN, max(0.0, deadline - time.monotonic())))
                if on_turn is not None:
                    on_turn()
            if self._server is server:
                self.poll(0)  # the idle connections marked last are closed
            return busy

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
        wasyncore.close_all({fd: each for fd, each in self._map.items() if not isinstance(each, trigger.trigger)})
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=grace)
        wasyncore.close_all(self._map)  # the triggers
        return len(server.task_dispatcher.threads)  # numbers of the threads not yet ended
