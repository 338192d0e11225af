"""An HTTP/2 client is told HTTP_1_1_REQUIRED on the stream it opens (session 35).

Since session 33 the HTTP/2 preface was answered at once with SETTINGS and RST_STREAM on stream 1,
before the client had opened it. A client that waits for the server's SETTINGS before its HEADERS
(RFC 9113 allows it) then read RST_STREAM for an idle stream, a connection error (§5.1), and never
asked again in HTTP/1.1. Now the server reads the client's frames for a while: it acknowledges its
SETTINGS (§6.5.3), refuses each stream the client opens with RST_STREAM HTTP_1_1_REQUIRED, and ends
with GOAWAY HTTP_1_1_REQUIRED. The frames are built by hand (9-byte headers, RFC 9113 §4.1).
"""

from __future__ import annotations

import socket

import pytest
from flask import Flask
from tests.web.raw_http import everything_sent, serving_raw

from moodtape.web.http2_farewell import (
    ACK,
    GOAWAY,
    HEADERS,
    HTTP_1_1_REQUIRED,
    RST_STREAM,
    SETTINGS,
    SETTINGS_ACK,
    Http2Farewell,
    frame,
    refused_stream,
)
from moodtape.web.refusals import MESSAGES

#: The client's connection preface (RFC 9113 §3.4), then its SETTINGS (one setting: 6 bytes).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CLIENT_SETTINGS = frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x64")  # MAX_CONCURRENT_STREAMS 100
#: WINDOW_UPDATE (type 8) and DATA (type 0), which a client sends around its HEADERS; CONTINUATION (9).
WINDOW_UPDATE = frame(0x8, 0, 0, b"\x00\x00\xff\xff")
#: HEADERS ending the headers (0x4) on ``stream``; the header block is never looked at.
END_HEADERS = 0x4


def _headers(stream: int, block: bytes = b"\x82\x86\x84") -> bytes:
    return frame(HEADERS, END_HEADERS, stream, block)


def _frames(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """The frames in ``data``, each as type, flags, stream and payload; whole frames only."""
    found = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        if len(data) < 9 + length:
            break
        found.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF, data[9 : 9 + length]))
        data = data[9 + length :]
    return found


def _read_until(sock: socket.socket, wanted: bytes) -> bytes:
    """What the server sends until ``wanted`` is in it (or it closes)."""
    data = b""
    while wanted not in data and (more := sock.recv(65536)):
        data += more
    return data


def _read_to_close(sock: socket.socket) -> bytes:
    data = b""
    while more := sock.recv(65536):
        data += more
    return data


GOODBYE_PAYLOAD = (0).to_bytes(4, "big") + HTTP_1_1_REQUIRED.to_bytes(4, "big")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_client_that_waits_for_settings_is_refused_on_the_stream_it_opens(
    app: Flask, request: pytest.FixtureRequest, scheme: str
) -> None:
    """Before: SETTINGS and RST_STREAM on stream 1 at once, a stream this client never opened; now
    nothing names a stream until it opens stream 3, which RST_STREAM HTTP_1_1_REQUIRED names. Over
    TLS too (frames go out through the TLS channel's writes)."""
    tls = request.getfixturevalue("tls_files") if scheme == "https" else None
    with serving_raw(app, tls) as target, target.connect(10.0) as sock:
        sock.sendall(PREFACE + CLIENT_SETTINGS)
        before = _read_until(sock, SETTINGS_ACK)
        sock.sendall(WINDOW_UPDATE + _headers(3))
        after = _read_to_close(sock)
    assert [(kind, flags, stream) for kind, flags, stream, _ in _frames(before)] == [
        (SETTINGS, 0, 0),
        (SETTINGS, ACK, 0),
    ]
    frames = _frames(before + after)
    assert all(stream in (0, 3) for _, _, stream, _ in frames), frames
    assert (RST_STREAM, 0, 3, HTTP_1_1_REQUIRED.to_bytes(4, "big")) in frames
    assert frames[-1] == (GOAWAY, 0, 0, GOODBYE_PAYLOAD)


def test_a_client_that_opens_no_stream_is_told_goaway(app: Flask) -> None:
    """Before: RST_STREAM on stream 1, which it had not opened, and the connection left open; now
    GOAWAY HTTP_1_1_REQUIRED, last stream 0 (no stream was processed), and the close."""
    with serving_raw(app, None) as target:
        sent = everything_sent(target, PREFACE + CLIENT_SETTINGS)
    assert _frames(sent) == [
        (SETTINGS, 0, 0, b""),
        (SETTINGS, ACK, 0, b""),
        (GOAWAY, 0, 0, GOODBYE_PAYLOAD),
    ]


def test_a_preface_behind_http_1_1_requests_is_answered_in_http_1_1(app: Flask) -> None:
    """Pipelined after a request still being answered, the preface gets the 505 in HTTP/1.1, after
    that answer: frames written then would fall inside the HTTP/1.1 answer's bytes."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with serving_raw(app, None) as target:
        sent = everything_sent(target, request + PREFACE + CLIENT_SETTINGS + _headers(1))
    assert sent.startswith(b"HTTP/1.1 200 "), sent[:60]
    head, _, rest = sent.partition(b"\r\n\r\n")
    length = next(int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))
    assert rest[length:].startswith(b"HTTP/1.1 505 "), rest[length:][:60]
    assert rest.endswith(b'"http_version_not_supported", "message": "' + MESSAGES[505].encode() + b'"}}')


#: What a client may send after the preface's first line: the rest of the preface, its SETTINGS,
#: WINDOW_UPDATE, stream 1's HEADERS with a CONTINUATION, a large DATA frame, stream 1's trailers
#: (HEADERS again: no second refusal), an acknowledgement of our SETTINGS (none owed back), then stream 3.
CLIENT_STREAM = (
    b"SM\r\n\r\n"
    + CLIENT_SETTINGS
    + WINDOW_UPDATE
    + frame(HEADERS, 0, 1, b"\x82" * 20)
    + frame(0x9, END_HEADERS, 1, b"\x86" * 10)
    + frame(0x0, 0, 1, b"d" * 70_000)
    + _headers(1)
    + SETTINGS_ACK
    + _headers(3)
)
ANSWER = SETTINGS_ACK + refused_stream(1) + refused_stream(3)


@pytest.mark.parametrize("piece", [len(CLIENT_STREAM), 1, 7, 4096])
def test_the_answer_does_not_depend_on_how_the_reads_split_the_frames(piece: int) -> None:
    farewell = Http2Farewell()
    answer = b"".join(farewell.received(CLIENT_STREAM[at : at + piece]) for at in range(0, len(CLIENT_STREAM), piece))
    assert answer == ANSWER
    assert not farewell.over and farewell.read == len(CLIENT_STREAM) and farewell.last_refused == 3


def test_a_stream_the_server_would_open_is_not_refused() -> None:
    """Even streams are the server's (RFC 9113 §5.1.1), stream 0 the connection's: no HEADERS there opens one."""
    farewell = Http2Farewell()
    assert farewell.received(b"SM\r\n\r\n" + _headers(2) + _headers(0)) == b""


@pytest.mark.parametrize(
    "sent",
    [b"SM\r\n\r\n" + frame(GOAWAY, 0, 0, GOODBYE_PAYLOAD) + _headers(1), b"XX\r\n\r\n" + _headers(1)],
    ids=["goaway", "no-preface"],
)
def test_a_client_that_says_goaway_or_no_preface_is_read_no_further(sent: bytes) -> None:
    farewell = Http2Farewell()
    assert farewell.received(sent) == b""
    assert farewell.over
