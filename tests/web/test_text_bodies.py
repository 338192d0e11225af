"""A picture sent as text (JSON with base64, a data: URL, bare base64), as clients of other APIs and
pages posting a canvas's ``toDataURL()`` do: read like the picture's own bytes. Text that carries no
picture gets a 415 that says what to send."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient
from PIL import Image

from crafted_images import SIGNATURE, chunk
from heif_pictures import encode, needs_avif, needs_pillow_heif
from moodtape.web.uploads import TEXT_NOT_A_PICTURE


@pytest.fixture
def encoded(astronaut_jpeg_bytes: bytes) -> str:
    return base64.b64encode(astronaut_jpeg_bytes).decode("ascii")


def _emotions(reply: object) -> list[str]:
    body = reply.get_json()  # type: ignore[attr-defined]
    assert reply.status_code == 200, body  # type: ignore[attr-defined]
    return [face["emotion"] for face in body["faces"]]


@pytest.mark.parametrize(
    ("shape", "content_type"),
    [
        ("json", "application/json"),
        ("json_data_url", "application/json"),
        ("json_photo_field", "application/json"),
        ("json_string", "application/json"),
        ("data_url", "text/plain"),
        ("data_url", "application/octet-stream"),
        ("bare", "application/octet-stream"),
        ("bare", None),
        ("mime_lines", "text/plain"),
        ("url_safe_unpadded", "text/plain"),
    ],
)
def test_a_picture_as_text_is_read(client: FlaskClient, encoded: str, shape: str, content_type: str | None) -> None:
    data_url = f"data:image/jpeg;base64,{encoded}"
    body = {
        "json": json.dumps({"image": encoded}),
        "json_data_url": json.dumps({"image": data_url, "note": "from a canvas"}),
        "json_photo_field": json.dumps({"photo": encoded}),
        "json_string": json.dumps(data_url),
        "data_url": data_url,
        "bare": encoded,
        "mime_lines": "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
        "url_safe_unpadded": encoded.replace("+", "-").replace("/", "_").rstrip("="),
    }[shape]
    assert _emotions(client.post("/api/analyze", data=body, content_type=content_type)) == ["happy"]


def test_a_data_url_in_a_form_is_read(client: FlaskClient, encoded: str) -> None:
    data_url = f"data:image/jpeg;base64,{encoded}"
    as_file = {"image": (io.BytesIO(data_url.encode()), "photo.txt")}
    assert _emotions(client.post("/api/analyze", data=as_file, content_type="multipart/form-data")) == ["happy"]
    as_text = {"image": data_url}  # FormData.append("image", canvas.toDataURL())
    assert _emotions(client.post("/api/analyze", data=as_text, content_type="multipart/form-data")) == ["happy"]
    url_encoded = client.post("/api/analyze", data={"image": data_url})  # application/x-www-form-urlencoded
    assert _emotions(url_encoded) == ["happy"]


def test_curl_data_binary_sends_the_picture_as_a_form_type(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """``curl --data-binary @me.jpg URL`` labels the picture's own bytes as a URL-encoded form."""
    reply = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="application/x-www-form-urlencoded")
    assert _emotions(reply) == ["happy"]


def test_a_url_encoded_form_without_a_picture_is_told_what_to_send(client: FlaskClient) -> None:
    reply = client.post("/api/analyze", data={"photo_note": "none"})
    assert reply.status_code == 400 and "field 'image'" in reply.get_json()["error"]["message"]


def test_a_stream_frame_as_json_is_read(client: FlaskClient, encoded: str) -> None:
    reply = client.post("/api/analyze?stream=s1", json={"image": f"data:image/jpeg;base64,{encoded}"})
    assert _emotions(reply) == ["happy"] and reply.get_json()["stream"] == "s1"


@pytest.mark.parametrize(
    "body",
    [json.dumps({"note": "no picture"}), json.dumps({"image": "not base64 at all!"}), "data:image/jpeg;base64,@@@@"],
    ids=["json-without-picture", "json-not-base64", "broken-data-url"],
)
def test_text_without_a_picture_is_told_what_to_send(client: FlaskClient, body: str) -> None:
    reply = client.post("/api/analyze", data=body, content_type="application/json")
    assert reply.status_code == 415
    assert reply.get_json()["error"] == {"code": "unsupported_image", "message": TEXT_NOT_A_PICTURE}


def test_base64_of_another_file_names_the_formats(client: FlaskClient) -> None:
    document = base64.b64encode(b"%PDF-1.7 a document").decode()
    reply = client.post("/api/analyze", json={"image": document})
    assert reply.status_code == 415
    assert reply.get_json()["error"]["message"].startswith("the text holds base64 of a file that is not a JPEG")


def test_broken_json_is_a_400(client: FlaskClient) -> None:
    reply = client.post("/api/analyze", data='{"image": "abc', content_type="application/json")
    assert reply.status_code == 400 and "not valid JSON" in reply.get_json()["error"]["message"]


