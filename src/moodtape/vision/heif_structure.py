"""What an AVIF or HEIC picture's header says, read from its ISO-BMFF boxes without any decoder.

Both formats are ISO-BMFF files: an ``ftyp`` box whose brands name the codec, a ``meta`` box whose
item properties (``iprp`` → ``ipco``) hold each image's size in an ``ispe`` box, and for an image
sequence (AVIF ``avis``) a ``moov`` box whose tracks (``tkhd``) hold theirs.

The sizes are read here, not from Pillow, because the decoders do not say them in a way we can act
on: libavif refuses a 60,000 × 60,000 ``ispe`` with a bare "cannot identify image file", which read
as a damaged picture rather than one too large. Only the boxes on the path to a size are entered
(never ``mdat``, the pixels), and at most :data:`MAX_BOXES` are looked at, so the walk costs
microseconds whatever the file holds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

HeifKind = Literal["avif", "heic"]

#: Brands that name the codec: AV1 (AVIF) or HEVC (HEIC, an iPhone's photos).
AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
#: Brands of the HEIF container alone: the compatible brands then say which codec.
_CONTAINER_BRANDS: Final = frozenset({b"mif1", b"msf1", b"miaf"})
#: How much of the ``ftyp`` box is read for compatible brands: libavif reads all of it, and an AVIF
#: whose ``avif`` brand came after byte 256 passed for a HEIC (review). A real one is under 40 bytes.
MAX_FTYP_BYTES: Final = 64 * 1024
#: Boxes looked at in one file: a phone's HEIC has about a hundred (most of them its tiles'
#: properties); past this the file is refused rather than walked (or handed to libheif) further.
MAX_BOXES: Final = 4096
#: Containers entered on the way to a size; ``meta`` is a "full box" (4 more bytes before its children).
_PATHS: Final = {b"meta": 4, b"iprp": 0, b"ipco": 0, b"moov": 0, b"trak": 0}
#: How deep containers are entered: a size lies at depth 3 (``meta`` → ``iprp`` → ``ipco`` → ``ispe``,
#: ``moov`` → ``trak`` → ``tkhd``). Deeper nesting is not walked: a thousand nested ``iprp`` boxes,
#: 9.6 KB, ran the walk into Python's recursion limit (a 500 on the web, found in review).
MAX_DEPTH: Final = 8
#: Where a ``tkhd`` box's width and height (16.16 fixed point) lie in its payload: after version 0's
#: 32-bit times and duration, or version 1's 64-bit ones.
_TKHD_SIZE_AT: Final = {0: 76, 1: 88}


@dataclass
class HeifStructure:
    """``kind``: the codec the brands name; ``sizes``: every ``(width, height)`` the header declares
    (the primary image, its tiles, thumbnails, depth or gain maps, a sequence's tracks);
    ``boxes``: boxes looked at (stops counting at ``MAX_BOXES + 1``)."""

    kind: HeifKind
    sizes: list[tuple[int, int]] = field(default_factory=list)
    boxes: int = 0


def heif_kind(data: bytes) -> HeifKind | None:
    """``"avif"`` or ``"heic"`` when ``data`` starts with such a picture's ``ftyp`` box, else None.

    An MP4 video's brands (``isom``, ``mp41``, ``mp42``...) are neither. A container brand
    (``mif1``) with no codec brand among the compatible ones is taken for HEIC, the HEIF default.
    """
    if data[4:8] != b"ftyp" or len(data) < 12:
        return None
    major = data[8:12]
    if major in AVIF_BRANDS:
        return "avif"
    if major in HEIC_BRANDS:
        return "heic"
    if major not in _CONTAINER_BRANDS:
        return None
    size = int.from_bytes(data[0:4], "big")
    compatible = data[16 : min(max(size, 16), MAX_FTYP_BYTES)]
    brands = {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}
    return "avif" if brands & AVIF_BRANDS else "heic"


def heif_structure(data: bytes) -> HeifStructure | None:
    """The kind and the declared sizes of an AVIF or HEIC picture; None for any other file."""
    kind = heif_kind(data)
    if kind is None:
        return None
    structure = HeifStructure(kind)
    _collect_sizes(data, 0, len(data), structure)
    return structure


def _collect_sizes(data: bytes, start: int, end: int, structure: HeifStructure, depth: int = 0) -> None:
    for kind, payload, box_end in _boxes(data, start, end, structure):
        if kind in _PATHS and depth < MAX_DEPTH:
            _collect_sizes(data, payload + _PATHS[kind], box_end, structure, depth + 1)
        elif kind == b"ispe" and box_end - payload >= 12:  # version and flags, then width, height
            structure.sizes.append(struct.unpack_from(">II", data, payload + 4))
        elif kind == b"tkhd" and (track := _track_size(data, payload, box_end)) is not None:
            structure.sizes.append(track)


def _track_size(data: bytes, payload: int, end: int) -> tuple[int, int] | None:
    """A ``tkhd`` box's width and height in whole pixels; None for a box too short or of an unknown version."""
    size_at = _TKHD_SIZE_AT.get(data[payload]) if payload < end else None
    if size_at is None or end - payload < size_at + 8:
        return None
    width, height = struct.unpack_from(">II", data, payload + size_at)
    return width >> 16, height >> 16


def _boxes(data: bytes, start: int, end: int, structure: HeifStructure) -> Iterator[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of each box in ``data[start:end]``; stops at a malformed one
    (the decoder then says what is wrong) or past :data:`MAX_BOXES` in the whole file."""
    position = start
    while position + 8 <= end and structure.boxes <= MAX_BOXES:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1 and position + 16 <= end:  # a 64-bit size follows the type
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:  # the box runs to the end of its container
            size = end - position
        if size < header or position + size > end:
            return
        structure.boxes += 1
        yield kind, position + header, position + size
        position += size
