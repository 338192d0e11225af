"""Chunked bodies with lines not ended by CR LF, ``chunked`` applied twice, and HTTP versions other than 1.x.

RFC 9112 §7.1 ends every chunk-size line, chunk and trailer line with CR LF; §6.1 applies chunked
once; §2.6 lets a server refuse a major version it does not speak (505). Each answer must come at
once: before, the chunked cases got nothing until the idle timeout (60 s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, first_answer, serving_raw
from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer

from moodtape.web.buffered_server import _DrainingParser


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _status(port: Target, request: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """The answer's status and body (raises TimeoutError when none comes in time)."""
    status, _, body = first_answer(port, request, timeout)
    return status, body


HEAD = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"3\nabc\n0\n\n",  # every chunk line ended by LF
        b"3\r\nabc\r\n0\n\n",  # last-chunk line ended by LF
        b"3\r\nabc\r\n0\r\nX-T: 1\n\n",  # trailer line ended by LF
        b"3\r\nabc\r\n0\r\n\n",  # empty trailer ended by LF
        b"\r\n" * 1000,  # empty lines where a chunk size belongs
        b"3\r\nabc\r\n\r\n0\r\n\r\n",  # an empty line between chunks
        b"3\rabc\r\n0\r\n\r\n",  # a bare CR in the size line
    ],
    ids=["size-lf", "last-chunk-lf", "trailer-lf", "empty-trailer-lf", "empty-lines", "empty-line-between", "bare-cr"],
)
def test_chunk_lines_not_ended_by_crlf_get_a_400_at_once(port: Target, body: bytes) -> None:
    status, answer = _status(port, HEAD + body, timeout=3.0)
    assert status == 400 and json.loads(answer)["error"]["message"]


def test_a_proper_chunked_body_still_reaches_the_app(port: Target) -> None:
    status, answer = _status(port, HEAD + b"2;ext=1\r\nab\r\n1\r\nc\r\n0\r\nX-T: 1\r\n\r\n")
    assert status == 415 and b"unsupported_image" in answer  # the app read "abc" and found no image


@pytest.mark.parametrize(
    "encoding", [b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", b"Transfer-Encoding: chunked, chunked"]
)
def test_chunked_applied_twice_is_refused(port: Target, encoding: bytes) -> None:
    """Before: decoded once and passed to the app (RFC 9112 §6.1: chunked is applied once)."""
    request = b"PUT /api/history/consent HTTP/1.1\r\nHost: x\r\n" + encoding + b"\r\n\r\n0\r\n\r\n"
    status, answer = _status(port, request)
    assert status == 400 and json.loads(answer)["error"]["message"]


@pytest.mark.parametrize(("version", "expected"), [(b" HTTP/2.0", 505), (b" HTTP/9.9", 505), (b"", 400)])
def test_versions_other_than_1x_are_refused(port: Target, version: bytes, expected: int) -> None:
    """Before: ``HTTP/9.9`` and ``HTTP/2.0`` were answered as HTTP/1.0, and so was a line without a version."""
    status, answer = _status(port, b"GET /healthz" + version + b"\r\nHost: x\r\n\r\n")
    assert status == expected and json.loads(answer)["error"]["message"]


@pytest.mark.parametrize("version", [b"1.0", b"1.1"])
def test_http_1x_is_answered(port: Target, version: bytes) -> None:
    status, answer = _status(port, b"GET /healthz HTTP/" + version + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(answer)["status"] == "ok"


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_a_chunked_body_arriving_in_pieces_is_decoded_whole(step: int) -> None:
    """The stricter reader checks each line however the bytes are split across reads."""
    body = b"5\r\nhello\r\n1;a=b\r\n \r\nA\r\n0123456789\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n"
    request = HEAD + body + b"GET /next HTTP/1.1\r\n\r\n"
    parser = _DrainingParser(Adjustments(inbuf_overflow=1 << 20))
    offset = 0
    while not parser.completed:
        offset += parser.received(request[offset : offset + step])
    assert parser.error is None
    assert parser.get_body_stream().read() == b"hello 0123456789"
    assert request[offset:] == b"GET /next HTTP/1.1\r\n\r\n"
    assert isinstance(parser.body_rcv.buf, OverflowableBuffer)
