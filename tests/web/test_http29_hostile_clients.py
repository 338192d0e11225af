"""Hostile clients at the HTTP server layer, over raw sockets to the real server (session 29).

Before: ``GET /healthz#x`` was served as ``/healthz`` (HAProxy 2.6 answers a 400, nginx passes the
target on with its ``#``); a chunked body whose trailer held a line that is no header field
(``0\\r\\nno colon\\r\\n\\r\\n``) was read as if the trailer were fine (HAProxy: 400); and a
picture of exactly ``limits.max_upload_bytes`` sent in a form (``curl -F image=@photo.jpg``) was a
413, the form's framing counted toward the limit.

Mended (session 29): a trailer line holding a bare CR, a NUL or another control byte was read (a
403 from the app, then the next pipelined request served) where a header line with them is a 400;
looking at the trailer again on every read made a 64 KiB trailer sent a byte at a time cost 11 s of
the event loop; a form of the upload limit plus exactly 64 KiB was a 413 (the server's headroom
was 65,535 bytes); and a form just over the limit with 17 fields was a 413 "too large" instead of
the 400 "too many fields".
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, everything_sent, first_answer, parsed_by_server, serving_raw
from webtools import AppFactory

from moodtape.web.buffered_server import BODY_HEADROOM
from moodtape.web.uploads import MAX_FORM_PARTS

CHUNKED_POST = (
    b"PUT /api/history/consent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)
#: The same request, kept open, and a request after it on the same connection.
PIPELINED_PUT = b"PUT /api/history/consent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
NEXT_GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
BOUNDARY = b"XyZb0undary"


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


@pytest.mark.parametrize(
    "target", [b"/healthz#x", b"/healthz?a=1#x", b"/metrics#/../healthz", b"http://localhost/healthz#", b"/#"]
)
def test_a_target_with_a_fragment_is_refused(port: Target, target: bytes) -> None:
    status, head, body = first_answer(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", 5.0)
    assert status == 400
    assert "fragment" in json.loads(body)["error"]["message"]
    assert b"connection: close" in head.lower()


def test_an_encoded_number_sign_is_part_of_the_path(port: Target) -> None:
    status, _, body = first_answer(port, b"GET /healthz%23x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5.0)
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "trailer",
    [
        b"no colon here\r\n",
        b"X-Ok: 1\r\nnocolon\r\n",
        b"X-Name : 1\r\n",
        b" X-Folded: 1\r\n",
        b":empty-name\r\n",
        b"X-A: a\rX-B: b\r\n",
        b"X-A: a\r\r\n",
        b"X-A: a\r\n\r\r\n",
        b"X-A: a\x00b\r\n",
        b"X-A: a\x01b\r\n",
        b"X-A: a\x7fb\r\n",
        b"X-A\x00: a\r\n",
    ],
    ids=[
        "no-colon",
        "second-line",
        "space-before-colon",
        "leading-space",
        "no-name",
        "bare-cr-between-fields",
        "cr-before-crlf",
        "bare-cr-on-the-empty-line",
        "nul-in-value",
        "control-in-value",
        "del-in-value",
        "nul-in-name",
    ],
)
@pytest.mark.parametrize("bytes_per_send", [0, 1], ids=["one-read", "a-byte-a-read"])
def test_a_trailer_line_that_is_no_field_is_refused(port: Target, trailer: bytes, bytes_per_send: int) -> None:
    request = CHUNKED_POST + b"0\r\n" + trailer + b"\r\n"
    if bytes_per_send:
        answer = _sent_a_byte_at_a_time(port, request)
        status, body = int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]
    else:
        status, _, body = first_answer(port, request, 5.0)
    assert status == 400
    assert "trailer" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize("trailer", [b"X-A: a\rX-B: b\r\n", b"X-A: a\x00b\r\n"], ids=["bare-cr", "nul"])
def test_a_refused_trailer_closes_the_connection(port: Target, trailer: bytes) -> None:
    """Before: the app answered (403) and the request after it on the connection was served (200)."""
    answer = everything_sent(port, PIPELINED_PUT + b"0\r\n" + trailer + b"\r\n" + NEXT_GET, 5.0)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert answer.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize("piece", [0, 1, 2, 3], ids=["one-read", "1-byte-reads", "2-byte-reads", "3-byte-reads"])
def test_a_trailer_is_checked_across_the_parsers_reads(piece: int) -> None:
    """The server's parser given the request a few bytes at a time: a refused trailer is refused
    wherever the reads cut it, and a valid one read whole, the next request left unread."""
    refused = parsed_by_server(CHUNKED_POST + b"2\r\nab\r\n0\r\nX-A: 1\r\nX-B: a\rb\r\n\r\n", piece)
    assert refused.completed and refused.error is not None and refused.error.code == 400
    valid = b"2\r\nab\r\n0\r\nX-A: 1\r\nX-Obs: \x80\xff\t1\r\nX-Empty:\r\n\r\n"
    parser = parsed_by_server(PIPELINED_PUT + valid + NEXT_GET, piece)
    assert parser.completed and parser.error is None and parser.get_body_stream().read() == b"ab"


def test_trailer_fields_are_still_read(port: Target) -> None:
    status, _, _ = first_answer(port, CHUNKED_POST + b"0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n", 5.0)
    assert status == 403  # the body was read whole: the app's CSRF check answered


def test_a_valid_trailer_sent_a_byte_at_a_time_is_read(port: Target) -> None:
    """Every byte of the trailer in a send of its own (Nagle off), the next request after it."""
    trailer = b"0\r\nX-Checksum: abc\r\nX-Obs: \x80\xff\t1\r\nX-Other:\r\n\r\n"
    answer = _sent_a_byte_at_a_time(port, PIPELINED_PUT + trailer + NEXT_GET)
    assert answer.startswith(b"HTTP/1.1 403 ")  # the body was read whole: the app's CSRF check answered
    assert b"HTTP/1.1 200 " in answer  # then the next request was served


@pytest.mark.parametrize(("over_the_limit", "expected"), [(0, 200), (1, 413)])
def test_a_form_may_carry_a_picture_of_the_upload_limit_exactly(
    make_app: AppFactory, astronaut_jpeg_bytes: bytes, over_the_limit: int, expected: int
) -> None:
    limit = len(astronaut_jpeg_bytes) - over_the_limit
    client = make_app(MOODTAPE_MAX_UPLOAD_BYTES=str(limit)).test_client()
    assert client.get("/api/config").get_json()["limits"]["max_upload_bytes"] == limit
    reply = client.post(
        "/api/analyze", data={"image": (io.BytesIO(astronaut_jpeg_bytes), "a.jpg")}, content_type="multipart/form-data"
    )
    assert reply.status_code == expected, reply.get_json()
    if expected == 413:
        assert reply.get_json()["error"]["code"] == "too_large"


@pytest.fixture
def limit_port(make_app: AppFactory, astronaut_jpeg_bytes: bytes) -> Iterator[Target]:
    """The real server, its upload limit the size of the astronaut's JPEG."""
    with serving_raw(make_app(MOODTAPE_MAX_UPLOAD_BYTES=str(len(astronaut_jpeg_bytes))), None) as target:
        yield target