def test_a_large_picture_as_text_meets_the_same_limit(client: FlaskClient) -> None:
    """A PNG that declares 100,000 × 100,000 pixels: refused by its header, as when sent as bytes."""
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
    png = SIGNATURE + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND")
    as_bytes = client.post("/api/analyze", data=png, content_type="image/png")
    as_text = client.post("/api/analyze", json={"image": base64.b64encode(png).decode()})
    assert as_bytes.status_code == 413
    assert (as_text.status_code, as_text.get_json()) == (413, as_bytes.get_json())


def test_other_bytes_keep_the_formats_message(client: FlaskClient) -> None:
    reply = client.post("/api/analyze", data=b"GIF87 is not quite a GIF", content_type="application/octet-stream")
    assert reply.status_code == 415
    assert reply.get_json()["error"]["message"].startswith("that file is not a JPEG, PNG, WebP, GIF")


@needs_avif
def test_an_avif_as_base64_is_refused_as_an_avif_upload_is(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    encoded = base64.b64encode(encode(astronaut_rgb[:256, :256], "AVIF")).decode()
    for reply in (
        client.post("/api/analyze", json={"image": encoded}),
        client.post("/api/analyze", data={"image": f"data:image/avif;base64,{encoded}"}),
    ):
        assert reply.status_code == 415 and "AVIF" in reply.get_json()["error"]["message"]


@needs_pillow_heif
def test_a_heic_as_base64_is_read(client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    encoded = base64.b64encode(encode(astronaut_rgb, "HEIF")).decode()
    assert _emotions(client.post("/api/analyze", json={"image": f"data:image/heic;base64,{encoded}"})) == ["happy"]


@pytest.mark.parametrize(
    "body",
    [b"{" * 1_000_000, b'{"a": [' + b'"",' * 100 + b'""]}', b'{"image": "QUJD", "n": [' + b"0," * 5000 + b"0]}"],
    ids=["brackets", "many-strings", "much-structure"],
)
def test_json_that_is_no_small_object_of_strings_is_refused_before_parsing(client: FlaskClient, body: bytes) -> None:
    reply = client.post("/api/analyze", data=body, content_type="application/json")
    assert reply.status_code == 400 and "object of at most" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_bare_base64_of_each_format_is_read_whatever_its_type(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8], fmt: str
) -> None:
    picture = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(picture, fmt)
    encoded = base64.b64encode(picture.getvalue())
    assert _emotions(client.post("/api/analyze", data=encoded, content_type="application/octet-stream")) == ["happy"]


def test_an_unescaped_plus_in_a_url_encoded_form_is_read(client: FlaskClient, encoded: str) -> None:
    """Base64's "+" arrives as a space when a client forgets to escape it (curl -d "image=...")."""
    assert "+" in encoded
    body = f"image=data:image/jpeg;base64,{encoded}"
    reply = client.post("/api/analyze", data=body, content_type="application/x-www-form-urlencoded")
    assert _emotions(reply) == ["happy"]


def test_base64_of_another_file_in_a_form_names_the_formats(client: FlaskClient) -> None:
    document = base64.b64encode(b"%PDF-1.7 a document").decode()
    reply = client.post("/api/analyze", data={"image": f"data:application/pdf;base64,{document}"})
    assert reply.status_code == 415
    assert reply.get_json()["error"]["message"].startswith("the text holds base64 of a file that is not a JPEG")


def test_a_form_of_needless_escapes_is_refused(client: FlaskClient) -> None:
    """10 MB of "%41" took 800 MB and seconds in a general form parser (review)."""
    body = b"image=" + b"%41" * 1_000_000
    reply = client.post("/api/analyze", data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 400 and "escapes" in reply.get_json()["error"]["message"]


def test_a_binary_file_of_another_format_sent_as_a_form_type_is_named_as_no_picture(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    """curl --data-binary @photo.bmp: a BMP is not taken on the web, and it is no form either."""
    bmp = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(bmp, "BMP")
    reply = client.post("/api/analyze", data=bmp.getvalue(), content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 415 and reply.get_json()["error"]["message"].startswith("that file is not a JPEG")


@pytest.mark.parametrize(
    "fields",
    [["data=hello", "image={}"], ["file=me.jpg", "image={}"], ["image=", "photo={}"], ["name=Jos\u00e9", "image={}"]],
    ids=["data-field-first", "file-name-first", "empty-image-then-photo", "raw-utf8-elsewhere"],
)
def test_the_picture_field_of_a_form_is_found_among_others(
    client: FlaskClient, encoded: str, fields: list[str]
) -> None:
    escaped = "data%3Aimage%2Fjpeg%3Bbase64%2C" + encoded.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    body = "&".join(fields).format(escaped).encode("utf-8")
    reply = client.post("/api/analyze", data=body, content_type="application/x-www-form-urlencoded")
    assert _emotions(reply) == ["happy"]
