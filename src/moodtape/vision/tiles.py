"""Overlapping tiles that cover a picture, so a detector can search it at full resolution a piece
at a time.

A detector's time and memory grow with the pixels of its input, so :mod:`moodtape.vision.yunet`
caps the copy it searches. Small faces in a large photo vanish in that copy; searching the picture
in tiles no larger than the cap finds them, one tile at a time, so memory stays bounded by one
search of at most the cap a side whatever the picture's size. Neighbouring tiles overlap, so a face
smaller than the overlap lies whole in at least one tile; a face seen in two tiles is merged by the
detector's overlap suppression.
"""

from __future__ import annotations

import math

from moodtape.types import Box


def _spans(length: int, side: int, overlap: int) -> list[tuple[int, int]]:
    """``(start, size)`` of evenly spread spans of at most ``side`` covering ``0..length``, each
    overlapping the next by at least ``overlap`` (spans are shrunk to fit, not left hanging over)."""
    if length <= side:
        return [(0, length)]
    count = math.ceil((length - overlap) / (side - overlap))
    size = min(side, math.ceil((length + (count - 1) * overlap) / count))
    step = (length - size) / (count - 1)
    return [(round(i * step), size) for i in range(count)]


def tile_windows(shape: tuple[int, ...], side: int, overlap: int) -> list[Box]:
    """Windows of at most ``side`` × ``side`` pixels covering an image of ``shape``, row by row.

    Neighbours overlap by at least ``overlap`` pixels; together the windows hold barely more pixels
    than the image (the overlaps), which is what bounds the cost of searching them all.
    """
    if not 0 <= overlap < side:
        raise ValueError("tile overlap must be at least 0 and less than the tile's side")
    height, width = shape[:2]
    return [
        Box(left, top, tile_width, tile_height)
        for top, tile_height in _spans(height, side, overlap)
        for left, tile_width in _spans(width, side, overlap)
    ]
