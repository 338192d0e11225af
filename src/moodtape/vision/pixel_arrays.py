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
    if array.dtype == np.uint16:
        return _uint16_to_uint8(array)
    if np.issubdtype(array.dtype, np.floating):
        values = np.asarray(array, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ImageError("image array contains NaN or infinite values")
        # A float picture in [0, 1] that went through resampling or a brightness change often peaks a
        # little over 1 (bicubic overshoot, a gain): read on the 0–255 scale it was black, with no face.
        # A picture truly on that scale whose brightest pixel is under 1.5 is black either way.
        scale = 255.0 if values.max(initial=0.0) <= FLOAT_UNIT_UP_TO else 1.0
        return np.clip(values * scale, 0, 255).round().astype(np.uint8)
    if array.dtype == np.bool_:
        return as_pixels(np.asarray(array, dtype=np.uint8) * 255)
    if np.issubdtype(array.dtype, np.integer):
        return as_pixels(np.clip(array, 0, 255))
    raise ImageError(f"unsupported array type {array.dtype}")


def _uint16_to_uint8(array: npt.NDArray[np.generic]) -> Pixels:
    """A uint16 array on the 16-bit scale, or holding 8-bit values (none over 255) as they are.

    ``img.astype(np.uint16)`` (headroom for arithmetic) keeps 0–255 values: divided by 257 they
    were a black picture in which no face was found. On the 16-bit scale such a picture is black
    anyway (0.4 % of full brightness at most), so reading it as 8-bit loses nothing; a 16-bit image
    that Pillow decodes is read by the same rule (:func:`pil_to_pixels`).
    """
    if int(array.max(initial=0)) <= 255:
        return as_pixels(array)
    return as_pixels(array.astype(np.uint32) // 257)


def pil_to_pixels(image: Image.Image, *, gray: bool) -> Pixels:
    """A loaded Pillow image as uint8 pixels: 16-bit, 32-bit and float modes scaled to 8 bits."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        wide = np.asarray(image)
        peak = wide.max(initial=0)
        top = 65535.0 if peak > 255 else 255.0
        if image.mode == "F" and peak <= FLOAT_UNIT_UP_TO:
            top = 1.0  # a float TIFF on the 0–1 scale, as float arrays are read: at 255 it was black
        return array_to_pixels(_wide_to_uint8(wide, top), gray=gray, rgb=False, max_pixels=0)
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
    out = np.empty(wide.shape[:2], np.uint8)
    rows = max(1, _WIDE_BLOCK // max(1, wide.shape[1]))
    for start in range(0, wide.shape[0], rows):
        block = wide[start : start + rows].astype(np.float32)
        np.nan_to_num(block, copy=False, nan=0.0, posinf=top, neginf=0.0)
        block *= 255.0 / top
        np.clip(np.rint(block, out=block), 0, 255, out=block)
        out[start : start + rows] = block
    return out
