"""A picture sent as text (JSON with base64, a data: URL, bare base64), as clients of other APIs do:
a 415 that says what to send instead, not "not a JPEG, PNG… picture" about a file the client never sent."""

from __future__ import annotations

import base64
import io
import json

import pytest
from flask.testing import FlaskClient

from moodtape.web.uploads import TEXT_NOT_A_PICTURE


@pytest.fixture
def encoded(astronaut_jpeg_bytes: bytes) -> str:
    return base64.b64encode(astronaut_jpeg_bytes).decode("ascii")


@pytest.mark.parametrize(
    ("shape", "content_type"),
    [
        ("json", "application/json"),
        ("data_url", "text/plain"),
        ("data_url", "application/octet-stream"),
        ("bare", "application/octet-stream"),
        ("bare", None),
    ],
)
def test_a_picture_as_text_is_told_what_to_send(
    client: FlaskClient, encoded: str, shape: str, content_type: str | None
) -> None:
    body = {
        "json": json.dumps({"image": encoded}),
        "data_url": f"data:image/jpeg;base64,{encoded}",
        "bare": encoded,
    }[shape]
    reply = client.post("/api/analyze", data=body, content_type=content_type)
    assert reply.status_code == 415
    assert reply.get_json()["error"] == {"code": "unsupported_image", "message": TEXT_NOT_A_PICTURE}


def test_a_data_url_in_the_form_field_is_told_too(client: FlaskClient, encoded: str) -> None:
    form = {"image": (io.BytesIO(f"data:image/jpeg;base64,{encoded}".encode()), "photo.txt")}
    reply = client.post("/api/analyze", data=form, content_type="multipart/form-data")
    assert reply.status_code == 415 and reply.get_json()["error"]["message"] == TEXT_NOT_A_PICTURE


def test_other_bytes_keep_the_formats_message(client: FlaskClient) -> None:
    reply = client.post("/api/analyze", data=b"GIF87 is not quite a GIF", content_type="application/octet-stream")
    assert reply.status_code == 415
    assert reply.get_json()["error"]["message"].startswith("that file is not a JPEG, PNG, WebP, GIF")
