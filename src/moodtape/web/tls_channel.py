"""HTTPS on waitress's event loop: TLS done in memory (``ssl.MemoryBIO``) inside each connection.

Why not a TLS server with a thread per connection (cheroot, before): a thread that reads a request
blocks until the client sends it, so 20 clients sending one byte a second held every thread and
nobody else was answered. waitress has no TLS of its own, but its connections ("channels") read
and write through two methods, ``recv`` and ``send``. This channel puts an :class:`ssl.SSLObject`
between those and the socket: ciphertext read from the socket goes into the TLS object, and the
plain bytes that come out go to waitress's parser exactly as on plain HTTP. So the handshake, the
headers and the body are all read by the one event loop, a worker thread sees a request only once
it has fully arrived, and every limit and JSON refusal of :mod:`moodtape.web.buffered_server`
(413, 431, 400, the drain before a 413, the connection limit, the idle timeout) holds for HTTPS
unchanged.

Threads: waitress writes answers from worker threads while the event loop reads, and an OpenSSL
connection must not be used from two threads at once, so one lock guards the TLS object and the
encrypted bytes waiting to go out.

A client gone mid-answer (a reset, a broken pipe) is a disconnect, as waitress's own ``send`` and
``recv`` treat it: the connection is closed and nothing is logged. Any other socket error is raised
to waitress, which logs it (``Socket error``) as on plain HTTP.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Final

from moodtape.errors import DataError
from moodtape.web.buffered_server import JsonErrorChannel

LOG = logging.getLogger(__name__)

#: The most plain bytes taken from TLS per read (a few TLS records; the parser takes any amount).
_READ_CHUNK: Final[int] = 256 * 1024
#: The most plain bytes encrypted per send: bounds the encrypted bytes waiting per connection.
_WRITE_CHUNK: Final[int] = 64 * 1024
#: Socket errors that mean the client went away: waitress's own list (``wasyncore._DISCONNECTED``),
#: which its plain-socket ``send`` and ``recv`` turn into a quiet close.
_DISCONNECTED: Final[frozenset[int]] = frozenset(
    {errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.ECONNABORTED, errno.EPIPE, errno.EBADF}
)


def tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or later, HTTP/1.1) from two PEM files; a clear error when unusable."""
    for label, path in (("certificate", certfile), ("key", keyfile)):
        if not path.is_file():
            raise DataError(f"the TLS {label} file {path} does not exist")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        # A passphrase would be asked for on the terminal; a server must not wait there.
        context.load_cert_chain(str(certfile), str(keyfile), password=lambda: b"")
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise DataError(f"cannot use {certfile} and {keyfile} for HTTPS: {_why(exc, keyfile)}") from None
    return context


def https_context(certfile: Path | None, keyfile: Path | None) -> ssl.SSLContext | None:
    """What ``--certfile``/``--keyfile`` ask for: None (plain HTTP) when neither is given.

    Raises:
        DataError: only one of the two given, or the files missing or unusable.
    """
    if (certfile is None) != (keyfile is None):
        raise DataError("HTTPS needs both --certfile and --keyfile")
    if certfile is None or keyfile is None:
        return None
    return tls_context(certfile, keyfile)


def _why(exc: Exception, keyfile: Path) -> str:
    """What is wrong with a certificate and key that OpenSSL refused, in words a user can act on."""
    if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
        return "the key does not belong to the certificate"
    with contextlib.suppress(OSError), keyfile.open("rb") as key:
        if b"ENCRYPTED" in key.read(4096):
            return (
                f"the key has a passphrase; write an unprotected copy with: openssl pkey -in {keyfile} -out plain.key"
            )
    return f"they must be a PEM certificate and its PEM private key ({getattr(exc, 'reason', None) or exc})"


