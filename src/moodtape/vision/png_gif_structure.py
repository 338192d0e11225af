"""A cheap walk over a PNG's chunks or a GIF's blocks, before any pixel is decoded: refuse files built to be slow.

Pillow reads a PNG's chunks and a GIF's extension blocks one at a time, in Python, at 10–15 µs a
PNG chunk and 1–3 µs a GIF block. The pixels are decoded in C and cost what the picture holds;
the structure costs what the file *says*, and a file can say a lot in few bytes: a 64 × 64 PNG of
800,000 empty chunks (9.6 MB) held a request thread for 16–22 s just to read its header, 500,000
text chunks for 34 s, and a GIF of 1.9 million comment blocks for 16 s. An eXIf chunk of 65,535
tags (0.8 MB) cost 2.5–3.7 s when its orientation was read, and wrote a warning per tag to stderr.

The bounds are far above what an encoder writes and far below what costs (Pillow's time at the
bound, measured, is in each constant's comment):

* PNG chunks other than pixel data: :data:`MAX_PNG_CHUNKS` (1,000). A photo has a handful (IHDR,
  sRGB or iCCP, pHYs, eXIf, a few text chunks, IEND); an animated PNG's frames past the first are
  never read (below), so they do not count.
* PNG pixel-data chunks (IDAT, and fdAT in the first frame of an animated PNG):
  :data:`MAX_PNG_DATA_CHUNKS` (50,000). Encoders split the compressed pixels into chunks of 8 KB
  (libpng's default) to 64 KB, or at worst one chunk a row; a 40-megapixel picture of 16-bit RGBA
  noise is 320 MB of data, 39,000 chunks of 8 KB, and a picture within ``MAX_SIDE`` has at most
  20,000 rows. So any PNG the pixel limit lets through passes: a 40 MB PNG of 8 KB chunks has 5,000.
* EXIF: :data:`MAX_EXIF_BYTES` (64 KB), eXIf chunks and the hexadecimal ``Raw profile type exif``
  text that ImageMagick writes (which Pillow reads as EXIF too) together. A camera's EXIF lives in a
  JPEG APP1 segment, which cannot be larger than 64 KB, and a PNG made from a photo copies it; the
  cost grows with the tags, and 64 KB holds at most 5,500 of them.
* Text (tEXt, zTXt, iTXt), as Pillow holds it, compressed text inflated: :data:`MAX_TEXT_BYTES`
  (4 MB). A photo's XMP and EXIF fit in a JPEG's 64 KB segments; an image editor's XMP history or an
  image generator's settings take tens or hundreds of KB. Inflating stops at the bound, so a zTXt
  chunk that inflates 1,000-fold costs the walk no more than 4 MB of output.
* GIF blocks before the first picture: :data:`MAX_GIF_BLOCKS` (1,000) extension blocks (graphic
  control, comment, application: a real GIF has at most a handful before its first frame) and
  stray bytes between blocks (Pillow skips them one by one), and :data:`MAX_GIF_SUB_BLOCKS`
  (20,000) data sub-blocks inside those extensions (an ICC profile of 1 MB is 4,000; XMP, stored so
  that each of its bytes reads as a sub-block length, about one per 90 bytes of XMP).

Only what Pillow reads to decode the first frame is walked, because that is all moodtape decodes:
a PNG up to IEND (an animated one up to its second frame's fcTL, where Pillow stops), a GIF up to
its first picture (the picture's own data is decoded in C, and later frames are never read). So
a GIF of 5,000 frames or an APNG of 200 passes, and walking costs at most a few milliseconds:
each PNG chunk is skipped by its length, and a run of stray GIF bytes with one search in C.

A file whose structure cannot be followed (cut short, a chunk type that is not four letters) is
left to the decoder, which reports the damage in its own way; the walk counts what comes before
the damage, as Pillow would have read it.
"""

from __future__ import annotations

import contextlib
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Final

#: Most PNG chunks besides pixel data (IDAT, fdAT); a photo has about 10. Pillow: ~15 ms at the bound.
MAX_PNG_CHUNKS: Final = 1_000
#: Most PNG pixel-data chunks; 39,000 hold 40 megapixels of 16-bit RGBA noise. Pillow: ~0.4 s at the bound.
MAX_PNG_DATA_CHUNKS: Final = 50_000
#: Most EXIF bytes in a PNG: what a JPEG's APP1 segment can hold. Pillow: ~0.1 s for the most tags it fits.
MAX_EXIF_BYTES: Final = 64 * 1024
#: Most text bytes in a PNG (inflated). Pillow: ~35 ms to read them.
MAX_TEXT_BYTES: Final = 4 * 1024 * 1024
#: Most GIF extension blocks and stray bytes before the first picture. Pillow: ~3 ms at the bound.
MAX_GIF_BLOCKS: Final = 1_000
#: Most data sub-blocks in a GIF's extensions before the first picture. Pillow: ~15 ms at the bound.
MAX_GIF_SUB_BLOCKS: Final = 20_000

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_GIF_SIGNATURES: Final = (b"GIF87a", b"GIF89a")
#: A chunk type as Pillow accepts it (``PngImagePlugin.is_cid``); anything else stops its reading.
_CHUNK_TYPE: Final = re.compile(rb"\w\w\w\w")
_PIXEL_DATA: Final = frozenset({b"IDAT", b"fdAT"})
#: A chunk's length and type.
_CHUNK_HEAD: Final = struct.Struct(">I4s")
_TEXT: Final = frozenset({b"tEXt", b"zTXt", b"iTXt"})
#: The text keyword whose value Pillow reads as EXIF, in hexadecimal (``Image.getexif``).
_RAW_EXIF: Final = b"Raw profile type exif"
#: What Pillow looks for between a GIF's blocks: an extension, a picture, the trailer.
_GIF_BLOCK_START: Final = re.compile(rb"[!,;]")


