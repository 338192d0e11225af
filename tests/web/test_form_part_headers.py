"""An upload form whose part carries megabytes of header lines is refused before Werkzeug parses them.

Werkzeug bounds the number of form parts (16 here) but neither the size nor the number of one
part's header lines. A 9.6 MB form whose one part had 1.2 million ``X-J: a`` lines took 2.8 s of a
request thread to parse and was then answered 200; four at once held every thread for 12 s and
``/healthz`` waited 11 s. Now over 8 KiB of a part's headers is a 400 that says so, in milliseconds.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from raw_http import serving_raw

FORM = "multipart/form-data; boundary=B"
MAX_PART_HEADER_BYTES = 8 * 1024  # moodtape.web.uploads.MAX_PART_HEADER_BYTES


def _form(picture: bytes, extra_headers: bytes = b"", break_: bytes = b"\r\n") -> bytes:
    return (
        b"--B" + break_ + b'Content-Disposition: form-data; name="image"; filename="a.jpg"' + break_ + extra_headers
        + b"Content-Type: image/jpeg" + break_ + break_ + picture + break_ + b"--B--" + break_
    )  # fmt: skip


@pytest.mark.parametrize(
    "extra",
    [
        b"X-J: a\r\n" * 200_000,
        b"X-Junk: " + b"a" * 2_000_000 + b"\r\n",
        b"X-J: a\r\n" * (MAX_PART_HEADER_BYTES // 8 + 1),
    ],
    ids=["many-lines", "one-long-line", "just-over"],
)
def test_a_part_with_too_much_header_is_a_400(client: FlaskClient, astronaut_jpeg_bytes: bytes, extra: bytes) -> None:
    """Before: parsed (1.6 MB of lines: about 0.4 s) and answered 200."""
    started = time.perf_counter()
    reply = client.post("/api/analyze", data=_form(astronaut_jpeg_bytes, extra), content_type=FORM)
    assert reply.status_code == 400, reply.get_json()
    assert "KiB of headers" in reply.get_json()["error"]["message"]
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    "opening",
    [b"x--B\r\n", b"--B\r\n\r\n"],
    ids=["delimiter-mid-line", "blank-line-after-delimiter"],
)
def test_parts_found_as_werkzeug_finds_them_are_bounded(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, opening: bytes
) -> None:
    """Werkzeug takes a first delimiter that does not begin a line, and reads a blank line straight
    after a delimiter as the start of the headers, not their end. Before: both hid 300,000 header
    lines from the check, and Werkzeug parsed them (200)."""
    body = (
        opening + b"X-J: a\r\n" * 300_000 + b'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + astronaut_jpeg_bytes + b"\r\n--B--\r\n"
    )
    reply = client.post("/api/analyze", data=body, content_type=FORM)
    assert reply.status_code == 400, reply.get_json()
    assert "KiB of headers" in reply.get_json()["error"]["message"]


def test_headers_with_bare_lf_are_bounded_too(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    body = _form(astronaut_jpeg_bytes, b"X-J: a\n" * 50_000, break_=b"\n")
    reply = client.post("/api/analyze", data=body, content_type=FORM)
    assert reply.status_code == 400 and "KiB of headers" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "extra",
    [b"", b"X-J: a\r\n" * 100, b"X-Junk: " + b"a" * (MAX_PART_HEADER_BYTES - 200) + b"\r\n"],
    ids=["none", "some", "near"],
)
def test_ordinary_parts_still_reach_the_picture(client: FlaskClient, astronaut_jpeg_bytes: bytes, extra: bytes) -> None:
    reply = client.post("/api/analyze", data=_form(astronaut_jpeg_bytes, extra), content_type=FORM)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["faces"]


def test_header_like_bytes_inside_the_picture_do_not_count(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """Only a delimiter at the start of a line opens a part: the picture's own bytes are data."""
    picture = astronaut_jpeg_bytes + b"--B" + b"a" * 100_000  # after the JPEG's end: ignored by the decoder
    reply = client.post("/api/analyze", data=_form(picture), content_type=FORM)
    assert reply.status_code == 200


def test_four_such_forms_at_once_leave_healthz_answered(app: Flask, astronaut_jpeg_bytes: bytes) -> None:
    """Before: 1.2 million lines each, four at once: /healthz waited 11 s."""
    body = _form(astronaut_jpeg_bytes, b"X-J: a\r\n" * 1_000_000)
    head = f"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\nContent-Length: {len(body)}\r\n"
    request = head.encode() + b"Connection: close\r\n\r\n" + body
    statuses: list[bytes] = []
    with serving_raw(app, None) as target:

        def upload() -> None:
            with target.connect(30.0) as sock:
                sock.sendall(request)
                statuses.append(sock.recv(64).split(b"\r\n")[0])

        uploads = [threading.Thread(target=upload) for _ in range(4)]
        for thread in uploads:
            thread.start()
        time.sleep(0.3)  # the bodies are in: the request threads are at work on them
        started = time.perf_counter()
        with target.connect(10.0) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
        waited = time.perf_counter() - started
        for thread in uploads:
            thread.join(30.0)
    assert statuses == [b"HTTP/1.1 400 BAD REQUEST"] * 4
    assert waited < 2.0