class TlsChannel(JsonErrorChannel):
    """A waitress channel that speaks TLS; :attr:`context` is set on a subclass by :func:`tls_channel_class`."""

    context: ssl.SSLContext

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = self.context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._tls_lock = threading.RLock()  # re-entered when a failed send closes the channel
        self._pending = b""  # encrypted bytes the socket has not taken yet
        self._handshaken = False
        self._hello_seen = False  # the client's first TLS bytes came: its handshake is under way
        self._peer_gone = False  # the socket refused bytes with a disconnect error: close, quietly
        self._closing = False  # handle_close has said goodbye in TLS: nothing more is encrypted
        super().__init__(server, sock, addr, adj, map)

    # --- reading (event loop thread) ---

    def handle_read(self) -> None:
        """Like waitress's, except that a read giving no plain bytes (mid-handshake) is not a disconnect."""
        if self.lingering:  # after a refusal: raw bytes dropped, not decrypted
            self.drop_lingering()
            return
        try:
            data = self.recv(self.adj.recv_bytes)
        except OSError:  # not a disconnect (recv closes on those): waitress logs it too
            if self.adj.log_socket_errors:
                self.logger.exception("Socket error")
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)

    def recv(self, buffer_size: int) -> bytes:
        """Plain bytes decrypted from what the socket has; ``b""`` when none yet (or the connection ended)."""
        raw: bytes = super().recv(buffer_size)  # b"" when closed: waitress has already closed the channel
        if not raw:
            return b""
        with self._tls_lock:
            self._hello_seen = True
            self._incoming.write(raw)
            try:
                plain = self._decrypt()
            except ssl.SSLError as exc:  # not TLS, a failed handshake, a bad record: drop the connection
                LOG.debug("TLS error from %s: %s", self.addr, exc)
                plain = None
            self._flush_pending()  # handshake answers, session tickets, alerts
            if self._peer_gone:
                plain = None
        if plain is None:  # closed here, outside the TLS lock (closing takes waitress's own lock)
            self.handle_close()
            return b""
        return plain

    def _decrypt(self) -> bytes | None:
        """Advance the handshake, then take every plain byte ready (``None``: the client closed TLS)."""
        if not self._handshaken:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self._handshaken = True
        # Take all that is ready: the event loop polls the socket, so bytes left inside the TLS
        # object would wait unseen until the client sent more.
        pieces = []
        while True:
            try:
                piece = self._tls.read(_READ_CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                return None
            if not piece:
                return None
            pieces.append(piece)
        return b"".join(pieces)

    # --- writing (worker threads and the event loop) ---

    def send(self, data: bytes, do_close: bool = True) -> int:
        """Encrypt ``data`` for the socket; 0 while earlier encrypted bytes still wait (back-pressure).

        A client gone is waitress's disconnect: 0, and the connection closed when ``do_close`` (a
        worker thread's write passes False; the event loop then closes it on its next turn).

        Raises:
            OSError: a socket or TLS error other than a disconnect; waitress logs it and closes.
        """
        with self._tls_lock:
            sent = 0 if self._closing else self._encrypt_and_send(data)
            gone = self._peer_gone and not self._closing
        if gone:
            if do_close:
                self.handle_close()  # outside the TLS lock, as waitress's send closes
            return 0
        return sent

    def _encrypt_and_send(self, data: bytes) -> int:
        """The body of :meth:`send`, under the TLS lock: how many plain bytes were taken."""
        self._flush_pending()
        if self._pending or self._peer_gone or not self._handshaken or not self.connected:
            return 0
        piece = data[:_WRITE_CHUNK]  # waitress sends the rest on its next try
        try:
            self._tls.write(piece)
        except ssl.SSLError as exc:
            LOG.debug("TLS error writing to %s: %s", self.addr, exc)
            raise OSError(str(exc)) from None
        self._flush_pending()
        return 0 if self._peer_gone else len(piece)

    def _flush_pending(self) -> None:
        """Move encrypted bytes to the socket as far as it takes them; keep the rest (caller holds the lock).

        Never closes the channel itself: closing takes waitress's output lock, which a worker thread
        may hold while it waits for this TLS lock. A client gone sets :attr:`_peer_gone` for the
        caller to close; any other socket error is raised.
        """
        self._pending += self._outgoing.read()
        if self._peer_gone:
            self._pending = b""  # nobody left to read them
        if not self._pending or self.socket is None:
            return
        try:
            sent = self.socket.send(self._pending)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as exc:
            self._pending = b""
            if exc.errno not in _DISCONNECTED:
                raise
            self._peer_gone = True
            return
        self._pending = self._pending[sent:]
        # What the client takes, in encrypted bytes as the socket took them: a piece of 64 KiB is
        # encrypted at once but may take a slow reader many seconds, which must count as moving.
        self.bytes_sent += sent

    def writable(self) -> bool:
        # A client gone is closed on the loop's next turn (handle_write), even with nothing to send.
        if self.lingering or self.closed:
            return False
        return bool(super().writable() or self._pending or self._peer_gone)

    def unsent(self) -> int:
        return super().unsent() + len(self._pending)

    def busy(self) -> bool:
        """Also while encrypted bytes wait to go out, and while a handshake the client began is under
        way: its request comes a round trip after its hello. A stop (``close_idle``) closed such a
        connection once 0.25 s had passed since the accept, as an idle one (its hello gave no plain
        bytes), and a queued client further away than that got no answer (a review of session 38)."""
        if self.lingering:
            return False
        return super().busy() or bool(self._pending) or (self._hello_seen and not self._handshaken)

    def handle_write(self) -> None:
        with self._tls_lock:
            try:
                self._flush_pending()
            except OSError:  # not a disconnect: logged, as waitress logs a failed send
                if self.adj.log_socket_errors:
                    self.logger.exception("Socket error")
                self.will_close = True
            if self._peer_gone:
                self.will_close = True
            waiting = bool(self._pending)
        if waiting and self.close_when_flushed and not self.will_close:
            return  # the answer's last encrypted bytes go out before the close
        super().handle_write()

    def handle_close(self) -> None:
        """Say goodbye in TLS (close_notify) when the socket takes it at once, then close (or linger)."""
        with self._tls_lock:
            self._closing = True  # a worker thread's write after this is a disconnect, not a TLS error
            if self._handshaken and self.socket is not None and self.connected and not self.lingering:
                # The client's reply never comes before we close; ours is in the buffer.
                with contextlib.suppress(ssl.SSLError, ValueError):
                    self._tls.unwrap()
                with contextlib.suppress(OSError):
                    self._flush_pending()
        super().handle_close()


def tls_channel_class(context: ssl.SSLContext) -> type[TlsChannel]:
    """A :class:`TlsChannel` class bound to ``context`` (waitress builds channels from a class)."""
    return type("BoundTlsChannel", (TlsChannel,), {"context": context})