@dataclass(frozen=True)
class PngStructure:
    """What a PNG holds before its pixels are decoded (counted up to the bounds, then stopped)."""

    chunks: int
    data_chunks: int
    exif_bytes: int
    text_bytes: int


@dataclass(frozen=True)
class GifStructure:
    """What a GIF holds before its first picture (counted up to the bounds, then stopped)."""

    blocks: int
    sub_blocks: int


def is_png(data: bytes) -> bool:
    return data[:8] == _PNG_SIGNATURE


def is_gif(data: bytes) -> bool:
    return data[:6] in _GIF_SIGNATURES


def png_structure(data: bytes) -> PngStructure:
    """Count the chunks, pixel-data chunks, EXIF and text bytes of ``data`` (a PNG), as Pillow reads
    them to decode the first frame, stopping as soon as a bound is passed."""
    position, size = len(_PNG_SIGNATURE), len(data)
    chunks = data_chunks = exif_bytes = text_bytes = 0
    frames: int | None = None  # acTL's frame count, as Pillow keeps it
    framed = False  # an fcTL came before the first pixel data: the IDAT is a frame, not a default image
    animated: bool | None = None  # decided at the first pixel data, as Pillow decides it
    head = _CHUNK_HEAD.unpack_from
    while position + 8 <= size:
        length, kind = head(data, position)
        start = position + 8
        end = start + length
        position = end + 4  # the CRC
        if kind in _PIXEL_DATA:  # first: most of a big PNG's chunks, walked with the least work
            if animated is None:
                # PngImageFile: n_frames is acTL's count, + 1 when the IDAT is a default image outside the animation
                default_image = frames is not None and not framed
                animated = (frames or 1) + int(default_image) > 1
            data_chunks += 1
            if data_chunks > MAX_PNG_DATA_CHUNKS:
                break
            continue
        if kind == b"IEND" or not _CHUNK_TYPE.match(kind):
            break  # the end, or damage: Pillow stops (or fails) here too
        if kind == b"fcTL":
            if animated:
                break  # the second frame starts: Pillow stops reading here
            if animated is None:
                framed = True
        elif kind == b"acTL" and animated is None and end - start >= 8:
            count = int.from_bytes(data[start : start + 4], "big")
            frames = None if frames is not None else count if 0 < count <= 0x8000_0000 else None
        elif kind == b"eXIf":
            exif_bytes += min(end, size) - start
        elif kind in _TEXT:
            keyword, text = _png_text(kind, data[start:end], MAX_TEXT_BYTES - text_bytes + 1)
            text_bytes += len(keyword) + len(text)
            if keyword == _RAW_EXIF:  # hexadecimal, in lines
                exif_bytes += (len(text) - text.count(b"\n")) // 2
        chunks += 1
        if chunks > MAX_PNG_CHUNKS or exif_bytes > MAX_EXIF_BYTES or text_bytes > MAX_TEXT_BYTES:
            break
    return PngStructure(chunks, data_chunks, exif_bytes, text_bytes)


def _png_text(kind: bytes, body: bytes, limit: int) -> tuple[bytes, bytes]:
    """The keyword and the text of a tEXt, zTXt or iTXt chunk, the text inflated to at most ``limit`` bytes.

    Parsed as loosely as Pillow parses it: whatever Pillow would not inflate counts as stored.
    """
    keyword, _, rest = body.partition(b"\0")
    compressed = False
    if kind == b"zTXt":
        compressed, rest = rest[:1] == b"\0", rest[1:]
    elif kind == b"iTXt":
        flag, method, rest = rest[:1], rest[1:2], rest[2:]
        compressed = flag not in {b"", b"\0"} and method == b"\0"
        rest = rest.split(b"\0", 2)[-1]  # after the language tag and the translated keyword
    if compressed:
        with contextlib.suppress(zlib.error):  # Pillow keeps nothing of it either; count what is stored
            rest = zlib.decompressobj().decompress(rest, limit)
    return keyword, rest


def gif_structure(data: bytes) -> GifStructure:
    """Count the extension blocks (and stray bytes) and their sub-blocks before the first picture of
    ``data`` (a GIF), as Pillow reads them, stopping as soon as a bound is passed."""
    size = len(data)
    if size < 13:
        return GifStructure(0, 0)
    flags = data[10]
    position = 13 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)  # after the global palette
    blocks = sub_blocks = 0
    while position < size and blocks <= MAX_GIF_BLOCKS and sub_blocks <= MAX_GIF_SUB_BLOCKS:
        introducer = data[position]
        if introducer in b",;":
            break  # the first picture (decoded in C) or the trailer
        if introducer != 0x21:  # "!": anything else is a stray byte, which Pillow skips one by one
            found = _GIF_BLOCK_START.search(data, position)
            stray = (found.start() if found else size) - position
            blocks += stray
            position += stray
            continue
        blocks += 1
        position += 2  # "!" and the extension's label
        while position < size:  # sub-blocks: a length byte, then that many bytes; 0 ends them
            length = data[position]
            position += 1 + length
            if not length:
                break
            sub_blocks += 1
            if sub_blocks > MAX_GIF_SUB_BLOCKS:
                break
    return GifStructure(blocks, sub_blocks)
