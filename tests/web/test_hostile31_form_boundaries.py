"""Forms whose boundary makes finding their parts costly: a long boundary, a long preamble, a part
of dashes under a boundary of dashes (session 31, hostile clients).

Werkzeug's pattern for a form's first boundary need not begin a line, so it is tried at every byte
before the first part, each try comparing up to the boundary's length; later boundaries were
looked for at every ``--boundary`` in the body, one Python call each. On the real server 10 MB of
dashes under a 70-character boundary held a request thread 8.3 s (``/healthz`` waited 3.2 s), and 1
MB under a 2,000-character one 15 s. These tests count the pattern's tries and the bytes they go
over, never the time.
"""

from __future__ import annotations

import random
import re
import sys
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.sansio.multipart import MultipartDecoder

from moodtape.web import picture_parts, uploads

FORM = "multipart/form-data; boundary="


def _form(picture: bytes, boundary: str, preamble: bytes = b"") -> bytes:
    """``picture`` in a form's file field ``image``, after ``preamble``."""
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="me.jpg"\r\n\r\n'
    return preamble + head.encode() + picture + f"\r\n--{boundary}--\r\n".encode()


class _Counted:
    """A compiled pattern that counts its calls and the bytes each one may go over."""

    def __init__(self, pattern: re.Pattern[bytes], calls: list[int]) -> None:
        self.pattern, self.calls = pattern, calls

    def search(self, data: bytes, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[bytes] | None:
        self.calls.append(min(endpos, len(data)) - pos)
        return self.pattern.search(data, pos, endpos)

    def match(self, data: bytes, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[bytes] | None:
        self.calls.append(min(endpos, len(data)) - pos)
        return self.pattern.match(data, pos, endpos)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """The calls of the part check's ``preamble_re`` and ``boundary_re`` (the bytes each may go over),
    and under ``"parser"`` one entry for each decoder the form's parser makes (it parses the form)."""
    calls: dict[str, list[int]] = {"preamble": [], "boundary": [], "parser": []}

    class Counting(MultipartDecoder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.preamble_re = _Counted(self.preamble_re, calls["preamble"])  # type: ignore[assignment]
            self.boundary_re = _Counted(self.boundary_re, calls["boundary"])  # type: ignore[assignment]

    class Parsing(MultipartDecoder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            calls["parser"].append(1)

    monkeypatch.setattr(uploads, "MultipartDecoder", Counting)
    monkeypatch.setattr(picture_parts, "MultipartDecoder", Parsing)
    return calls


def test_a_boundary_over_200_characters_is_refused_by_name(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """A boundary as long as the headers allow (64 KiB) was read."""
    boundary = "b" * 201
    reply = client.post("/api/analyze", data=_form(astronaut_jpeg_bytes, boundary), content_type=FORM + boundary)
    assert reply.status_code == 400, reply.get_json()
    assert "boundary of over 200 characters" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("length", [70, 72, 200])
def test_a_boundary_of_rfc_length_or_a_little_over_is_read(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, length: int
) -> None:
    """RFC 2046 allows 70; Werkzeug's own test client writes up to 72 (a 400 for 0.3 % of its forms
    when 70 was the limit)."""
    boundary = "-" * (length - 1) + "b"
    reply = client.post("/api/analyze", data=_form(astronaut_jpeg_bytes, boundary), content_type=FORM + boundary)
    assert reply.status_code == 200, reply.get_json()
    assert len(reply.get_json()["faces"]) == 1


def test_a_body_of_dashes_under_a_boundary_of_dashes_is_searched_a_window_long(
    client: FlaskClient, counted: dict[str, list[int]]
) -> None:
    """No delimiter in it: the first one was searched for over the whole body, tried at each byte."""
    boundary = "-" * 69 + "a"
    body = b"-" * (64 * 1024)
    reply = client.post("/api/analyze", data=body, content_type=FORM + boundary)
    assert reply.status_code == 400, reply.get_json()
    assert "first boundary line does not end within its first 1024 bytes" in reply.get_json()["error"]["message"]
    assert counted["preamble"] and max(counted["preamble"]) <= uploads.MAX_PREAMBLE_BYTES
    assert counted["parser"] == []  # refused before the form is parsed


def test_a_form_may_begin_with_a_short_preamble(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """RFC 2046's preamble, a line or two of it, is read as before."""
    body = _form(astronaut_jpeg_bytes, "b0undary", preamble=b"This is a form.\r\n\r\n")
    reply = client.post("/api/analyze", data=body, content_type=FORM + "b0undary")
    assert reply.status_code == 200, reply.get_json()


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 400)])
def test_the_first_boundary_line_must_end_within_the_first_kibibyte_its_line_break_included(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, extra: int, status: int
) -> None:
    """Its CR LF ends at byte 1024, or its CR is byte 1024 and its LF byte 1025: that line was let
    in, its CR read as the line break where the window cut it."""
    first_line = b"--b0undary\r\n"
    preamble = b"x" * (uploads.MAX_PREAMBLE_BYTES - len(first_line) - 2 + extra) + b"\r\n"
    body = _form(astronaut_jpeg_bytes, "b0undary", preamble=preamble)
    assert body.index(first_line) + len(first_line) == uploads.MAX_PREAMBLE_BYTES + extra
    reply = client.post("/api/analyze", data=body, content_type=FORM + "b0undary")
    assert reply.status_code == status, reply.get_json()


def test_a_preamble_over_a_kibibyte_is_refused_by_name(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    body = _form(astronaut_jpeg_bytes, "b0undary", preamble=b"x" * 2000 + b"\r\n")
    reply = client.post("/api/analyze", data=body, content_type=FORM + "b0undary")
    assert reply.status_code == 400, reply.get_json()
    assert "begin the body with --<boundary>" in reply.get_json()["error"]["message"]


def test_a_part_of_dashes_under_a_boundary_of_dashes_costs_one_search(
    client: FlaskClient, counted: dict[str, list[int]]
) -> None:
    """``--boundary`` stood at every byte of the part, and the pattern was tried at each, in Python:
    10 MB of dashes held a request thread 9 s. Only a CR or LF before ``--boundary`` can begin a
    delimiter, and the part holds none but its last."""
    boundary = "-" * 60
    reply = client.post(
        "/api/analyze", data=_form(b"\xff\xd8\xff" + b"-" * (256 * 1024), boundary), content_type=FORM + boundary
    )
    assert reply.status_code == 422, reply.get_json()  # read as a JPEG, a damaged one
    assert len(counted["boundary"]) <= 2, len(counted["boundary"])


def test_a_picture_after_a_part_of_dashes_is_found(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """The delimiter after a part of dashes, and the picture's part after it, are still seen."""
    boundary = "-" * 20
    dashes = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n'.encode() + b"x" + b"-" * 1000 + b"\r\n"
    )
    reply = client.post(
        "/api/analyze", data=dashes + _form(astronaut_jpeg_bytes, boundary), content_type=FORM + boundary
    )
    assert reply.status_code == 200, reply.get_json()
    assert len(reply.get_json()["faces"]) == 1


def _empty_part(name: str, line_break: str) -> bytes:
    """A form part with no value: its headers, the blank line, and the next delimiter straight after."""
    return f'--xyz{line_break}Content-Disposition: form-data; name="{name}"{line_break}{line_break}'.encode()


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r"])
def test_the_part_after_an_empty_one_has_its_headers_checked(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, line_break: str
) -> None:
    """The delimiter straight after an empty part's blank line begins with that line's second line
    break, where Werkzeug looks for it: looked for after it, it was missed, and the next part's
    8.8 MB of headers were parsed (1.4 s, then a 422) where the part alone was a 400 at once."""
    headers = f"X-H: v{line_break}".encode() * (uploads.MAX_PART_HEADER_BYTES // 4)
    picture_part = (
        f'--xyz{line_break}Content-Disposition: form-data; name="image"; filename="me.jpg"{line_break}'.encode()
        + headers
        + line_break.encode()
        + astronaut_jpeg_bytes
        + f"{line_break}--xyz--{line_break}".encode()
    )
    body = _empty_part("note", line_break) + picture_part
    reply = client.post("/api/analyze", data=body, content_type=FORM + "xyz")
    assert reply.status_code == 400, reply.get_json()
    assert "KiB of headers" in reply.get_json()["error"]["message"]


def test_seventeen_empty_fields_are_too_many_fields(client: FlaskClient) -> None:
    """Each part after an empty one was passed over: 17 empty fields were counted as 9, and the form
    of 1 KB was a 413 "too large"."""
    body = b"".join(_empty_part(f"f{each}", "\r\n") for each in range(uploads.MAX_FORM_PARTS + 1)) + b"--xyz--\r\n"
    reply = client.post("/api/analyze", data=body, content_type=FORM + "xyz")
    assert reply.status_code == 400, reply.get_json()
    assert "too many fields" in reply.get_json()["error"]["message"]


def test_a_picture_after_empty_parts_is_read(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    body = _empty_part("note", "\r\n") + _empty_part("tag", "\r\n") + _form(astronaut_jpeg_bytes, "xyz")
    reply = client.post("/api/analyze", data=body, content_type=FORM + "xyz")
    assert reply.status_code == 200, reply.get_json()
    assert len(reply.get_json()["faces"]) == 1


def test_a_long_part_is_searched_for_its_delimiter_a_window_at_a_time(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, counted: dict[str, list[int]]
) -> None:
    """One search went over the rest of the body, in C: 9 MB of ``\\n--B``, 1,000 spaces and an
    ``x`` held the interpreter 0.37 s (``/healthz`` waited that long). Each search now goes over a
    window, and other threads run between two of them."""
    lines = (b"\n--xyz" + b" " * 1000 + b"x") * (3 * uploads.DELIMITER_WINDOW_BYTES // 1000)
    note = b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\n' + lines + b"\r\n"
    reply = client.post("/api/analyze", data=note + _form(astronaut_jpeg_bytes, "xyz"), content_type=FORM + "xyz")
    assert reply.status_code == 200, reply.get_json()
    assert len(counted["boundary"]) >= 3
    assert max(counted["boundary"]) <= uploads.DELIMITER_WINDOW_BYTES


@pytest.mark.parametrize("window", [1, 2, 3, 5, 8, 13])
def test_the_delimiter_found_a_window_at_a_time_is_the_one_werkzeug_finds(
    monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """Whatever the window's end cuts: a CR LF, a line that runs on in spaces, a closing ``--``."""
    monkeypatch.setattr(uploads, "DELIMITER_WINDOW_BYTES", window)
    shuffled = random.Random(window)
    for boundary in (b"B", b"--", b"-a-"):
        decoder = MultipartDecoder(boundary)
        pieces = [b"\r", b"\n", b"\r\n", b"--" + boundary, b"--" + boundary + b"--", b"--", b" ", b"  \t", b"x"]
        for _ in range(500):
            data = b"".join(shuffled.choice(pieces) for _ in range(shuffled.randint(0, 24)))
            start = shuffled.randint(0, len(data))
            wanted = decoder.boundary_re.search(data, start)
            found = uploads._next_delimiter(decoder, data, start)
            assert (found and found.span()) == (wanted and wanted.span()), (data, start)
