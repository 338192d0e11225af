"""Helpers shared by the vision tests: where the astronaut's face is, and box geometry."""

from __future__ import annotations

from moodtape.types import Box

#: Where the astronaut's face is in the 512×512 photo (measured once with the default detector: (173, 65, 99, 98)).
ASTRONAUT_FACE = Box(175, 65, 100, 100)
#: The part of the photo pasted into scenes: the head with some margin.
HEAD = (slice(20, 240), slice(110, 330))


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter / (a.w * a.h + b.w * b.h - inter)


def inside(box: Box, region: Box) -> bool:
    return (
        box.x >= region.x
        and box.y >= region.y
        and box.x + box.w <= region.x + region.w
        and box.y + box.h <= region.y + region.h
    )
