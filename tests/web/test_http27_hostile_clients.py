"""Hostile clients at the HTTP server layer, over raw sockets to the real server (session 27).

Before: a 414, a 431 and the 505 to an HTTP/2 preface began ``HTTP/1.0`` where every other answer
to an HTTP/1.1 client began ``HTTP/1.1``; the server's own refusal of a ``HEAD`` carried the JSON
body after its headers; ``Content-Length: 0000000000000000000005`` (the number 5, RFC 9110 §8.6)
was a 413; a chunk-size line over 4 KiB, or a trailer over 64 KiB, that arrived in one read was
accepted (the bounds held only across reads); a client streaming blank lines made each ``CR LF CR
LF`` an empty request of its own, at a cost growing with the square of each read: four of them made
``/healthz`` take 1.1 s (median) instead of 2 ms, and they were never refused.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, everything_sent, parsed_by_server, serving_raw

from moodtape.web.buffered_server import (
    MAX_BLANK_BYTES,
    MAX_CHUNK_LINE,
    MAX_HEADER_BYTES,
    BufferedServer,
)

HOST = b"Host: x\r\n"
CHUNKED_POST = (
    b"POST /api/analyze HTTP/1.1\r\n" + HOST + b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /" + b"a" * (MAX_HEADER_BYTES + 10) + b" HTTP/1.1\r\n" + HOST + b"\r\n", b"414"),
        (b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 10) + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n", b"400"),
    ],
    ids=["414", "431", "folded-400"],
)
def test_refusals_answer_in_http_1_1_and_close(port: Target, request_bytes: bytes, status: bytes) -> None:
    """waitress read a made-up ``GET / HTTP/1.0`` line for headers over the limit, and fell back to 1.0 for
    HTTP/2: the status line said ``HTTP/1.0``; RFC 9110 §2.5 asks for the highest version the server speaks."""
    answer = everything_sent(port, request_bytes)
    head = answer.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0].startswith(b"HTTP/1.1 " + status + b" "), head[0]
    assert b"Connection: close" in head


def test_a_refusal_of_an_http_1_0_request_still_answers_in_1_0(port: Target) -> None:
    """An HTTP/1.0 client gets HTTP/1.0 from the app; its refusals stay the same."""
    answer = everything_sent(port, b"GET / HTTP/1.0\r\nX-A: a\r\n b\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 400 ")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"HEAD / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n",
        b"HEAD /" + b"a" * (MAX_HEADER_BYTES + 10) + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        b"\r\nHEAD / HTTP/1.1\r\n" + HOST + b"Content-Length: 1, 2\r\n\r\n",
        b"HEAD * HTTP/1.1\r\n" + HOST + b"Content-Length: 0\r\n\r\n",
    ],
    ids=["folded-400", "414", "after-a-blank-line", "star-target"],
)
def test_a_refused_head_has_no_body(port: Target, request_bytes: bytes) -> None:
    """RFC 9110 §9.3.2: the answer to HEAD has headers only; waitress wrote the JSON after them, which a
    client reads as the start of the next answer (curl: "Excess found")."""
    head, _, body = everything_sent(port, request_bytes).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4")
    assert body == b""
    assert int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) > 0  # what a GET would get


@pytest.mark.parametrize("zeros", [5, 30, 6000])
def test_a_content_length_with_leading_zeros_is_its_number(zeros: int) -> None:
    """``1*DIGIT`` (RFC 9110 §8.6): ``0…05`` is 5. Over 18 digits counted with the zeros it was a 413, and past
    4,300 digits waitress's int() would raise (a 400)."""
    parser = parsed_by_server(
        b"POST /x HTTP/1.1\r\n" + HOST + b"Content-Length: " + b"0" * zeros + b"5\r\n\r\nhelloGET"
    )
    assert parser.completed and parser.error is None
    assert parser.content_length == 5 and parser.get_body_stream().read() == b"hello"
    assert parser.headers["CONTENT_LENGTH"] == "5"  # what the app reads, not the padded value


