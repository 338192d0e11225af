"""What to say, in HTTP/2's own frames, to a client that speaks HTTP/2 to this HTTP/1.1 server.

A client with "prior knowledge" (``curl --http2-prior-knowledge``, an h2c proxy) begins with the
connection preface (RFC 9113 §3.4): ``PRI * HTTP/2.0``, ``SM``, then frames. It cannot read an
HTTP/1.1 status line (curl said "Empty reply from server"), so it is told HTTP_1_1_REQUIRED in
frames, and curl then asks again in HTTP/1.1 on a new connection.

The answer waits for the client's frames (:class:`Http2Farewell` reads them; the connection,
:class:`~moodtape.web.buffered_server.JsonErrorChannel`, reads and writes, for a bounded time and
number of bytes): RST_STREAM names the stream the client's HEADERS opened. Before session 35 it named
stream 1 as soon as the preface had come; a client that waits for the server's SETTINGS before it
opens a stream then got RST_STREAM for an idle stream, which RFC 9113 §5.1 makes a connection error.
Pure: bytes in, bytes to send out; no sockets, no clock.
"""

from __future__ import annotations

from typing import Final

#: The client's preface after its first line, ``PRI * HTTP/2.0`` and its empty line, which the
#: HTTP/1.1 parser reads (RFC 9113 §3.4).
PREFACE_REST: Final[bytes] = b"SM\r\n\r\n"
#: Bytes of a frame's header: length (3), type, flags, stream (4) (RFC 9113 §4.1).
FRAME_HEADER: Final[int] = 9
#: Frame types (RFC 9113 §6) and the flag that marks a SETTINGS frame as an acknowledgement (§6.5).
HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0x1, 0x3, 0x4, 0x7
ACK: Final[int] = 0x1
#: The error that asks the client to use HTTP/1.1 instead (RFC 9113 §7).
HTTP_1_1_REQUIRED: Final[int] = 0xD


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One frame of ``kind`` with ``flags`` on ``stream`` (RFC 9113 §4.1)."""
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream.to_bytes(4, "big") + payload


#: The server's preface (RFC 9113 §3.4): a SETTINGS frame, empty (every setting at its default).
SERVER_PREFACE: Final[bytes] = frame(SETTINGS, 0, 0)
#: The acknowledgement of the client's SETTINGS, which §6.5.3 asks for at once.
SETTINGS_ACK: Final[bytes] = frame(SETTINGS, ACK, 0)
#: The last frame before the close (§6.8): no stream was processed (last stream 0), and why.
GOODBYE: Final[bytes] = frame(GOAWAY, 0, 0, (0).to_bytes(4, "big") + HTTP_1_1_REQUIRED.to_bytes(4, "big"))


def refused_stream(stream: int) -> bytes:
    """RST_STREAM HTTP_1_1_REQUIRED on ``stream``: the request it opened is to be sent in HTTP/1.1."""
    return frame(RST_STREAM, 0, stream, HTTP_1_1_REQUIRED.to_bytes(4, "big"))


class Http2Farewell:
    """Reads what an HTTP/2 client sends after its preface's first line and says what to answer.

    Each of the client's SETTINGS (not an acknowledgement) is acknowledged; each stream it opens with
    HEADERS is refused with RST_STREAM HTTP_1_1_REQUIRED, once (a later HEADERS on that stream, or a
    CONTINUATION, opens nothing). Payloads are skipped, never kept: only an unfinished frame header
    (8 bytes at most) is held between reads. :attr:`over` turns true when the client says GOAWAY or
    its preface is no HTTP/2 preface: nothing it sends after that is worth reading.
    """

    def __init__(self) -> None:
        self._preface_left = PREFACE_REST
        self._head = b""  # a frame header begun in an earlier read
        self._skip = 0  # bytes of the current frame's payload still to come
        #: The highest stream refused so far (0: none): a stream the client opens has a higher one.
        self.last_refused = 0
        #: Bytes read so far, the rest of the preface included.
        self.read = 0
        self.over = False

    def received(self, data: bytes) -> bytes:
        """The frames to send in answer to ``data`` (``b""`` for none)."""
        self.read += len(data)
        at = self._take_preface(data)
        answers = []
        while at < len(data) and not self.over:
            if self._skip:
                step = min(self._skip, len(data) - at)
                self._skip, at = self._skip - step, at + step
                continue
            piece = data[at : at + FRAME_HEADER - len(self._head)]
            self._head, at = self._head + piece, at + len(piece)
            if len(self._head) == FRAME_HEADER:
                answers.append(self._answer(self._head))
                self._head = b""
        return b"".join(answers)

    def _take_preface(self, data: bytes) -> int:
        """How much of ``data`` is the rest of the client's preface; :attr:`over` when it differs."""
        if not self._preface_left:
            return 0
        piece = data[: len(self._preface_left)]
        if not self._preface_left.startswith(piece):
            self.over = True
            return len(data)
        self._preface_left = self._preface_left[len(piece) :]
        return len(piece)

    def _answer(self, head: bytes) -> bytes:
        """The answer to the frame whose header is ``head``; its payload is skipped after it."""
        self._skip = int.from_bytes(head[:3], "big")
        kind, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF  # the top bit is reserved
        if kind == SETTINGS and stream == 0 and not flags & ACK:
            return SETTINGS_ACK
        if kind == HEADERS and stream % 2 == 1 and stream > self.last_refused:  # a client's streams are odd
            self.last_refused = stream
            return refused_stream(stream)
        if kind == GOAWAY:
            self.over = True
        return b""
