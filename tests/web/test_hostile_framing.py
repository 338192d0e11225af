"""Body framing a hostile client can pick that waitress took: an empty Transfer-Encoding, a huge chunk.

- ``Transfer-Encoding:`` with no coding (or only commas) beside ``Content-Length``: waitress dropped
  the header and framed the body by ``Content-Length``, and the app ran the request. A proxy in
  front that reads the header differently frames the connection another way (request smuggling);
  RFC 9112 §6.1 says a request whose Transfer-Encoding does not end in chunked gets a 400 and its
  connection closed.
- A chunk whose size line alone declares more than the body limit (``FFFFFFFFFFFFFFFF``): waitress
  waited for that many bytes, so the client heard nothing until it had sent the whole limit or the
  idle timeout (60 s) passed. Now a 413 at once, as for a too-large ``Content-Length``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, first_answer, serving_raw
from waitress.adjustments import Adjustments

from moodtape.web.buffered_server import BODY_HEADROOM, _DrainingParser


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _answer(port: Target, request: bytes, timeout: float = 3.0) -> tuple[int, bytes, bytes]:
    """Status, head and body of the first answer; raises TimeoutError when none comes in time."""
    return first_answer(port, request, timeout)


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
@pytest.mark.parametrize("value", [b"", b" ", b",", b",,"], ids=["empty", "space", "comma", "commas"])
def test_a_transfer_encoding_without_codings_is_refused_and_closes(port: Target, value: bytes, version: bytes) -> None:
    """Before: 200 from the app, the body framed by Content-Length, the connection kept open."""
    request = (
        b"GET /healthz HTTP/"
        + version
        + b"\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding:"
        + value
        + b"\r\nContent-Length: 45\r\n\r\n"
        b"GET /api/config HTTP/1.1\r\nHost: smuggled\r\n\r\n"
    )
    status, head, body = _answer(port, request)
    assert status == 400, head
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert b"connection: close" in head.lower()


def test_a_transfer_encoding_without_codings_is_refused_without_content_length(port: Target) -> None:
    status, head, _ = _answer(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n")
    assert status == 400 and b"connection: close" in head.lower()


@pytest.mark.parametrize("size", [b"FFFFFFFFFFFFFFFFFFFF", b"7fffffffffffffff", None], ids=["huge", "2^63", "limit"])
def test_a_chunk_larger_than_the_body_limit_is_a_413_at_once(port: Target, app: Flask, size: bytes | None) -> None:
    """Before: no answer until the client had sent the whole limit or the idle timeout (60 s)."""
    if size is None:  # just over what the server reads of a body
        size = b"%X" % (app.config["MAX_CONTENT_LENGTH"] + BODY_HEADROOM + 1)
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size
        + b"\r\n\xff\xd8\xff"
    )
    status, _, body = _answer(port, request)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "too_large"


def test_chunks_adding_up_over_the_limit_are_refused_at_the_chunk_that_crosses_it() -> None:
    parser = _DrainingParser(Adjustments(max_request_body_size=1000))

    def feed(data: bytes) -> None:
        while data and not parser.completed:
            data = data[parser.received(data) :]

    feed(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + b"a" * 0x200 + b"\r\n")
    assert parser.error is None and not parser.completed
    feed(b"200\r\n")  # 512 + 512 bytes and framing: over 1000 before any of it comes
    assert parser.completed and parser.error is not None and parser.error.code == 413


def test_chunks_within_the_limit_still_reach_the_app(port: Target) -> None:
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n100\r\n" + b"a" * 256 + b"\r\n0\r\n\r\n"
    )
    status, _, body = _answer(port, request)
    assert status == 415 and b"unsupported_image" in body  # the app read the 256 bytes
