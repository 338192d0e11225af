"""Cropping a detected face the way FER2013 frames its faces.

The classifier learned from FER2013's 48×48 crops, so it is most accurate when a live face is cut
out the same way. ``Framing`` turns a detector box into a square crop: its side is the box's
longer side times ``scale`` and its centre moves down by ``shift`` box heights. The defaults come
from measurements on generated scenes (docs/benchmarks.md, "Face framing").

Where the square runs off the photo (a face cut by its edge), the missing part is the photo mirrored
about that edge (OpenCV's ``BORDER_REFLECT_101``): a face cut by a side edge gets its other half
back, near enough. Every crop the emotion model reads is filled so since session 26: this upright
crop (the server's, for every face found in the photo as it is), the page's on-device crop
(``cropSquare`` in ``imaging.js``, byte for byte the same) and the levelled crop of
:func:`moodtape.vision.align.aligned_crop` (faces found only in a turned copy, and every face when
``Analyzer.align`` is on). Yale's photos cut so that 30 % of the face's square lies beyond the
left, right, top or bottom edge were read right 69.6 % of the time with the edge row repeated (as
before), 76.1 % mirrored, 79.1 % filled black, 78.2 % mid-gray; cut 10 %: 85.4, 85.1, 82.3, 83.8 %
(``benchmarks.edge_and_dim --sides``; docs/benchmarks.md, "Faces cut by the photo's edge").
"""

from __future__ import annotations

from dataclasses import dataclass

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
        """A square crop around ``box``; parts outside the image are the image mirrored about its edge."""
        side = max(1, round(max(box.w, box.h) * self.scale))
        cx = box.x + box.w / 2
        cy = box.y + box.h / 2 + self.shift * box.h
        left, top = round(cx - side / 2), round(cy - side / 2)
        height, width = image.shape[:2]
        if left >= 0 and top >= 0 and left + side <= width and top + side <= height:
            return np.ascontiguousarray(image[top : top + side, left : left + side])
        rows = mirrored(np.arange(top, top + side), height)
        columns = mirrored(np.arange(left, left + side), width)
        return as_pixels(np.ascontiguousarray(image[np.ix_(rows, columns)]))


def mirrored(indices: npt.NDArray[np.int_], length: int) -> npt.NDArray[np.int_]:
    """``indices`` into a row of ``length`` pixels, those outside it mirrored about its ends without
    repeating the end pixel (``-1`` → ``1``, ``length`` → ``length - 2``), as OpenCV's
    ``BORDER_REFLECT_101`` and the page's on-device crop (``imaging.js``) take them, however far out."""
    if length == 1:
        return np.zeros_like(indices)
    period = 2 * (length - 1)
    folded = np.mod(indices, period)
    return np.where(folded < length, folded, period - folded)
