"""Cropping a detected face the way FER2013 frames its faces.

The classifier learned from FER2013's 48×48 crops, so it is most accurate when a live face is cut
out the same way. ``Framing`` turns a detector box into a square crop: its side is the box's
longer side times ``scale`` and its centre moves down by ``shift`` box heights. The defaults come
from measurements on generated scenes (docs/benchmarks.md, "Face framing").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.pixel_arrays import as_pixels


@dataclass(frozen=True)
class Framing:
    """How to grow or move a detector box into the crop the classifier sees."""

    scale: float = 1.0
    shift: float = 0.0

    def __post_init__(self) -> None:
        if not 0.5 <= self.scale <= 2.0 or not -0.5 <= self.shift <= 0.5:
            raise ValueError("framing scale must lie in [0.5, 2] and shift in [-0.5, 0.5]")

    def crop(self, image: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.uint8]:
        """A square crop around ``box``; parts outside the image are filled by edge replication."""
        side = max(1, round(max(box.w, box.h) * self.scale))
        cx = box.x + box.w / 2
        cy = box.y + box.h / 2 + self.shift * box.h
        left, top = round(cx - side / 2), round(cy - side / 2)
        height, width = image.shape[:2]
        inside = image[max(0, top) : min(height, top + side), max(0, left) : min(width, left + side)]
        pad = (max(0, -top), max(0, top + side - height), max(0, -left), max(0, left + side - width))
        if any(pad):
            inside = as_pixels(cv2.copyMakeBorder(inside, *pad, borderType=cv2.BORDER_REPLICATE))
        return np.ascontiguousarray(inside)
