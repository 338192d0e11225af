"""Turn a photo upright as its EXIF orientation tag says: a phone writes the tag instead of turning the pixels.

Two ways, one table: :func:`upright` turns a Pillow image, :func:`turn_upright` a decoded array
(a WebP decoded by OpenCV, which is told to ignore the tag).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from PIL import Image

from moodtape.vision.pixel_arrays import Pixels

#: EXIF orientation → the turn that makes the photo upright (the EXIF 2.3 table, as Pillow's).
_ORIENTATION_TURNS: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag, or None when there is none or the EXIF block cannot be read."""
    try:
        orientation = image.getexif().get(0x0112)
    except Exception:  # an unreadable EXIF block (many types: struct.error, TypeError…): nothing to honour
        return None
    return orientation if isinstance(orientation, int) else None


def turn_upright(pixels: Pixels, orientation: int | None) -> Pixels:
    """``pixels`` turned as :data:`_ORIENTATION_TURNS` turns a Pillow image (a view, no copy)."""
    match orientation:
        case 2:
            return pixels[:, ::-1]
        case 3:
            return pixels[::-1, ::-1]
        case 4:
            return pixels[::-1]
        case 5:
            return pixels.swapaxes(0, 1)
        case 6:
            return np.rot90(pixels, -1)
        case 7:
            return pixels.swapaxes(0, 1)[::-1, ::-1]
        case 8:
            return np.rot90(pixels, 1)
    return pixels


def upright(image: Image.Image) -> Image.Image:
    """The photo turned as its EXIF orientation says; a photo whose orientation cannot be read is taken as it is.

    Only the orientation tag is read. Pillow's ``exif_transpose`` also rewrites the other tags, and a
    tag of the wrong type (a width written as text, as some cameras and fuzzers do) made it raise
    ``struct.error`` (a 500) after it had already turned the picture: a valid picture must not fail
    for its metadata.
    """
    orientation = exif_orientation(image)
    turn = _ORIENTATION_TURNS.get(orientation) if orientation is not None else None
    # transpose() copies only when the photo is turned, as exif_transpose(in_place=True) did.
    return image.transpose(turn) if turn is not None else image
