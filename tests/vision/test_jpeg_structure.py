"""JPEGs built to be slow to decode are refused before decoding; real photos pass untouched."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.errors import ImageError
from moodtape.vision.images import decode_image
from moodtape.vision.jpeg_structure import MAX_SCANS, MAX_SEGMENTS, jpeg_structure

#: An empty scan of one component (a DC refinement of nothing): 10 bytes, yet a pass over the image.
EMPTY_SCAN = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10"
EMPTY_COMMENT = b"\xff\xfe\x00\x02"


def jpeg(rgb: npt.NDArray[np.uint8], **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


@pytest.fixture
def astronaut_rgb(astronaut_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(astronaut_bgr[:, :, ::-1])


def test_real_photos_are_counted_and_decoded(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    baseline = jpeg(astronaut_rgb)
    progressive = jpeg(astronaut_rgb, progressive=True)
    assert jpeg_structure(baseline).scans == 1
    assert 2 <= jpeg_structure(progressive).scans <= 30
    assert jpeg_structure(progressive).segments < 50
    for data in (baseline, progressive):
        assert decode_image(data, gray=True).shape == (512, 512)


def test_bytes_inside_segments_and_scans_are_not_taken_for_markers(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """An APP segment full of 0xFF pairs (maker notes, an ICC profile) is one segment, read by its
    length; the 0xFF bytes inside the compressed data are stuffed or restart markers."""
    noisy = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    data = jpeg(noisy, progressive=True)
    payload = b"\xff\xfe\xff\xda\xff\xc4" * 10_000  # 60 KB of what looks like markers
    app = b"\xff\xe9" + (len(payload) + 2).to_bytes(2, "big") + payload
    with_app = data[:2] + app + data[2:]
    assert jpeg_structure(with_app).segments == jpeg_structure(data).segments + 1
    assert jpeg_structure(with_app).scans == jpeg_structure(data).scans
    assert decode_image(with_app, gray=True).shape == (256, 256)


def test_a_jpeg_with_thousands_of_empty_scans_is_refused_before_decoding(
    astronaut_rgb: npt.NDArray[np.uint8],
) -> None:
    data = jpeg(astronaut_rgb, progressive=True)
    assert data.endswith(b"\xff\xd9")
    costly = data[:-2] + EMPTY_SCAN * 5_000 + b"\xff\xd9"  # 50 KB more; seconds to decode
    assert jpeg_structure(costly).scans == MAX_SCANS + 1  # counting stops just past the bound
    with pytest.raises(ImageError, match=f"over {MAX_SCANS} scans") as refused:
        decode_image(costly, gray=True)
    assert refused.value.status == 422
    just_enough = data[:-2] + EMPTY_SCAN * (MAX_SCANS - jpeg_structure(data).scans) + b"\xff\xd9"
    assert decode_image(just_enough, gray=True).shape == (512, 512)


def test_a_jpeg_with_a_million_empty_comments_is_refused(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    data = jpeg(astronaut_rgb)
    costly = data[:2] + EMPTY_COMMENT * 1_000_000 + data[2:]
    with pytest.raises(ImageError, match=f"over {MAX_SEGMENTS} marker segments"):
        decode_image(costly, gray=True)


def test_a_cut_or_damaged_jpeg_is_left_to_the_decoder(astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    data = jpeg(astronaut_rgb, progressive=True)
    assert jpeg_structure(data[: len(data) // 3]).scans >= 1  # walking a cut file just stops
    assert jpeg_structure(b"\xff\xd8garbage").segments == 0
    with pytest.raises(ImageError):
        decode_image(b"\xff\xd8\xff\xe0\x00", gray=True)
