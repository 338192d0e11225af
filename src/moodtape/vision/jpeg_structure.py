"""A cheap walk over a JPEG's markers, before any pixel is decoded: refuse files built to be slow.

The pixel limit bounds what a picture *holds*, not what it *costs*. A progressive JPEG is decoded
scan by scan, and each scan costs a pass over the whole image, however few bytes it takes: a
200 KB file of one megapixel with 20,000 empty scans held a request thread for over 5 s of CPU,
and a 10 MB one would hold it for many minutes. A million empty comment segments (4 MB) cost
seconds too, because Pillow reads every segment in Python. Cameras and encoders write a few
dozen segments and at most a few dozen scans (libjpeg's progressive mode: 10), so the bounds here
are far above any real photo and far below any costly file.

Only the markers are walked, by their lengths; the entropy-coded data between them is skipped
with one search in C. A file whose structure cannot be followed is left to the decoder, which
reports the damage in its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: Most scans a JPEG may have; a progressive photo has about 10, rarely more than 30.
MAX_SCANS: Final = 100
#: Most marker segments (tables, APPn, comments, scans…); real photos have a few dozen.
MAX_SEGMENTS: Final = 1_000

_SOI: Final = b"\xff\xd8"
_SOS: Final = 0xDA
_EOI: Final = 0xD9
#: The next marker after entropy-coded data: 0xFF, then neither a stuffed zero, a restart
#: marker (RST0–7), nor another 0xFF (fill).
_NEXT_MARKER: Final = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")


@dataclass(frozen=True)
class JpegStructure:
    """How many marker segments and scans a JPEG has (counted up to the bounds, then stopped)."""

    segments: int
    scans: int


def is_jpeg(data: bytes) -> bool:
    return data[:2] == _SOI


def jpeg_structure(data: bytes) -> JpegStructure:
    """Count the segments and scans of ``data`` (a JPEG), stopping as soon as a bound is passed."""
    position, segments, scans = 2, 0, 0
    size = len(data)
    while position + 4 <= size and segments <= MAX_SEGMENTS and scans <= MAX_SCANS:
        if data[position] != 0xFF:
            break  # not where a marker must be: damaged, the decoder will say so
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == _EOI:
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        segments += 1
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == _SOS:
            scans += 1
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                break
            position = found.start()
    return JpegStructure(segments, scans)
