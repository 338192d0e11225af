"""A cheap walk over a JPEG's markers, before any pixel is decoded: refuse files built to be slow.

The pixel limit bounds what a picture *holds*, not what it *costs*. A progressive JPEG is decoded
scan by scan, and each scan costs a pass over the whole image, however few bytes it takes: a
200 KB file of one megapixel with 20,000 empty scans held a request thread for over 5 s of CPU,
and a 10 MB one would hold it for many minutes. A million empty comment segments (4 MB) cost
seconds too, because Pillow reads every segment in Python. Cameras and encoders write a few
dozen segments and at most a few dozen scans (libjpeg's progressive mode: 10), so the bounds here
are far above any real photo and far below any costly file.

Bytes between the markers before the first scan are read by Pillow one at a time too, in Python:
fill bytes (0xFF runs, which the standard allows before any marker), 0xFF 0x00 pairs and other
stray bytes. A 64-pixel JPEG padded to 9.9 MB with 0xFF before its tables held a request thread
for 40 s (8.4 s of CPU: this walk stepped over the run a byte at a time as well, and Pillow read the
header twice). Encoders write none of them, so more than :data:`MAX_STRAY_BYTES` is refused; the
runs are skipped here with one search in C each.

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
#: Most fill and stray bytes between the markers before the first scan; encoders write none.
MAX_STRAY_BYTES: Final = 16_384

_SOI: Final = b"\xff\xd8"
_SOS: Final = 0xDA
_EOI: Final = 0xD9
#: The next marker after entropy-coded data: 0xFF, then neither a stuffed zero, a restart
#: marker (RST0–7), nor another 0xFF (fill).
_NEXT_MARKER: Final = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
#: A run of fill bytes: every 0xFF but the last, which begins the marker.
_FILL: Final = re.compile(rb"\xff+")


@dataclass(frozen=True)
class JpegStructure:
    """How many marker segments and scans a JPEG has, and how many fill or stray bytes lie between
    the markers before its first scan (each counted up to its bound, then the walk stops)."""

    segments: int
    scans: int
    stray: int = 0


def is_jpeg(data: bytes) -> bool:
    return data[:2] == _SOI


def jpeg_structure(data: bytes) -> JpegStructure:
    """Count the segments, scans and stray bytes of ``data`` (a JPEG), stopping as soon as a bound is passed."""
    position, segments, scans, stray = 2, 0, 0, 0
    size = len(data)
    while position + 4 <= size and segments <= MAX_SEGMENTS and scans <= MAX_SCANS and stray <= MAX_STRAY_BYTES:
        if data[position] != 0xFF or data[position + 1] == 0x00:
            if scans:
                break  # not where a marker must be: damaged, the decoder will say so (in C)
            after = _next_ff(data, position + 1)  # Pillow steps over these a byte at a time
            stray += after - position
            position = after
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill bytes before a marker
            run = _FILL.match(data, position)
            assert run is not None  # data[position] is 0xFF
            stray += 0 if scans else run.end() - position - 1
            position = run.end() - 1
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
    return JpegStructure(segments, scans, stray)


def _next_ff(data: bytes, start: int) -> int:
    """Where the next 0xFF byte from ``start`` is, or the end of ``data``; searched in C."""
    found = data.find(b"\xff", start)
    return len(data) if found < 0 else found
