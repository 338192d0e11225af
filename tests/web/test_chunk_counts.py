"""A chunked body split into a great many tiny chunks is refused at the chunk over the bound.

Found by a hostile-client probe: each chunk costs waitress's event loop, which reads every
connection, a few microseconds whatever its size, and the body limit counts the bytes sent, so a
10 MB body of one-byte chunks (``1\\r\\nA\\r\\n``, 1.7 million of them) was read to its end. One
request of a million such chunks took 6.1 s of the server's CPU and slowed ``/healthz`` from about
1 ms to 37 ms (96 ms at worst) for as long as it lasted; the same bytes with ``Content-Length``
cost 10 ms. Now the chunk past the bound (:func:`chunk_bound` of the body limit: an average of 640
bytes a chunk for the largest body, at least :data:`MAX_CHUNKS`) gets a 400 at once and the
connection closes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise

import pytest
from flask import Flask
from raw_http import Target, first_answer, serving_raw
from waitress.buffers import OverflowableBuffer

from moodtape.web.buffered_server import BODY_HEADROOM, MAX_CHUNKS, _StrictChunkedReceiver, chunk_bound


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _chunked(pieces: list[bytes]) -> bytes:
    """``pieces`` as chunks, then the last (empty) chunk and no trailer."""
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def _upload(body: bytes) -> bytes:
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + body


def _bound(app: Flask) -> int:
    """The chunks allowed by the server that serves ``app`` (its body limit: uploads plus framing)."""
    return chunk_bound(int(app.config["MAX_CONTENT_LENGTH"]) + BODY_HEADROOM)


def test_one_byte_chunks_past_the_bound_are_a_400_that_closes(port: Target, app: Flask) -> None:
    """Before: all of them were read, then the app answered 415 (the bytes are no picture)."""
    status, head, body = first_answer(port, _upload(_chunked([b"A"] * (_bound(app) + 10))), timeout=10.0)
    assert status == 400, head
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert b"connection: close" in head.lower()


def test_a_picture_in_as_many_chunks_as_allowed_is_analysed(
    port: Target, app: Flask, astronaut_jpeg_bytes: bytes
) -> None:
    """The bound counts the last, empty chunk too: one piece of picture fewer than the bound, plus it, pass."""
    pieces = _bound(app) - 1
    assert len(astronaut_jpeg_bytes) >= pieces, "the picture is too small to split this finely"
    cuts = [len(astronaut_jpeg_bytes) * i // pieces for i in range(pieces + 1)]
    chunks = [astronaut_jpeg_bytes[start:end] for start, end in pairwise(cuts)]
    status, head, body = first_answer(port, _upload(_chunked(chunks)), timeout=30.0)
    assert status == 200, (head, body[:200])
    assert len(json.loads(body)["faces"]) == 1


@pytest.mark.parametrize("read_size", [1, 2, 7, 8192, 1 << 20])
def test_the_body_and_what_follows_it_are_the_same_whatever_the_reads(read_size: int) -> None:
    """The reader walks each read by position: it takes the body and its trailer, and leaves the
    next pipelined request unread, however the bytes were cut into reads."""
    pieces = [b"A", b"BC" * 50, b"D" * 3000, b"E"]
    wire = _chunked(pieces)[:-2] + b"X-Trailer: 1\r\n\r\n" + b"GET /next HTTP/1.1\r\n\r\n"
    receiver = _StrictChunkedReceiver(OverflowableBuffer(1 << 20))
    taken = 0
    for at in range(0, len(wire), read_size):
        taken += receiver.received(wire[at : at + read_size])
        if receiver.completed:
            break
    assert receiver.completed and receiver.error is None
    assert wire[taken:] == b"GET /next HTTP/1.1\r\n\r\n"
    assert receiver.getfile().read() == b"".join(pieces)
    assert receiver.chunks == len(pieces) + 1


def test_the_bound_grows_with_the_upload_limit() -> None:
    """Review: a fixed 16,384 refused 4 KiB chunks once ``MOODTAPE_MAX_UPLOAD_BYTES`` was 100 MB."""
    assert chunk_bound(10 * 1024 * 1024) == MAX_CHUNKS
    hundred_mb = 100 * 1024 * 1024
    assert chunk_bound(hundred_mb) * 4096 >= hundred_mb
    receiver = _StrictChunkedReceiver(OverflowableBuffer(1 << 20))
    receiver.max_chunks = chunk_bound(hundred_mb)
    receiver.received(_chunked([b"A"] * (MAX_CHUNKS + 10)))
    assert receiver.completed and receiver.error is None
