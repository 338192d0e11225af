"""Turn whatever a caller hands us (a path, encoded bytes, an array) into pixels, safely.

Decoding goes through Pillow, which reads the unusual-but-valid images people have (16-bit and
palette PNGs, WebP, animated GIFs: first frame) and honours EXIF orientation, so a phone photo
is upright; only a still WebP's pixels come from OpenCV, which needs a quarter of the memory.
Before any pixel is decoded, the header's size is checked against a pixel limit:
a tiny file can declare a gigapixel image (a "decompression bomb"). The side and the aspect ratio
are bounded too: a 1 × 39,000,000 PNG is under a pixel limit yet costs gigabytes in the decoder's
row buffers. Pillow's own bomb guard (``Image.MAX_IMAGE_PIXELS``) stays as it is, for every other
user of Pillow in the process; ours is stricter and fires first.

Before that, before Pillow reads even the header, :func:`check_decode_cost` walks the file's
structure (a JPEG's markers, a PNG's chunks, a GIF's blocks): a small file of a million empty
chunks costs seconds of Pillow's time whatever its pixels.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from moodtape.errors import CorruptImageError, ImageError, ImageTooLargeError, UnsupportedImageError
from moodtape.vision import png_gif_structure as png_gif
from moodtape.vision.jpeg_structure import MAX_SCANS, MAX_SEGMENTS, is_jpeg, jpeg_structure

#: 40 megapixels: larger than any phone or DSLR photo people upload, small enough to decode safely.
DEFAULT_MAX_PIXELS: Final = 40_000_000
#: Longest side accepted: above any camera's (a 100-megapixel sensor is 11,648 px wide).
MAX_SIDE: Final = 20_000
#: Longest over shortest side: a phone panorama is about 4:1; 1 × 39,000,000 is a decoder attack.
MAX_ASPECT: Final = 16.0
#: Images with no side longer than this are cheap whatever their shape (a 300 × 1 strip is fine).
THIN_CHECK_FROM: Final = 4096
#: A float array whose largest value is at most this is a 0–1 picture (values over 1 become white).
FLOAT_UNIT_UP_TO: Final = 1.5

# Pillow warns once per odd EXIF tag ("Tag data larger than file. Skipping tag 513"…), straight to
# stderr, each text a new one: one crafted upload wrote 127,000 lines, and every distinct warning was
# kept in memory for good. The tag is skipped either way, and the picture decoded. A filter set once
# here, because ``warnings.catch_warnings`` swaps the process's filters and is not thread-safe.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\.|$)")

Pixels = npt.NDArray[np.uint8]
ImageSource = str | Path | bytes | bytearray | memoryview | npt.NDArray[np.generic]


def load_image(
    source: ImageSource,
    *,
    gray: bool = False,
    color_order: str = "bgr",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Pixels:
    """Read ``source`` into a uint8 array: ``(h, w)`` gray when ``gray``, else ``(h, w, 3)`` BGR.

    Args:
        source: an image file path, encoded image bytes, or an array. 3-channel arrays are BGR
            (OpenCV's order) unless ``color_order="rgb"``; 4-channel arrays are BGRA/RGBA;
            16-bit and float arrays (and float TIFFs) are scaled to 8 bits (floats are 0–1 when
            none is over :data:`FLOAT_UNIT_UP_TO`, else 0–255).
        gray: return one gray channel (what detection and classification use).
        max_pixels: refuse larger images with :class:`ImageTooLargeError`.

    Raises:
        ImageError: missing, empty, truncated or corrupt input.
        UnsupportedImageError: bytes that are not an image format we read.
        ImageTooLargeError: more than ``max_pixels`` pixels.
    """
    if color_order not in {"bgr", "rgb"}:
        raise ValueError(f"color_order must be 'bgr' or 'rgb', got {color_order!r}")
    if isinstance(source, np.ndarray):
        return _from_array(source, gray=gray, rgb=color_order == "rgb", max_pixels=max_pixels)
    if isinstance(source, bytes | bytearray | memoryview):
        return decode_image(bytes(source), gray=gray, max_pixels=max_pixels, name="image data")
    path = Path(source)
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_image(data, gray=gray, max_pixels=max_pixels, name=str(path))


def decode_image(
    data: bytes,
    *,
    gray: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str = "image",
    cost_checked: bool = False,
    shrink_jpeg: bool = False,
) -> Pixels:
    """Decode encoded image bytes (JPEG, PNG, WebP, GIF, BMP, TIFF…); see :func:`load_image`.

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
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Pillow's own guard fired first (far over its 179-megapixel bound); say it in our words.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(declared[1]) / 1e6:.1f} megapixels" if declared else "far too many pixels"
        raise ImageTooLargeError(
            f"{name}: the image declares {size}; the limit is {max_pixels / 1e6:.1f} "
            "(set MOODTAPE_MAX_PIXELS to change it)"
        ) from None
    except UnidentifiedImageError:
        raise UnsupportedImageError(_unidentified_message(data, name)) from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's way of saying "header cut short"
        raise CorruptImageError(f"{name}: truncated or corrupt image ({exc})") from None
    with image:
        if shrink_jpeg:
            _shrink_jpeg_to_fit(image, max_pixels, gray=gray)
        check_size(image.size, max_pixels, name)
        try:
            if gray and image.format == "JPEG":
                image.draft("L", image.size)  # decode luma only: faster, and all we need
            if image.format == "WEBP" and not getattr(image, "is_animated", False):
                decoded = _decode_still_webp(data, image, gray=gray)
                if decoded is not None:
                    return decoded
            image.seek(0)  # animated images: the first frame only is decoded
            image.load()
            return _pil_to_array(_upright(image), gray=gray)
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise CorruptImageError(f"{name}: truncated or corrupt image ({exc})") from None


#: ISO-BMFF brands of HEIC/HEIF and AVIF pictures (``ftyp`` box at byte 4): an iPhone's photos.
#: An MP4 video's brands (``isom``, ``mp41``, ``mp42``...) are not among them.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
#: What to do with such a photo, in the words a person needs (the decoder and the web say the same).
HEIF_ADVICE: Final = (
    "a HEIC/HEIF or AVIF photo, which moodtape cannot read; send it as JPEG or PNG "
    "(on an iPhone: Settings → Camera → Formats → Most Compatible, or share it as JPEG)"
)


def is_heif(data: bytes) -> bool:
    """Whether ``data`` starts like a HEIC/HEIF or AVIF picture (its ISO-BMFF ``ftyp`` box's brand)."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _unidentified_message(data: bytes, name: str) -> str:
    """Why Pillow could not read ``data``, naming HEIC/AVIF: an iPhone's photo was "not an image"."""
    if is_heif(data):
        return f"{name}: {HEIF_ADVICE}"
    return f"{name}: not an image (or a format moodtape cannot read)"


def _decode_still_webp(data: bytes, image: Image.Image, *, gray: bool) -> Pixels | None:
    """A still WebP decoded by OpenCV and turned upright; None when OpenCV cannot read it.

    Pillow decodes every WebP through libwebp's animation decoder, which holds two RGBA canvases
    beside the picture: a 36-megapixel WebP cost about 560 MB and 1.5 s there, against 150 MB and
    0.9 s in OpenCV (gray), so two such uploads at once no longer take a gigabyte. Pillow still
    reads the header (size, animation) and the EXIF orientation, which cost no pixels; a file
    OpenCV refuses (damaged, or a feature its libwebp lacks) goes back to Pillow, which says what
    is wrong with it.
    """
    flags = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None or decoded.shape[:2] != (image.height, image.width):
        return None
    return np.ascontiguousarray(_turn_upright(as_pixels(decoded), _orientation(image)))


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation tag, or None when there is none or the EXIF block cannot be read."""
    try:
        orientation = image.getexif().get(0x0112)
    except Exception:  # an unreadable EXIF block (many types: struct.error, TypeError…): nothing to honour
        return None
    return orientation if isinstance(orientation, int) else None


def _turn_upright(pixels: Pixels, orientation: int | None) -> Pixels:
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


def check_decode_cost(data: bytes, name: str = "image") -> None:
    """Refuse a JPEG, PNG or GIF whose decoding, even of its header, would cost far more than its
    pixels justify (see :mod:`moodtape.vision.jpeg_structure` and
    :mod:`moodtape.vision.png_gif_structure`); other formats pass.

    Call it before anything opens the bytes with Pillow: reading the header of a JPEG with a
    million empty comments, or of a PNG with a million empty chunks, costs seconds already.

    Raises:
        ImageError: the message says what the file holds too much of (a 422 on the web).
    """
    if png_gif.is_png(data):
        _check_png_cost(png_gif.png_structure(data), name)
    elif png_gif.is_gif(data):
        _check_gif_cost(png_gif.gif_structure(data), name)
    elif is_jpeg(data):
        _check_jpeg_cost(data, name)


def _check_jpeg_cost(data: bytes, name: str) -> None:
    structure = jpeg_structure(data)
    _refuse_over(
        name,
        (
            structure.scans,
            MAX_SCANS,
            f"this JPEG has over {MAX_SCANS} scans (a photo has about 10) and would take minutes to decode; "
            "save it again as an ordinary JPEG or PNG",
        ),
        (
            structure.segments,
            MAX_SEGMENTS,
            f"this JPEG has over {MAX_SEGMENTS} marker segments (a photo has a few dozen); "
            "save it again as an ordinary JPEG or PNG",
        ),
    )


def _check_png_cost(structure: png_gif.PngStructure, name: str) -> None:
    again = "save it again as an ordinary PNG or JPEG"
    _refuse_over(
        name,
        (
            structure.chunks,
            png_gif.MAX_PNG_CHUNKS,
            f"this PNG has over {png_gif.MAX_PNG_CHUNKS:,} chunks besides its pixels (a photo has about 10) "
            f"and would take seconds to read; {again}",
        ),
        (
            structure.data_chunks,
            png_gif.MAX_PNG_DATA_CHUNKS,
            f"this PNG splits its pixels into over {png_gif.MAX_PNG_DATA_CHUNKS:,} chunks and would take "
            f"seconds to read; {again}",
        ),
        (
            structure.exif_bytes,
            png_gif.MAX_EXIF_BYTES,
            f"this PNG carries over {png_gif.MAX_EXIF_BYTES // 1024} KB of EXIF data (a camera writes at "
            "most 64 KB); save it again without its metadata",
        ),
        (
            structure.text_bytes,
            png_gif.MAX_TEXT_BYTES,
            f"this PNG carries over {png_gif.MAX_TEXT_BYTES // (1024 * 1024)} MB of text metadata; "
            "save it again without its metadata",
        ),
    )


def _check_gif_cost(structure: png_gif.GifStructure, name: str) -> None:
    again = "save it again as an ordinary GIF, PNG or JPEG"
    _refuse_over(
        name,
        (
            structure.blocks,
            png_gif.MAX_GIF_BLOCKS,
            f"this GIF has over {png_gif.MAX_GIF_BLOCKS:,} extension blocks before its first picture "
            f"(a GIF has a handful) and would take seconds to read; {again}",
        ),
        (
            structure.sub_blocks,
            png_gif.MAX_GIF_SUB_BLOCKS,
            "this GIF splits the extensions before its first picture into over "
            f"{png_gif.MAX_GIF_SUB_BLOCKS:,} blocks and would take seconds to read; {again}",
        ),
    )


def _refuse_over(name: str, *bounds: tuple[int, int, str]) -> None:
    """Raise :class:`ImageError` ``"name: message"`` for the first ``(count, bound, message)`` over its bound."""
    for count, bound, message in bounds:
        if count > bound:
            raise ImageError(f"{name}: {message}")


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


def _upright(image: Image.Image) -> Image.Image:
    """The photo turned as its EXIF orientation says; a photo whose orientation cannot be read is taken as it is.

    Only the orientation tag is read. Pillow's ``exif_transpose`` also rewrites the other tags, and a
    tag of the wrong type (a width written as text, as some cameras and fuzzers do) made it raise
    ``struct.error`` (a 500) after it had already turned the picture: a valid picture must not fail
    for its metadata.
    """
    orientation = _orientation(image)
    turn = _ORIENTATION_TURNS.get(orientation) if orientation is not None else None
    # transpose() copies only when the photo is turned, as exif_transpose(in_place=True) did.
    return image.transpose(turn) if turn is not None else image


def check_size(size: tuple[int, int], max_pixels: int, name: str = "image") -> None:
    """Refuse a declared size before any pixel is decoded: too many pixels, too long a side, too thin.

    Raises:
        ImageTooLargeError: the message says which bound and how to change the pixel limit.
    """
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image declares no pixels ({width}×{height})")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}×{height} is {width * height / 1e6:.1f} megapixels; the limit is "
            f"{max_pixels / 1e6:.1f} (set MOODTAPE_MAX_PIXELS to change it)"
        )
    longest = max(width, height)
    if longest > MAX_SIDE or (longest > THIN_CHECK_FROM and longest > MAX_ASPECT * min(width, height)):
        raise ImageTooLargeError(
            f"{name}: {width}×{height} is too long or too thin; moodtape reads images up to {MAX_SIDE} pixels "
            f"a side, and no thinner than {MAX_ASPECT:g}:1 past {THIN_CHECK_FROM} pixels — crop the photo and try again"
        )


def _pil_to_array(image: Image.Image, *, gray: bool) -> Pixels:
    if image.mode in {"I;16", "I;16B", "I;16L", "I", "F"}:
        wide = np.asarray(image)
        peak = wide.max(initial=0)
        top = 65535.0 if peak > 255 else 255.0
        if image.mode == "F" and peak <= FLOAT_UNIT_UP_TO:
            top = 1.0  # a float TIFF on the 0–1 scale, as float arrays are read: at 255 it was black
        return _from_array(_wide_to_uint8(wide, top), gray=gray, rgb=False, max_pixels=0)
    if gray:
        return np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
    return as_pixels(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


#: Pixels converted at a time from a 16-bit or float image: keeps the float copies small.
_WIDE_BLOCK: Final = 1 << 20


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


def as_pixels(array: object) -> Pixels:
    """View OpenCV's loosely typed results as the uint8 images they are."""
    return np.asarray(array, dtype=np.uint8)


def _from_array(array: npt.NDArray[np.generic], *, gray: bool, rgb: bool, max_pixels: int) -> Pixels:
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
    if array.dtype == np.uint8:
        return np.asarray(array)
    if array.dtype == np.uint16:
        return (array.astype(np.uint32) // 257).astype(np.uint8)
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
