"""Still WebPs are decoded by OpenCV (a quarter of Pillow's memory), with Pillow's exact result.

Pillow decodes every WebP through libwebp's animation decoder, two RGBA canvases beside the
picture; ``vision/images.py`` hands WebPs (an animation: its first frame) to OpenCV and turns them upright itself. These
tests hold that path to Pillow's: the same pixels for every EXIF orientation, gray and colour,
and Pillow still reads what OpenCV does not (animations, damaged files).
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from moodtape.errors import CorruptImageError
from moodtape.vision import images
from moodtape.vision.images import decode_image
from moodtape.vision.orientation import upright
from moodtape.vision.pixel_arrays import pil_to_pixels


def asymmetric_picture() -> npt.NDArray[np.uint8]:
    """An RGB picture no turn or flip maps onto itself: a gradient with one bright corner block."""
    rows, cols = np.mgrid[0:36, 0:52]
    rgb = np.stack([rows * 6, cols * 4, (rows + cols) * 2], axis=-1).astype(np.uint8)
    rgb[:8, :12] = (250, 240, 10)
    return rgb


def webp(rgb: npt.NDArray[np.uint8], orientation: int | None = None, **options: object) -> bytes:
    picture = Image.fromarray(rgb, "RGB")
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "WEBP", lossless=True, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def pillow_decode(data: bytes, *, gray: bool) -> npt.NDArray[np.uint8]:
    """What decoding gave before OpenCV read still WebPs: Pillow, turned by its own transpose."""
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return pil_to_pixels(upright(picture), gray=gray)


@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("gray", [False, True])
def test_a_still_webp_decodes_as_pillow_decodes_it(orientation: int | None, gray: bool, monkeypatch) -> None:
    data = webp(asymmetric_picture(), orientation)
    calls = []
    real_imdecode = images.cv2.imdecode
    monkeypatch.setattr(images.cv2, "imdecode", lambda *args: calls.append(1) or real_imdecode(*args))
    decoded = decode_image(data, gray=gray)
    assert calls, "a still WebP is decoded by OpenCV"
    expected = pillow_decode(data, gray=gray)
    assert decoded.shape == expected.shape
    assert decoded.flags.c_contiguous
    # Lossless pixels; gray may differ by one level where the two libraries round the luma apart.
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= (1 if gray else 0)


def test_orientations_turn_the_picture_as_the_exif_table_says() -> None:
    rgb = asymmetric_picture()
    block = (10, 240, 250)  # the bright corner block (8 rows × 12 columns, top left as stored), BGR
    # 6: the camera was turned clockwise, so the picture is turned clockwise back: the block ends
    # top right, 12 rows × 8 columns; 8 is the other way, bottom left.
    turned = decode_image(webp(rgb, 6))
    assert turned.shape[:2] == (rgb.shape[1], rgb.shape[0])
    assert (turned[:12, -8:] == block).all() and not (turned[:12, :8] == block).all()
    back = decode_image(webp(rgb, 8))
    assert (back[-12:, :8] == block).all() and not (back[:12, :8] == block).all()


def test_an_animated_webp_still_gives_its_first_frame() -> None:
    first = Image.new("RGB", (20, 16), (255, 0, 0))
    second = Image.new("RGB", (20, 16), (0, 0, 255))
    buffer = io.BytesIO()
    first.save(buffer, "WEBP", save_all=True, append_images=[second], duration=100, lossless=True)
    decoded = decode_image(buffer.getvalue())
    assert decoded.shape == (16, 20, 3)
    np.testing.assert_array_equal(decoded[8, 10], (0, 0, 255))  # BGR red: the first frame


def test_a_damaged_still_webp_is_refused_in_pillows_words() -> None:
    data = webp(asymmetric_picture())
    with pytest.raises(CorruptImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2])
