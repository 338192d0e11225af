"""A sad face and a webcam frame with two people, painted from the astronaut's smiling head.

The bundled model reads the astronaut as happy (about 0.93) however she is lit or scaled; with her
smile painted over by a frown and her brows lowered it reads her as sad (about 0.5). Two such
faces side by side have moods far apart, which tests of whose mood a stream follows need.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
#: The astronaut's head in ``skimage.data.astronaut()``, 220 × 220.
HEAD = (slice(20, 240), slice(110, 330))


def happy_head(astronaut_rgb: npt.NDArray[np.uint8]) -> Gray:
    """The astronaut's head, gray (from RGB or BGR alike: the channels' order barely matters here)."""
    return np.ascontiguousarray(cv2.cvtColor(astronaut_rgb, cv2.COLOR_RGB2GRAY)[HEAD])


def sad_head(astronaut_rgb: npt.NDArray[np.uint8]) -> Gray:
    """The head with a frown for a smile and lowered brows."""
    head = happy_head(astronaut_rgb)
    mouth_x, mouth_y, brows_y = 112, 125, 75
    head[mouth_y - 20 : mouth_y + 20, mouth_x - 35 : mouth_x + 35] = 140
    cv2.ellipse(head, (mouth_x, mouth_y + 12), (30, 14), 0, 180, 360, 40, 4)
    cv2.line(head, (mouth_x - 50, brows_y), (mouth_x - 15, brows_y + 6), 30, 5)
    cv2.line(head, (mouth_x + 50, brows_y), (mouth_x + 15, brows_y + 6), 30, 5)
    return head


def two_people(user: Gray, bystander: Gray | None, scale: float = 0.8) -> Gray:
    """A 640 × 480 webcam frame: ``user`` at 1× left of centre, ``bystander`` at ``scale`` on the right."""
    picture = np.full((480, 640), 110, np.uint8)
    for head, size, centre_x in ((user, 1.0, 220), (bystander, scale, 520)):
        if head is None:
            continue
        pasted = cv2.resize(head, None, fx=size, fy=size, interpolation=cv2.INTER_AREA)
        h, w = pasted.shape
        top, left = 240 - h // 2, centre_x - w // 2
        picture[top : top + h, left : left + w] = pasted
    return picture
