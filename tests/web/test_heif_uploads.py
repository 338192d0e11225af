"""HEIC uploads (session 20): read as a JPEG is, refused on a huge header with a 413, a damaged one
with a 422, and without pillow-heif a 415 that names the fix. AVIF uploads get a 415 saying why:
libavif decodes the size inside the file, not the size it declares."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient

from heif_pictures import (
    encode,
    hide_pillow_heif,
    needs_avif,
    needs_pillow_heif,
    with_declared_size,
)
from moodtape.vision.heif_structure import heif_kind
from moodtape.web import uploads

FORMATS = [pytest.param("HEIF", marks=needs_pillow_heif, id="heic")]


pytestmark = pytest.mark.usefixtures("heic_read_by_moodtape_alone")


def _error(reply: Any) -> tuple[int, str]:
    return reply.status_code, reply.get_json()["error"]["code"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_upload_finds_the_face_and_emotion_the_jpeg_gives(
    client: FlaskClient, fmt: str, astronaut_rgb: npt.NDArray[np.uint8], astronaut_jpeg_bytes: bytes
) -> None:
    """It was refused with a 415 ('send it as JPEG or PNG')."""
    photo = encode(astronaut_rgb, fmt)
    jpeg = client.post("/api/analyze", data=astronaut_jpeg_bytes, content_type="image/jpeg").get_json()
    reply = client.post(
        "/api/analyze", data={"image": (io.BytesIO(photo), "IMG_0001.HEIC")}, content_type="multipart/form-data"
    )
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["image"] == {"width": 512, "height": 512}
    assert [face["emotion"] for face in body["faces"]] == [face["emotion"] for face in jpeg["faces"]] == ["happy"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_huge_declared_size_is_a_413(client: FlaskClient, fmt: str, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    bomb = with_declared_size(encode(astronaut_rgb[:64, :64], fmt), 60_000, 60_000)
    reply = client.post("/api/analyze", data=bomb, content_type="application/octet-stream")
    assert _error(reply) == (413, "image_too_large")
    assert "60000×60000" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_truncated_upload_is_a_422_not_a_500(
    client: FlaskClient, fmt: str, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    whole = encode(astronaut_rgb, fmt)
    for cut in (len(whole) // 2, 300):
        reply = client.post("/api/analyze", data=whole[:cut], content_type="application/octet-stream")
        assert reply.status_code == 422
        assert reply.get_json()["error"]["message"] == "the picture is damaged and cannot be read"


def _accept(client: FlaskClient) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'id="photo-input"[^>]*accept="([^"]*)"', page)
    assert found, "the page has no photo input with an accept list"
    return found[1].split(",")


@needs_pillow_heif
def test_the_page_offers_heic_not_avif(client: FlaskClient) -> None:
    accept = set(_accept(client))
    assert {"image/jpeg", "image/heic", ".heic"} <= accept and "image/avif" not in accept


def test_without_pillow_heif_the_page_does_not_offer_heic(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offering HEIC there would stop a phone's browser from sending the photo as JPEG, a 415 then."""
    hide_pillow_heif(monkeypatch)
    accept = _accept(client)
    assert "image/jpeg" in accept and not any("heic" in kind or "heif" in kind for kind in accept)


@needs_avif
def test_an_avif_upload_is_refused_saying_why(client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """A 1.2 KB AVIF declaring 100 × 100 decoded 8,000 × 8,000 (138 MB) past every limit (review)."""
    lying = with_declared_size(encode(astronaut_rgb[:256, :256], "AVIF"), 16, 16)
    for photo in (encode(astronaut_rgb, "AVIF"), lying):
        reply = client.post("/api/analyze", data=photo, content_type="image/avif")
        assert _error(reply) == (415, "unsupported_image")
        assert "AVIF" in reply.get_json()["error"]["message"] and "JPEG or PNG" in reply.get_json()["error"]["message"]


@needs_pillow_heif
def test_a_heic_declaring_less_than_it_holds_is_a_422(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    lying = with_declared_size(encode(astronaut_rgb[:256, :256], "HEIF"), 16, 16)
    reply = client.post("/api/analyze", data=lying, content_type="image/heic")
    assert (
        reply.status_code == 422 and reply.get_json()["error"]["message"] == "the picture is damaged and cannot be read"
    )


@needs_pillow_heif
def test_a_thousand_nested_boxes_are_a_clear_answer_not_a_500(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8]
) -> None:
    """Before: the box walker recursed into each, past Python's recursion limit: a 500 and a traceback."""
    photo = encode(astronaut_rgb[:64, :64], "HEIF")
    ftyp = photo[: int.from_bytes(photo[:4], "big")]
    nested = b""
    for _ in range(1200):
        nested = (8 + len(nested)).to_bytes(4, "big") + b"iprp" + nested
    reply = client.post("/api/analyze", data=ftyp + nested, content_type="image/heic")
    assert reply.status_code == 422 and reply.get_json()["error"]["code"]


def test_an_avif_brand_late_in_a_long_ftyp_box_is_still_an_avif() -> None:
    """libavif reads the whole ftyp box; the sniff read 256 bytes of it, and an AVIF whose `avif`
    brand came after 70 others passed for a HEIC (review)."""
    brands = b"mif1" * 70 + b"avif"
    ftyp = (16 + len(brands)).to_bytes(4, "big") + b"ftypmif1" + bytes(4) + brands
    assert heif_kind(ftyp + bytes(64)) == "avif"


@needs_avif
def test_an_upload_never_reaches_libavif_even_when_taken_for_another_format(
    client: FlaskClient, astronaut_rgb: npt.NDArray[np.uint8], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the sniff decides, the web's decoders exclude AVIF's: an AVIF passed off as a HEIC was
    decoded by libavif once Pillow's AVIF plugin came before pillow-heif's in its list (review)."""
    monkeypatch.setattr(uploads, "heif_kind", lambda data: "heic")  # a sniffing gap, as the review found one
    client.post("/api/analyze", data=b"RIFF\x00\x00\x00\x00WEBP", content_type="image/webp")  # Image.init()
    photo = encode(astronaut_rgb, "AVIF")
    reply = client.post("/api/analyze", data=photo, content_type="image/heic")
    assert reply.status_code in (415, 422), reply.get_json()  # never read: no face, no 200
