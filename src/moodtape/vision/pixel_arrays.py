"""Bring any array or decoded Pillow image to the one currency of the vision code: uint8 pixels.

Callers hand us gray, BGR, BGRA/RGBA, 16-bit and float arrays; decoders hand us 16-bit, 32-bit
and float Pillow images. All become ``(h, w)`` gray or ``(h, w, 3)`` BGR uint8 (OpenCV's order).
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from moodtape.errors import ImageError, ImageTooLargeError, UnsupportedImageError

#: A float array whose largest value is at most this is a 0–1 picture (values over 1 become white).
FLOAT_UNIT_UP_TO: Final = 1.5
#: The scales of an integer or float array whose largest value is at most 1023: its white is the
#: first of these at or above that value. 0–255 are 8-bit values; a peak of 256–1023 is a 10-bit
#: camera frame (0–1023), a dark 16-bit picture, or 8-bit values pushed past 255 by arithmetic
#: (``img.astype(np.int32) + 40``). Read from the smallest 2ⁿ−1 at or above the peak, Yale's 134
#: photos were read right 115 times as 10-bit frames, 113 as a 16-bit picture × 3, 114 as the 8-bit
#: photo + 40; clipped to 255 they were 89, 97 and 112, and on the 16-bit scale 0, 0 and 0.
SMALL_SCALE_TOPS: Final = (255, 511, 1023)
#: The top of the 16-bit scale, for peaks over 1023 (``np.asarray`` of a 16-bit picture in Pillow's
#: mode "I" is int32 0–65535). Values a little over it (up to ``FLOAT_UNIT_UP_TO`` times it, as for
#: 0–1 floats) are a 16-bit picture's overshoot and clipped; larger ones are on no scale we can tell.
_SIXTEEN_BIT_TOP: Final = 65535
#: Pixels converted at a time from a 16-bit or float image: keeps the float copies small.
_WIDE_BLOCK: Final = 1 << 20

Pixels = npt.NDArray[np.uint8]


def as_pixels(array: object) -> Pixels:
    """View OpenCV's loosely typed results as the uint8 images they are."""
    return np.asarray(array, dtype=np.uint8)


