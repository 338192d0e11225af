"""Refuse a file whose structure, not its pixels, would make decoding it slow.

Before Pillow reads even the header, :func:`check_decode_cost` walks the file's structure (a JPEG's
markers, a PNG's chunks, a GIF's blocks; the walking is :mod:`moodtape.vision.jpeg_structure`'s and
:mod:`moodtape.vision.png_gif_structure`'s): a small file of a million empty chunks costs seconds of
Pillow's time whatever its pixels. This module holds the bounds' messages, in words a person can act on.
"""

from __future__ import annotations

from moodtape.errors import ImageError
from moodtape.vision import png_gif_structure as png_gif
from moodtape.vision.jpeg_structure import MAX_SCANS, MAX_SEGMENTS, MAX_STRAY_BYTES, is_jpeg, jpeg_structure


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
        (
            structure.stray,
            MAX_STRAY_BYTES,
            f"this JPEG has over {MAX_STRAY_BYTES:,} bytes of padding or stray data between its markers "
            "(a photo has none) and would take seconds to read; save it again as an ordinary JPEG or PNG",
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
