"""Hostile and unusual clients at the HTTP server and the upload (session 30).

Before: a TIFF, BMP, PSD or PDF sent to ``/api/analyze`` was a 415 "that file is not a JPEG, PNG,
WebP, GIF or HEIC picture", which neither says what the file is nor what to do; a chunked body's
trailer (field lines and the empty line ending it) of 64 KiB + 1 was read, and one of 64 KiB + 2
read or refused depending on how the reads split it; waitress held every trailer byte and searched
all of it again on each read: a 64 KiB trailer fed a byte per read cost the parser 1.4 s of CPU.
"""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from raw_http import parsed_by_server
from waitress.adjustments import Adjustments
from webtools import encode

from moodtape.vision.not_pictures import picture_kind, upload_refusal
from moodtape.web.buffered_server import MAX_HEADER_BYTES, _DrainingParser

CHUNKED_PUT = b"PUT /api/history/consent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n"
NEXT_GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
_GREY = np.full((40, 40, 3), 120, np.uint8)


def _upload(client: FlaskClient, csrf: dict[str, str], data: bytes, as_form: bool) -> Any:
    if as_form:
        form = {"image": (io.BytesIO(data), "upload")}
        return client.post("/api/analyze", data=form, content_type="multipart/form-data", headers=csrf)
    return client.post("/api/analyze", data=data, content_type="application/octet-stream", headers=csrf)


@pytest.mark.parametrize("as_form", [False, True], ids=["body", "form"])
@pytest.mark.parametrize(
    ("data", "named"),
    [
        (encode(_GREY, ".tiff"), "TIFF picture"),
        (encode(_GREY, ".bmp"), "BMP picture"),
        (b"8BPS\x00\x01" + bytes(40), "Photoshop (PSD)"),
        (b"%PDF-1.7\n1 0 obj\n", "PDF document"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "SVG drawing"),
    ],
    ids=["tiff", "bmp", "psd", "pdf", "svg"],
)
def test_a_file_the_upload_does_not_read_is_named_with_what_to_do(
    client: FlaskClient, csrf: dict[str, str], data: bytes, named: str, as_form: bool
) -> None:
    """The 415 says what the file is, which formats are read, and how to make one of them."""
    reply = _upload(client, csrf, data, as_form)
    assert reply.status_code == 415 and reply.get_json()["error"]["code"] == "unsupported_image"
    message = reply.get_json()["error"]["message"]
    assert message.startswith("that file is not a JPEG, PNG, WebP, GIF or HEIC picture: it is ")
    what, _, what_to_do = message.partition(": ")[2].partition("; ")
    assert named in what
    assert "PNG" in what_to_do and ("export" in what_to_do or "save" in what_to_do)


@pytest.mark.parametrize("as_form", [False, True], ids=["body", "form"])
def test_an_unknown_file_is_still_told_what_to_send(client: FlaskClient, csrf: dict[str, str], as_form: bool) -> None:
    reply = _upload(client, csrf, b"PK\x03\x04" + bytes(60), as_form)
    assert reply.status_code == 415
    message = reply.get_json()["error"]["message"]
    assert message.startswith("that file is not a JPEG, PNG, WebP, GIF or HEIC picture: send a photo")
    assert "save or export it as a JPEG or PNG" in message


def _trailer_of(section: int) -> bytes:
    """A trailer section (one field line and the empty line ending it) exactly ``section`` bytes long."""
    trailer = b"X-T: " + b"a" * (section - 9) + b"\r\n\r\n"
    assert len(trailer) == section
    return trailer


def _split_points(wire: bytes) -> list[list[int]]:
    """Ways to cut ``wire`` into reads: whole, a byte each, 7 and 4096 bytes each, and just
    before each byte of the CR LF CR LF that ends the trailer."""
    end = len(wire) - len(NEXT_GET)
    cuts: list[list[int]] = [[], list(range(1, len(wire))), list(range(7, len(wire), 7))]
    cuts.append(list(range(4096, len(wire), 4096)))
    cuts += [[end - back] for back in range(1, 5)]
    return cuts


def _read_in_cuts(wire: bytes, cuts: list[int]) -> tuple[Any, bytes]:
    """The server's own parser fed ``wire`` in the reads ``cuts`` makes, and what it left unread."""
    adjustments = Adjustments(max_request_header_size=MAX_HEADER_BYTES, max_request_body_size=10**6)
    parser = _DrainingParser(adjustments)  # the server's own parser, as parsed_by_server makes it
    bounds = [0, *cuts, len(wire)]
    left = b""
    for start, stop in itertools.pairwise(bounds):
        piece = wire[start:stop]
        while piece and not parser.completed:
            piece = piece[parser.received(piece) :]
        left += piece
    return parser, left


@pytest.mark.parametrize("over", [-2, -1, 0, 1, 2, 3])
def test_the_trailer_limit_is_exact_however_the_reads_split_it(over: int) -> None:
    """A section of :data:`MAX_HEADER_BYTES` is read, one byte more refused, wherever reads cut it."""
    wire = CHUNKED_PUT + _trailer_of(MAX_HEADER_BYTES + over) + NEXT_GET
    for cuts in _split_points(wire):
        parser, left = _read_in_cuts(wire, cuts)
        assert parser.completed, cuts[:3]
        if over <= 0:
            assert parser.error is None, cuts[:3]
            assert parser.get_body_stream().read() == b"ab"
            assert left == NEXT_GET, cuts[:3]
        else:
            assert parser.error is not None and parser.error.code == 400, cuts[:3]
            assert "trailer is longer" in parser.error.body


def test_the_next_request_after_a_full_trailer_is_left_whole() -> None:
    parser = parsed_by_server(CHUNKED_PUT + _trailer_of(MAX_HEADER_BYTES) + NEXT_GET)
    assert parser.completed and parser.error is None
    assert parser.body_rcv.completed


def test_no_trailer_byte_is_held() -> None:
    """The trailer is checked as it comes and dropped: waitress kept all of it, and searched it all
    again on each read, a cost growing with the square of its length."""
    parser = parsed_by_server(CHUNKED_PUT + b"X-T: " + b"a" * (MAX_HEADER_BYTES - 100), piece=512)
    assert not parser.completed
    assert parser.body_rcv.trailer == b""


@pytest.mark.parametrize("text", [b"BMW 320i, 2019", b"BM", b"MM and II are initials", b"8BP"])
def test_text_that_starts_like_a_format_is_not_named_one(text: bytes) -> None:
    """A BMP is ``BM`` then its size then four zero bytes: two letters alone are no BMP."""
    assert picture_kind(text) is None
    assert upload_refusal(text, "that file", "a JPEG picture").startswith("that file is not a JPEG picture: send")
