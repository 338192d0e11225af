"""A PNG or GIF built to be slow to read gets a quick 422 naming what is wrong, before Pillow reads its header.

The probe's 9.6 MB PNG of 800,000 empty chunks held a request thread for 16–50 s (Pillow read its
header twice: for the large-picture gate, then to decode); a GIF of 1.9 million comments for 16 s.
"""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from flask.testing import FlaskClient

from crafted_images import chunk
from crafted_images import gif as crafted_gif
from crafted_images import png as crafted_png


def png(before: bytes = b"") -> bytes:
    return crafted_png(before=before)


def gif(frames: int = 1, before: bytes = b"") -> bytes:
    return crafted_gif(frames, before=before, side=48)


@pytest.fixture
def headers_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the uploads whose header the large-picture gate read (with Pillow)."""
    read: list[int] = []

    def declared_pixels(data: bytes, formats: tuple[str, ...] | None = None) -> int:
        read.append(len(data))
        return 0

    monkeypatch.setattr("moodtape.web.uploads.declared_pixels", declared_pixels)
    return read


@pytest.mark.parametrize(
    ("costly", "says"),
    [
        (png(chunk(b"zzZz") * 100_000), "this PNG has over 1,000 chunks besides its pixels"),  # 1.2 MB
        (png(b"".join(chunk(b"tEXt", b"k%d\0v" % i) for i in range(5_000))), "over 1,000 chunks"),
        (png(chunk(b"eXIf", b"II*\0" + b"\0" * 70_000)), "over 64 KB of EXIF data"),
        (gif(before=b"!\xfe\x01x\x00" * 200_000), "this GIF has over 1,000 extension blocks"),  # 1 MB
        (gif(before=b"!\xff\x0bXMP DataXMP" + b"\x01x" * 30_000 + b"\0"), "over 20,000 blocks"),
    ],
    ids=["empty-chunks", "text-chunks", "exif", "gif-comments", "gif-sub-blocks"],
)
def test_a_costly_png_or_gif_is_a_quick_422_before_its_header_is_read(
    client: FlaskClient, headers_read: list[int], costly: bytes, says: str
) -> None:
    started = time.perf_counter()
    reply = client.post("/api/analyze", data=costly, content_type="application/octet-stream")
    assert time.perf_counter() - started < 2  # milliseconds, in fact; seconds to minutes before
    assert reply.status_code == 422
    error = reply.get_json()["error"]
    assert error["code"] == "bad_image" and says in error["message"]
    assert "save it again" in error["message"]
    assert headers_read == []


def test_real_pngs_and_gifs_are_analysed_and_costly_ones_in_a_form_refused(
    client: FlaskClient, headers_read: list[int]
) -> None:
    """A PNG of many pixel chunks (libpng writes 8 KB ones) and an animated GIF of many frames pass;
    the same with 1,000 more chunks or comments, sent in a form, do not."""
    noise = np.random.default_rng(0).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    many_chunks = cv2.imencode(".png", noise)[1].tobytes()
    assert many_chunks.count(b"IDAT") > 200
    animated = gif(1_200)
    assert animated.count(b"\x21\xf9") >= 1_200  # a graphic control extension a frame
    for picture in (many_chunks, animated, png(chunk(b"tEXt", b"Comment\0hello") * 10)):
        reply = client.post("/api/analyze", data=picture, content_type="application/octet-stream")
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["faces"] == []
    assert headers_read == [len(many_chunks), len(animated), len(png(chunk(b"tEXt", b"Comment\0hello") * 10))]
    more_chunks = many_chunks[:33] + chunk(b"tEXt", b"k\0v") * 1_000 + many_chunks[33:]  # after IHDR
    more_comments = animated.replace(b"\x21\xf9", b"!\xfe\x00" * 1_000 + b"\x21\xf9", 1)
    for costly, says in ((more_chunks, "over 1,000 chunks"), (more_comments, "over 1,000 extension blocks")):
        reply = client.post("/api/analyze", data={"image": (io.BytesIO(costly), "picture")})
        assert reply.status_code == 422 and says in reply.get_json()["error"]["message"]
    assert len(headers_read) == 3
