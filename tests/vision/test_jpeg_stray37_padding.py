"""A JPEG padded between its markers is refused before Pillow steps over the padding a byte at a time.

Found by a hostile-client probe (session 37): a 64-pixel JPEG padded to 9.9 MB with 0xFF fill bytes
before its tables was answered 200 after 40 s of a request thread (8.4 s of CPU), and the same with
0xFF 0x00 pairs after 11 s; 9.9 MB of zeros after an empty APP0 segment cost 2.5 s of CPU for a 422.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.errors import ImageError
from moodtape.vision.images import decode_image
from moodtape.vision.jpeg_structure import MAX_STRAY_BYTES, jpeg_structure


def jpeg(rgb: npt.NDArray[np.uint8], **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


@pytest.fixture
def small() -> bytes:
    return jpeg(np.full((64, 64, 3), 128, dtype=np.uint8))


@pytest.mark.parametrize(
    "padding",
    [b"\xff" * 2_000_000, b"\xff\x00" * 1_000_000, b"\x00" * 2_000_000],
    ids=["fill-bytes", "ff00-pairs", "zeros"],
)
def test_padding_before_the_tables_is_refused_before_decoding(small: bytes, padding: bytes) -> None:
    padded = small[:2] + padding + small[2:]
    assert jpeg_structure(padded).stray > MAX_STRAY_BYTES
    with pytest.raises(ImageError, match="bytes of padding or stray data between its markers") as refused:
        decode_image(padded, gray=True)
    assert refused.value.status == 422


def test_stray_bytes_after_an_empty_app_segment_are_refused() -> None:
    with pytest.raises(ImageError, match="padding or stray data"):
        decode_image(b"\xff\xd8\xff\xe0" + b"\x00" * 1_000_000, gray=True)


def test_fill_bytes_within_the_bound_are_still_decoded(small: bytes) -> None:
    """The standard lets any marker follow fill bytes: a few are read as before."""
    padded = small[:2] + b"\xff" * MAX_STRAY_BYTES + small[2:]
    assert jpeg_structure(padded).stray == MAX_STRAY_BYTES
    assert decode_image(padded, gray=True).shape == (64, 64)


def test_real_photos_have_no_stray_bytes(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    rgb = np.ascontiguousarray(astronaut_bgr[:, :, ::-1])
    for data in (jpeg(rgb), jpeg(rgb, progressive=True), jpeg(rgb, exif=Image.Exif())):
        assert jpeg_structure(data).stray == 0


def test_fill_bytes_between_later_scans_are_left_to_the_decoder(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    """Past the first scan libjpeg, in C, skips fill bytes; Pillow's header reading has stopped."""
    data = jpeg(np.ascontiguousarray(astronaut_bgr[:, :, ::-1]), progressive=True)
    assert data.endswith(b"\xff\xd9")
    padded = data[:-2] + b"\xff" * 100_000 + b"\xff\xd9"
    assert jpeg_structure(padded).stray == 0
    assert jpeg_structure(padded).scans == jpeg_structure(data).scans
    assert decode_image(padded, gray=True).shape == (512, 512)