@pytest.mark.parametrize(("over_the_headroom", "expected"), [(0, 200), (1, 413)])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_form_may_be_the_upload_limit_plus_64_kib_exactly(
    limit_port: Target, astronaut_jpeg_bytes: bytes, over_the_headroom: int, expected: int, chunked: bool
) -> None:
    """Through the real server: a picture of the limit with a text field filling the body, as sent, to
    the limit plus 64 KiB is read; one byte more is a 413. Before: the first was a 413 too (65,535
    bytes). A chunked body is counted as sent, its chunks' framing included."""
    picture = _part(b"image", astronaut_jpeg_bytes, b"a.jpg")
    size = len(astronaut_jpeg_bytes) + BODY_HEADROOM + over_the_headroom
    filler = 0
    for _ in range(3):  # the text field, then the chunk lines that grow with it
        body = _form(picture, _part(b"note", b"n" * filler))
        filler += size - len(_as_sent(body, chunked))
    assert len(_as_sent(body, chunked)) == size
    status, _, answer = first_answer(limit_port, _analyze(body, chunked), 30.0)
    assert status == expected, answer[:300]
    if expected == 413:
        assert json.loads(answer)["error"]["code"] == "too_large"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_form_over_the_limit_with_too_many_fields_says_so(
    limit_port: Target, astronaut_jpeg_bytes: bytes, chunked: bool
) -> None:
    """A picture of the limit and 16 small fields: over the limit, within the headroom. Before: 413
    "too large" (and 413 for any chunked form with too many fields)."""
    fields = [_part(b"f%d" % n, b"x") for n in range(MAX_FORM_PARTS)]
    body = _form(_part(b"image", astronaut_jpeg_bytes, b"a.jpg"), *fields)
    assert len(astronaut_jpeg_bytes) < len(body) < len(astronaut_jpeg_bytes) + BODY_HEADROOM
    status, _, answer = first_answer(limit_port, _analyze(body, chunked), 30.0)
    assert status == 400, answer[:300]
    assert "too many fields" in json.loads(answer)["error"]["message"]


@pytest.mark.parametrize("filename", [b"a.jpg", None], ids=["file-part", "text-part"])
def test_a_picture_one_byte_over_the_limit_in_a_form_is_too_large(
    limit_port: Target, astronaut_jpeg_bytes: bytes, filename: bytes | None
) -> None:
    """Within the form's headroom, the picture alone is held to the limit, as a file or a text part."""
    body = _form(_part(b"image", astronaut_jpeg_bytes + b"\x00", filename))
    status, _, answer = first_answer(limit_port, _analyze(body, chunked=False), 30.0)
    assert status == 413, answer[:300]
    assert json.loads(answer)["error"]["code"] == "too_large"


def _part(name: bytes, content: bytes, filename: bytes | None = None) -> bytes:
    disposition = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"\r\nContent-Type: image/jpeg'
    return b"--" + BOUNDARY + b"\r\n" + disposition + b"\r\n\r\n" + content + b"\r\n"


def _form(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def _analyze(form: bytes, chunked: bool) -> bytes:
    """A POST of ``form`` to /api/analyze, with its length or in 64 KiB chunks."""
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += b"Content-Type: multipart/form-data; boundary=" + BOUNDARY + b"\r\n"
    if chunked:
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + _as_sent(form, chunked)
    return head + b"Content-Length: %d\r\n\r\n" % len(form) + form


def _as_sent(form: bytes, chunked: bool) -> bytes:
    """The body as :func:`_analyze` sends ``form``: itself, or in 64 KiB chunks and the last, empty one."""
    if not chunked:
        return form
    chunks = (form[at : at + 65536] for at in range(0, len(form), 65536))
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def _sent_a_byte_at_a_time(port: Target, request: bytes) -> bytes:
    """All the server answers to ``request`` sent one byte per send, Nagle's algorithm off so that
    each leaves at once."""
    with port.connect(5.0) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in request:
            sock.sendall(bytes([byte]))
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data
