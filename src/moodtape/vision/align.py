"""Roll alignment: level the eyes before classifying.

FER2013's faces were registered roughly upright, so a head tilted by 20° is a face the classifier
saw little of (the robustness suite's rotation conditions show what that costs). With YuNet's
landmarks the crop can be cut along the face's own axes instead: rotated about the FER-framed
centre by the angle of the line through the eyes, so the classifier sees an upright face.

Where the levelled square runs off the photo, the missing part is the photo mirrored about its
edge (OpenCV's ``BORDER_REFLECT_101``), as :meth:`Framing.crop <moodtape.vision.framing.Framing.crop>`
fills an upright crop; see :data:`EDGE_FILL` for what that was measured to change.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.framing import Framing
from moodtape.vision.yunet import Landmarks

#: Below this roll (degrees) the crop is cut upright: rotating costs an interpolation and gains nothing.
MIN_ROLL = 3.0
#: How the part of the levelled square beyond the photo is filled: mirrored about the edge without
#: repeating the edge pixel, as ``Framing.crop`` does, rather than that pixel repeated (until session
#: 26). Yale's photos cut by an edge through 10 · 30 · 50 % of the face's square, then turned by 90°
#: or 270° (the face found in a quarter-turned copy and levelled here): read right 71.3 → 71.9 %,
#: 63.9 → 70.3 %, 21.4 → 21.0 %; left upright and read with ``align=True``: 84.3 → 84.7 %,
#: 75.6 → 75.7 %, 54.7 → 52.8 % (``benchmarks.edge_and_dim --aligned``; docs/benchmarks.md).
EDGE_FILL = cv2.BORDER_REFLECT_101


def aligned_crop(gray: npt.NDArray[np.uint8], face: Landmarks, min_roll: float = MIN_ROLL) -> npt.NDArray[np.uint8]:
    """The FER-framed square around ``face``, rotated so that its eyes are level; the part beyond the
    photo mirrored about its edge (:data:`EDGE_FILL`)."""
    cx, cy, side_f = face.fer_centre_and_side()
    side = max(1, round(side_f))
    roll = face.roll_degrees
    if abs(roll) < min_roll:
        return Framing().crop(gray, Box(round(cx - side / 2), round(cy - side / 2), side, side))
    matrix = np.asarray(cv2.getRotationMatrix2D((cx, cy), roll, 1.0), np.float64)
    matrix[:, 2] += np.array([side / 2 - cx, side / 2 - cy])
    crop = cv2.warpAffine(gray, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=EDGE_FILL)
    return np.ascontiguousarray(crop, dtype=np.uint8)