def test_a_content_length_of_over_18_significant_digits_is_still_a_413() -> None:
    parser = parsed_by_server(b"POST /x HTTP/1.1\r\n" + HOST + b"Content-Length: 00" + b"9" * 19 + b"\r\n\r\n")
    assert parser.error is not None and parser.error.code == 413


def test_a_body_framed_by_a_zero_padded_length_leaves_the_next_request_whole(port: Target) -> None:
    """The body is the 5 bytes the length says: the request pipelined after it is read as sent."""
    padded = b"POST /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 0000000000000000000005\r\n\r\nhello"
    answers = everything_sent(port, padded + b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert answers.startswith(b"HTTP/1.1 405 ")  # /healthz takes GET: the app saw the POST
    assert b"}\nHTTP/1.1 200 OK\r\n" in answers  # right after the 405's JSON


@pytest.mark.parametrize("piece", [0, 1000], ids=["one-read", "in-pieces"])
def test_a_long_chunk_size_line_is_refused_however_it_arrives(piece: int) -> None:
    """Before, only the part of the line waitress still held after a read was measured: 5 KiB in one read passed."""
    line = b"2;x=" + b"a" * MAX_CHUNK_LINE + b"\r\n"
    parser = parsed_by_server(CHUNKED_POST + line + b"ab\r\n0\r\n\r\n", piece)
    assert parser.completed and parser.error is not None and parser.error.code == 400
    assert "chunk-size line is longer" in parser.error.body


@pytest.mark.parametrize("piece", [0, 1000], ids=["one-read", "in-pieces"])
def test_a_long_trailer_is_refused_however_it_arrives(piece: int) -> None:
    parser = parsed_by_server(CHUNKED_POST + b"2\r\nab\r\n0\r\nX-T: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n", piece)
    assert parser.completed and parser.error is not None and parser.error.code == 400


def test_chunk_lines_and_trailers_within_the_bounds_are_read() -> None:
    line = b"2;x=" + b"a" * (MAX_CHUNK_LINE - 10) + b"\r\n"
    parser = parsed_by_server(CHUNKED_POST + line + b"ab\r\n0\r\nX-T: b\r\n\r\n")
    assert parser.completed and parser.error is None and parser.get_body_stream().read() == b"ab"


@pytest.mark.parametrize("blank", [b"\r\n", b"\r\n\r\n\r\n", b"\r\n" * (MAX_BLANK_BYTES // 2)])
def test_blank_lines_before_a_request_are_skipped(port: Target, blank: bytes) -> None:
    """RFC 9112 §2.2: a server ignores blank lines before a request line."""
    answer = everything_sent(port, blank + b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_a_stream_of_blank_lines_is_refused_quickly(port: Target) -> None:
    """Each ``CR LF CR LF`` was an empty request, and what was left of the read was copied after each one:
    a client streaming them was never refused, and four made ``/healthz`` take over a second."""
    started = time.monotonic()
    with port.connect(10) as sock:
        with contextlib.suppress(OSError):  # the server refuses and closes while we still send
            for _ in range(64):
                sock.sendall(b"\r\n" * 32768)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"blank lines" in answer
    assert time.monotonic() - started < 5


def test_a_connection_that_sent_only_blank_lines_does_not_hold_up_a_drain(app: Flask) -> None:
    """It waits for a request, as an idle one does; a CR LF left after ``CR LF CR LF`` made it look busy,
    so a graceful stop waited the whole window for it."""
    server = BufferedServer(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    try:
        with socket.create_connection(("127.0.0.1", server.bound_port)) as client:
            client.sendall(b"\r\n\r\n\r\n")
            for _ in range(3):
                server.poll(0.1)
            started = time.monotonic()
            assert server.drain(10.0) == 0
            assert time.monotonic() - started < 1.0
    finally:
        server.stop()
