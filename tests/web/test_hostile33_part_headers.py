"""A form part's headers that are not UTF-8 are read as Latin-1 (web/picture_parts.py, session 33).

Before: ``curl -F 'image=@café.jpg'`` on a system whose file names are Latin-1 sends the name's
bytes raw (``caf\\xe9.jpg``); Werkzeug's decoder raised ``UnicodeDecodeError`` on them, the form was
read as empty, and the picture was refused with a 400 "the form could not be read: it is cut short
or its boundary does not match", true of nothing in it.
"""

from __future__ import annotations

import io

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from PIL import Image

from moodtape.web.uploads import InMemoryRequest

BOUNDARY = b"hostile33"


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 50)).save(out, "JPEG")
    return out.getvalue()


def _form(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body of ``(part headers, data)`` parts."""
    body = b"".join(b"--" + BOUNDARY + b"\r\n" + headers + b"\r\n\r\n" + data + b"\r\n" for headers, data in parts)
    return body + b"--" + BOUNDARY + b"--\r\n"


def _analyze(client: FlaskClient, csrf: dict[str, str], body: bytes) -> tuple[int, dict[str, object]]:
    answer = client.post(
        "/api/analyze",
        data=body,
        content_type="multipart/form-data; boundary=" + BOUNDARY.decode(),
        headers=csrf,
    )
    return answer.status_code, answer.get_json()


@pytest.mark.parametrize(
    "headers",
    [
        b'Content-Disposition: form-data; name="image"; filename="caf\xe9.jpg"\r\nContent-Type: image/jpeg',
        b'Content-Disposition: form-data; name="image"; filename="\xff\xfe\x80.jpg"',
        b'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nX-Note: \xe9t\xe9',
    ],
    ids=["latin-1-name", "bytes-in-no-charset", "latin-1-other-header"],
)
def test_a_picture_whose_part_headers_are_not_utf8_is_read(
    client: FlaskClient, csrf: dict[str, str], headers: bytes
) -> None:
    status, shown = _analyze(client, csrf, _form((headers, _picture())))
    assert status == 200, shown
    assert shown["image"] == {"width": 64, "height": 64}


def test_a_field_named_in_latin1_beside_the_picture_leaves_it_read(client: FlaskClient, csrf: dict[str, str]) -> None:
    image = (b'Content-Disposition: form-data; name="image"; filename="a.jpg"', _picture())
    status, shown = _analyze(client, csrf, _form((b'Content-Disposition: form-data; name="n\xe9"', b"x"), image))
    assert status == 200, shown


@pytest.mark.parametrize(
    ("sent", "read"),
    [("café.jpg".encode(), "café.jpg"), (b"caf\xe9.jpg", "café.jpg"), (b"plain.jpg", "plain.jpg")],
    ids=["utf-8", "latin-1", "ascii"],
)
def test_a_file_name_reads_as_utf8_else_as_latin1(sent: bytes, read: str) -> None:
    """UTF-8 stays UTF-8 (``é``, not the two characters its bytes are in Latin-1); other bytes are Latin-1."""
    body = _form((b'Content-Disposition: form-data; name="image"; filename="' + sent + b'"', _picture()))
    app = Flask(__name__)
    app.request_class = InMemoryRequest
    with app.test_request_context(
        "/",
        method="POST",
        input_stream=io.BytesIO(body),
        content_type="multipart/form-data; boundary=" + BOUNDARY.decode(),
        content_length=len(body),
    ):
        assert request.files["image"].filename == read