def array_to_pixels(array: npt.NDArray[np.generic], *, gray: bool, rgb: bool, max_pixels: int) -> Pixels:
    """A caller's array as uint8 pixels; see :func:`moodtape.vision.images.load_image` for what it takes.

    ``rgb``: a 3- or 4-channel array is RGB(A), not OpenCV's BGR(A). ``max_pixels``: 0 for no bound.
    """
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(f"array of shape {array.shape} is not an image; expected (h, w), (h, w, 3) or (h, w, 4)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError("empty image array")
    if max_pixels and array.shape[0] * array.shape[1] > max_pixels:
        raise ImageTooLargeError(f"{array.shape[1]}×{array.shape[0]} image is over the {max_pixels} pixel limit")
    pixels = _to_uint8(array)
    if pixels.ndim == 2:
        return pixels if gray else as_pixels(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
    if pixels.shape[2] == 4:
        pixels = as_pixels(cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGR if rgb else cv2.COLOR_BGRA2BGR))
    elif rgb:
        pixels = as_pixels(cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    return as_pixels(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)) if gray else np.ascontiguousarray(pixels)


def _to_uint8(array: npt.NDArray[np.generic]) -> Pixels:
    if not array.dtype.isnative:  # big-endian data (a FITS file's, a '>u2' buffer): compared as uint16 it was not
        array = array.astype(array.dtype.newbyteorder("="))
    if array.dtype == np.uint8:
        return np.asarray(array)
    if array.dtype == np.bool_:
        return as_pixels(np.asarray(array, dtype=np.uint8) * 255)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError("image array contains NaN or infinite values")
    elif array.dtype.kind not in "iu":  # timedelta64 counts as an integer to NumPy, and has no pixel scale
        raise ImageError(f"unsupported array type {array.dtype}")
    return _wide_to_uint8(array, _scale_top(array))


def _scale_top(array: npt.NDArray[np.generic]) -> float:
    """The value that stands for white in a wide (16-bit, 32-bit, float) array, read from its peak.

    A float picture in [0, 1] that went through resampling or a brightness change often peaks a
    little over 1 (bicubic overshoot, a gain): read on the 0–255 scale it was black, with no face;
    one truly on that scale whose brightest pixel is under 1.5 is black either way. Peaks up to 1023
    are read on the smallest of :data:`SMALL_SCALE_TOPS` that holds them (see there for what was
    measured); higher ones on the 16-bit scale. Before, an int32 or float array of 16-bit values
    (``np.asarray`` of Pillow's mode "I", ``img16.astype(float)``) was clipped to a white picture with no
    face and no error. Far larger values are on no scale we can guess, so they are refused. The peak
    decides for the whole picture: a 10-bit frame with one value over 1023 is read on the 16-bit
    scale (dark), which is why the README asks for such frames shifted to 16 bits first.

    A 16-bit file is read by the same rule (:func:`pil_to_pixels`), so that ``analyze("dark.png")``
    and ``analyze(np.asarray(Image.open("dark.png")))`` see one picture. Its format gives its bit
    depth, not the range its values use: a 10-bit frame saved as a 16-bit PNG (peak 1023) read on the
    16-bit scale was nearly black (Yale's photos: 68 of 134 faces found, 40 read right).
    """
    peak = _finite_peak(array)
    if np.issubdtype(array.dtype, np.floating) and peak <= FLOAT_UNIT_UP_TO:
        return 1.0
    for top in SMALL_SCALE_TOPS:
        if peak <= top:
            return float(top)
    if peak <= _SIXTEEN_BIT_TOP * FLOAT_UNIT_UP_TO:
        return float(_SIXTEEN_BIT_TOP)
    raise ImageError(
        f"an image of {array.dtype} values up to {peak:g} is on no pixel scale moodtape knows; "
        "give 8-bit (0–255), 10-bit (0–1023), 16-bit (0–65535) or 0–1 float values"
    )


def _finite_peak(array: npt.NDArray[np.generic]) -> float:
    """The largest value, 0 at least; a float file's NaN and infinities (black and white) are passed over."""
    if np.issubdtype(array.dtype, np.floating):
        return float(np.max(array, initial=0, where=np.isfinite(array)))
    return float(array.max(initial=0))


def pil_to_pixels(image: Image.Image, *, gray: bool) -> Pixels:
    """A loaded Pillow image as uint8 pixels: 16-bit, 32-bit and float modes scaled to 8 bits."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        wide = np.asarray(image)  # read as the same values in an array are (see _scale_top)
        return array_to_pixels(_wide_to_uint8(wide, _scale_top(wide)), gray=gray, rgb=False, max_pixels=0)
    if image.mode in _CONVERTED_FIRST:
        image = image.convert(_CONVERTED_FIRST[image.mode])
    if gray:
        return np.asarray(image if image.mode == "L" else _convert(image, "L"), dtype=np.uint8)
    rgb = np.asarray(image if image.mode == "RGB" else _convert(image, "RGB"), dtype=np.uint8)
    return as_pixels(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


#: Modes Pillow cannot convert to gray directly, and the mode it can convert them to: a CIELAB TIFF
#: (a scanner's, Photoshop's) opens as "LAB", and premultiplied alpha is "La" or "RGBa". Their
#: ``convert("L")`` raised a ValueError, which a file's reader called "truncated or corrupt" and
#: the Python API let out bare.
_CONVERTED_FIRST: Final = {"LAB": "RGB", "La": "LA", "RGBa": "RGBA"}


def _convert(image: Image.Image, mode: str) -> Image.Image:
    """``image.convert(mode)``; a mode Pillow cannot convert is an :class:`UnsupportedImageError`."""
    try:
        return image.convert(mode)
    except ValueError as exc:  # "conversion from X to RGB not supported"
        raise UnsupportedImageError(
            f"a picture in Pillow's mode {image.mode!r} cannot be read ({exc}); convert it to RGB first"
        ) from None


def _wide_to_uint8(wide: npt.NDArray[np.generic], top: float) -> Pixels:
    """``wide / top * 255``, rounded and clipped to uint8, a block of rows at a time.

    Converting the whole image at once made four float64 copies: a 90 KB 16-bit PNG of 40
    megapixels cost about 950 MB to decode; now it costs the 8-bit result and one small block.
    """
    out = np.empty(wide.shape, np.uint8)
    rows = max(1, _WIDE_BLOCK // max(1, wide[:1].size))
    for start in range(0, wide.shape[0], rows):
        block = wide[start : start + rows].astype(np.float32)
        np.nan_to_num(block, copy=False, nan=0.0, posinf=top, neginf=0.0)
        block *= 255.0 / top
        np.clip(np.rint(block, out=block), 0, 255, out=block)
        out[start : start + rows] = block
    return out
