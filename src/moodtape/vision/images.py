"""Turn whatever a caller hands us (a path, encoded bytes, an array) into pixels, safely.

Decoding goes through Pillow, which reads the unusual-but-valid images people have (16-bit and
palette PNGs, WebP, animated GIFs: first frame, AVIF, and HEIC with the ``heic`` extra) and honours
EXIF orientation, so a phone photo is upright; only a WebP's pixels come from OpenCV, which needs
far less memory for them.

Two checks come first, each in a module of its own: before Pillow reads even the header,
:mod:`moodtape.vision.decode_cost` refuses a file whose structure would be slow to walk (a million
empty chunks); before any pixel is decoded, :mod:`moodtape.vision.image_limits` refuses a declared
size too large, too long or too thin (a decompression bomb); an AVIF's or HEIC's size is read from
its boxes by :mod:`moodtape.vision.heif`, whose decoders do not say it in words we can act on.
Arrays, and the 16-bit and float images decoders give, become uint8 in :mod:`moodtape.vision.pixel_arrays`.
A path's or an open file's bytes are read, within a bound, by :mod:`moodtape.vision.image_sources`.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from moodtape.errors import ArgumentError, CorruptImageError, ImageError, ImageTooLargeError, UnsupportedImageError
from moodtape.vision.decode_cost import check_decode_cost
from moodtape.vision.heif import check_heif_header
from moodtape.vision.image_limits import DEFAULT_MAX_PIXELS, check_size
from moodtape.vision.image_sources import BinaryReadable as BinaryReadable  # re-exported: calibrate imports it here
from moodtape.vision.image_sources import (
    as_path,
    exists,
    file_url_path,
    home_path,
    missing,
    names_a_file,
    read_binary,
    read_file,
)
from moodtape.vision.image_sources import source_name as source_name  # re-exported: calibrate imports it here
from moodtape.vision.not_pictures import not_a_picture
from moodtape.vision.orientation import exif_orientation, turn_upright, upright
from moodtape.vision.pixel_arrays import Pixels, array_to_pixels, as_pixels, pil_to_pixels

# Pillow warns once per odd EXIF tag ("Tag data larger than file. Skipping tag 513"…), straight to
# stderr, each text a new one: one crafted upload wrote 127,000 lines, and every distinct warning was
# kept in memory for good. The tag is skipped either way, and the picture decoded. A filter set once
# here, because ``warnings.catch_warnings`` swaps the process's filters and is not thread-safe.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\.|$)")


ImageSource = str | Path | bytes | bytearray | memoryview | npt.NDArray[np.generic] | Image.Image | BinaryReadable
#: What a caller can hand :func:`load_image`, in words, for the error that refuses anything else.
_SOURCES_IN_WORDS = "a path, encoded bytes, a binary file object, a Pillow image or a NumPy array"


def load_image(
    source: ImageSource,
    *,
    gray: bool = False,
    color_order: str = "bgr",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Pixels:
    """Read ``source`` into a uint8 array: ``(h, w)`` gray when ``gray``, else ``(h, w, 3)`` BGR.

    Args:
        source: an image file path, encoded image bytes, a file object opened in binary mode, a
            Pillow image (turned upright by its EXIF orientation, as a file is), or an array. 3-channel arrays are BGR
            (OpenCV's order) unless ``color_order="rgb"``; 4-channel arrays are BGRA/RGBA;
            16-bit, 32-bit and float arrays, and 16-bit and float files by the same rule, are
            scaled to 8 bits by their largest value: floats up to
            :data:`~moodtape.vision.pixel_arrays.FLOAT_UNIT_UP_TO` are 0–1; values up to 1023 are
            read from the smallest of :data:`~moodtape.vision.pixel_arrays.SMALL_SCALE_TOPS`
            (255, 511, 1023) at or above that value; larger ones, up to 1.5 × 65535, are on the
            16-bit scale; negative values are black. A path may be ``str``,
            :class:`~pathlib.Path` or any ``os.PathLike``, or a ``file:`` URL; a leading ``~`` is the
            home folder, as in a shell; ``bytes`` are the encoded
            image, not a path.
        gray: return one gray channel (what detection and classification use).
        max_pixels: refuse larger images with :class:`ImageTooLargeError`.

    Raises:
        ImageError: missing, empty, truncated or corrupt input; an array of an unsupported type
            (complex, datetime64, timedelta64, object) or holding NaN or infinity; values over
            1.5 × 65535 in an array or a 16- or 32-bit file.
        UnsupportedImageError: bytes that are not an image format we read.
        ImageTooLargeError: more than ``max_pixels`` pixels.
        ArgumentError: ``color_order`` is neither ``"bgr"`` nor ``"rgb"`` (a ``DataError`` and a ``ValueError``).
    """
    if color_order not in {"bgr", "rgb"}:
        raise ArgumentError(f"color_order must be 'bgr' (OpenCV's order) or 'rgb' (Pillow's), got {color_order!r:.40}")
    if isinstance(source, np.ndarray):
        return array_to_pixels(source, gray=gray, rgb=color_order == "rgb", max_pixels=max_pixels)
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode_bytes(bytes(source), gray=gray, max_pixels=max_pixels)
    if isinstance(source, Image.Image):
        return _from_pillow(source, gray=gray, max_pixels=max_pixels)
    if isinstance(source, BinaryReadable):
        name = source_name(source) or "image data"
        return decode_image(read_binary(source, name, max_pixels), gray=gray, max_pixels=max_pixels, name=name)
    if not isinstance(source, str | os.PathLike):
        raise ImageError(f"cannot read an image from {type(source).__name__}; give {_SOURCES_IN_WORDS}")
    path = as_path(source)
    given = os.fsdecode(os.fspath(source))
    if not exists(path):
        path = file_url_path(given) or home_path(given) or path
        if not exists(path):
            raise ImageError(missing(path, given))
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        data = read_file(path, max_pixels)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_image(data, gray=gray, max_pixels=max_pixels, name=str(path))


def _decode_bytes(data: bytes, *, gray: bool, max_pixels: int) -> Pixels:
    """Encoded image bytes decoded; bytes that are no image but name a file (``b"me.jpg"``, a path
    from ``os.listdir(b".")``) get an error that says to pass the path as ``str``, not "not an image"."""
    try:
        return decode_image(data, gray=gray, max_pixels=max_pixels, name="image data")
    except UnsupportedImageError:
        if names_a_file(data):
            raise UnsupportedImageError(
                f"{os.fsdecode(data)!r} was given as bytes, which moodtape reads as the image's own "
                "encoded data; pass a path as str or pathlib.Path (os.fsdecode(path))"
            ) from None
        raise


def _from_pillow(image: Image.Image, *, gray: bool, max_pixels: int) -> Pixels:
    """A caller's Pillow image as pixels, within the same size bound and turned upright as a file is.

    A lazily opened image (``Image.open``) is decoded here; its frame is the one the caller chose.
    Pillow decodes such an image from its file, once, and not safely from two threads at a time:
    share a Pillow image between threads only after ``image.load()``.
    """
    check_size(image.size, max_pixels)
    try:
        image.load()
    except ValueError as exc:
        if "closed image" in str(exc):  # Pillow's "Operation on closed image": the image is fine, its file gone
            raise ImageError(f"image: {_CLOSED_PILLOW_IMAGE}") from None
        raise CorruptImageError(f"image: truncated or corrupt image ({exc})") from None
    except (OSError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise CorruptImageError(f"image: truncated or corrupt image ({exc})") from None
    except AssertionError:  # Pillow asserts its file is open: closed, or being read by another thread
        raise ImageError(f"image: {_CLOSED_PILLOW_IMAGE}") from None
    except (RuntimeError, ZeroDivisionError) as exc:  # a codec's own failure, as decode_image maps it
        raise CorruptImageError(f"image: the picture's decoder failed ({exc})") from None
    return pil_to_pixels(upright(image), gray=gray)


#: Why a closed Pillow image (or one another thread decodes) cannot be read, and what to do instead.
_CLOSED_PILLOW_IMAGE = (
    "a Pillow image whose file is closed (or that another thread is decoding) cannot be read; "
    "call image.load() while its file is open"
)


def _with_openers(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The ``formats`` Pillow has an opener for now.

    Pillow tries the formats in turn, and one it has no opener for is a ``KeyError``, not "try the
    next": HEIF has none until the first HEIC registers pillow-heif's (``vision/heif.py``), so every
    upload whose leading bytes said GIF, WebP or JPEG and whose header was damaged was a 500.
    """
    Image.init()
    return tuple(name for name in formats if name.upper() in Image.OPEN)


def decode_image(
    data: bytes,
    *,
    gray: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str = "image",
    cost_checked: bool = False,
    shrink_jpeg: bool = False,
    formats: tuple[str, ...] | None = None,
) -> Pixels:
    """Decode encoded image bytes (JPEG, PNG, WebP, GIF, AVIF, HEIC, BMP, TIFF…); see :func:`load_image`.

    ``formats``: the Pillow formats that may read the bytes (None: every one). The web names its
    own, so that no decoder it refuses (libavif) runs on a file that only looks like another format.

    ``cost_checked``: the caller ran :func:`check_decode_cost` on these bytes already (the web
    upload does, before anything reads the header), so the file is not walked a second time.
    ``shrink_jpeg``: a JPEG over ``max_pixels`` is decoded at a half, a quarter or an eighth of its
    size instead of refused (:func:`_shrink_jpeg_to_fit`); the pixels returned are then that
    smaller picture's, so only callers that report sizes in the decoded picture's pixels (the web
    API, whose answer says its width and height) ask for it.
    """
    if not data:
        raise ImageError(f"{name}: empty file")
    if not cost_checked:
        check_decode_cost(data, name)
    heif = check_heif_header(data, max_pixels, name)  # AVIF/HEIC: a decoder here, and a size within bounds
    try:
        image = Image.open(io.BytesIO(data), formats=None if formats is None else _with_openers(formats))
    except Image.DecompressionBombError as exc:
        # Pillow's own guard fired first (far over its 179-megapixel bound); say it in our words.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(declared[1]) / 1e6:.1f} megapixels" if declared else "far too many pixels"
        raise ImageTooLargeError(
            f"{name}: the image declares {size}; the limit is {max_pixels / 1e6:.1f} "
            "(set MOODTAPE_MAX_PIXELS to change it)"
        ) from None
    except UnidentifiedImageError:
        if heif is not None:  # check_heif_header found a decoder for it: the file itself is at fault
            raise CorruptImageError(f"{name}: truncated or corrupt {heif.upper()} picture") from None
        raise UnsupportedImageError(not_a_picture(data, name)) from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's way of saying "header cut short"
        raise CorruptImageError(f"{name}: truncated or corrupt image ({exc})") from None
    except (RuntimeError, ZeroDivisionError) as exc:
        raise _codec_failure(exc, heif, name) from None
    with image:
        if shrink_jpeg:
            _shrink_jpeg_to_fit(image, max_pixels, gray=gray)
        check_size(image.size, max_pixels, name)
        try:
            if gray and image.format == "JPEG":
                image.draft("L", image.size)  # decode luma only: faster, and all we need
            if image.format == "WEBP":
                decoded = _decode_webp(data, image, gray=gray)
                if decoded is not None:
                    return decoded
            image.seek(0)  # animated images: the first frame only is decoded
            image.load()
            return pil_to_pixels(upright(image), gray=gray)
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise CorruptImageError(f"{name}: truncated or corrupt image ({exc})") from None
        except (RuntimeError, ZeroDivisionError) as exc:
            raise _codec_failure(exc, heif, name) from None


def _codec_failure(exc: Exception, heif: str | None, name: str) -> Exception:
    """What to raise for a ``RuntimeError`` or ``ZeroDivisionError`` from opening or decoding.

    libavif and libheif (through Pillow's AVIF plugin and pillow-heif) report a damaged file with
    ``RuntimeError`` ("Missing or empty image item", "Decoding of color planes failed", "Security
    limit exceeded") and even ``ZeroDivisionError`` (an image sequence whose timescale is 0): for
    their pictures that is the file's fault, a 422, not a bug of ours (each was a 500 on the web,
    found by mutation fuzzing in review; no other exception came out of 69,000 mutated files).
    From any other format such an error is a bug, and stays what it is.
    """
    if heif is None:
        return exc
    return CorruptImageError(f"{name}: truncated or corrupt {heif.upper()} picture ({type(exc).__name__}: {exc})")


def _decode_webp(data: bytes, image: Image.Image, *, gray: bool) -> Pixels | None:
    """A WebP (an animation: its first frame) decoded by OpenCV and turned upright; None when
    OpenCV cannot read it.

    Pillow decodes every WebP through libwebp's animation decoder, which holds two RGBA canvases
    beside the picture: a 36-megapixel WebP cost about 560 MB and 1.5 s there, against 150 MB and
    0.9 s in OpenCV (gray), so two such uploads at once no longer take a gigabyte. An animated one
    went on through Pillow: a 186-byte, three-frame animation on a 36-megapixel canvas cost 574 MB
    to decode, against 327 MB in OpenCV (4.11 and later), which gives the same first frame (gray to
    within one level). Pillow still reads the header (size, animation) and the EXIF orientation,
    which cost no pixels; a file OpenCV refuses (damaged, or a feature its libwebp lacks) goes back
    to Pillow, which says what is wrong with it.
    """
    flags = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None or decoded.shape[:2] != (image.height, image.width):
        return None
    return np.ascontiguousarray(turn_upright(as_pixels(decoded), exif_orientation(image)))


def _shrink_jpeg_to_fit(image: Image.Image, max_pixels: int, *, gray: bool) -> None:
    """Have a JPEG over ``max_pixels`` decode at the smallest of 1/2, 1/4 or 1/8 scale that fits.

    Phones take 48- and 50-megapixel photos; refusing them (the limit is 40) sent visitors a
    message meant for the operator. A JPEG can be decoded straight to a fraction of its size (the
    decoder drops DCT coefficients), so such a photo costs what its smaller copy costs, and a face
    in it still has hundreds of pixels. Other formats cannot, and stay refused.
    """
    width, height = image.size
    if image.format != "JPEG" or width * height <= max_pixels:
        return
    for scale in (2, 4, 8):
        # Pillow picks the largest reduction that keeps at least the size asked for, so asking for
        # width // scale (not rounded up) gets that scale whatever the sides are (8001 × 6001 too).
        if math.ceil(width / scale) * math.ceil(height / scale) <= max_pixels:
            image.draft("L" if gray else "RGB", (max(1, width // scale), max(1, height // scale)))
            return
