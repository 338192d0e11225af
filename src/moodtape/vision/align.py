"""Roll alignment: level the eyes before classifying.

FER2013's faces were registered roughly upright, so a head tilted by 20° is a face the classifier
saw little of (the robustness suite's rotation conditions show what that costs). With YuNet's
landmarks the crop can be cut along the face's own axes instead: rotated about the FER-framed
centre by the angle of the line through the eyes, so the classifier sees an upright face.
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


def aligned_crop(gray: npt.NDArray[np.uint8], face: Landmarks, min_roll: float = MIN_ROLL) -> npt.NDArray[np.uint8]:
    """The FER-framed square around ``face``, rotated so that its eyes are level; borders replicated."""
    cx, cy, side_f = face.fer_centre_and_side()
    side = max(1, round(side_f))
    roll = face.roll_degrees
    if abs(roll) < min_roll:
        return Framing().crop(gray, Box(round(cx - side / 2), round(cy - side / 2), side, side))
    matrix = np.asarray(cv2.getRotationMatrix2D((cx, cy), roll, 1.0), np.float64)
    matrix[:, 2] += np.array([side / 2 - cx, side / 2 - cy])
    crop = cv2.warpAffine(gray, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(crop, dtype=np.uint8)
