"""A compressed body sent chunked to a small-JSON endpoint is read to 64 KiB at most (session 35 mend).

The drain of a compressed chunked body (tests/web/test_bodies35_compressed_chunked.py) dropped the
small JSON bound: ``POST /api/feedback`` with ``Content-Encoding: gzip`` and 5 MB chunked was read
to its end (5,000,697 bytes with framing) for the 415, where before the drain the bound stopped it
past 64 KiB. Now the drain ends at the bound too; the answer stays the 415 decided from the head
(the same body sent by its ``Content-Length`` is that 415: the coding is named before the size).
"""

from __future__ import annotations

import pytest
from flask import Flask
from tests.web.raw_http import serving_raw
from tests.web.test_bodies34_chunked_small_json import READ, _chunked, _read_until_done
from tests.web.test_bodies34_length_refused import SMALL_JSON_ROUTES, _answers, _auth, _counting_held, _everything_sent
from tests.web.test_bodies35_compressed_chunked import GZIPPED, REFUSED, _head, _parser

from moodtape.web.refusals import ENCODED_BODY, SMALL_JSON_BYTES

#: Small chunks, so that the bound falls inside a read rather than at a chunk's declared size.
CHUNK = 4096


@pytest.mark.parametrize(("method", "path"), SMALL_JSON_ROUTES)
def test_a_compressed_chunked_body_is_read_no_further_than_the_small_json_bound(
    app: Flask, method: str, path: str
) -> None:
    """Before: all 5 MB and their framing read, then the 415. Now the 415 in the read that takes the
    data past 64 KiB: no more than the head, 64 KiB of chunks and one read."""
    parser = _parser(app)
    head = _head(method, path, "Content-Type: application/json\r\nContent-Encoding: gzip\r\n")
    chunks = _chunked(GZIPPED, CHUNK)
    taken = _read_until_done(parser, [head, *chunks])
    assert parser.completed and parser.error is not None
    assert (parser.error.code, parser.error.api_code, parser.error.body) == (
        415,
        "unsupported_media_type",
        ENCODED_BODY,
    )
    framed = sum(map(len, chunks[: SMALL_JSON_BYTES // CHUNK]))
    assert taken <= len(head) + framed + READ, taken
    assert len(parser.body_rcv) == 0  # and none of it held


def test_a_compressed_chunk_declared_past_the_bound_ends_in_the_read_of_its_size_line(app: Flask) -> None:
    """Before: its 5 MB read to the end. Now the size line alone ends it, as for a plain JSON body."""
    parser = _parser(app)
    head = _head("POST", "/api/feedback", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n")
    taken = _read_until_done(parser, [head, *_chunked(GZIPPED, len(GZIPPED))])
    assert parser.completed and parser.error is not None and parser.error.code == 415
    assert taken <= len(head) + READ, taken


def test_the_client_hears_the_415_from_the_app_with_none_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a socket: the app's 415 (with its request id), and no byte of the body held."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        headers = "Content-Type: application/json\r\nContent-Encoding: gzip\r\n" + _auth(target.port)
        body = b"".join(_chunked(GZIPPED[:1_000_000], CHUNK))
        data = _everything_sent(target, _head("POST", "/api/feedback", headers) + body)
    assert _answers(data) == [REFUSED]
    assert b"\r\nx-request-id: " in data.lower()
    assert held[0] == 0, held
