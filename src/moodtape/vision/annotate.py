"""Drawing faces and their emotions onto an image, for ``moodtape analyze --out``."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Face
from moodtape.vision.pixel_arrays import as_pixels

_GREEN = (90, 200, 60)
_GREY = (160, 160, 160)


def annotate(image: npt.NDArray[np.uint8], faces: list[Face]) -> npt.NDArray[np.uint8]:
    """A BGR copy of ``image`` with each face boxed and labelled (grey when uncertain)."""
    canvas = as_pixels(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)) if image.ndim == 2 else image.copy()
    thickness = max(2, round(max(canvas.shape[:2]) / 400))
    font_scale = max(0.5, max(canvas.shape[:2]) / 1200)
    for face in faces:
        x, y, w, h = face.box
        colour = _GREY if face.uncertain else _GREEN
        cv2.rectangle(canvas, (x, y), (x + w, y + h), colour, thickness)
        text = "uncertain" if face.uncertain else f"{face.emotion} {face.confidence:.0%}"
        (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        top = max(0, y - th - baseline - 4)
        cv2.rectangle(canvas, (x, top), (x + tw + 6, top + th + baseline + 4), colour, -1)
        cv2.putText(canvas, text, (x + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness)
    return canvas
