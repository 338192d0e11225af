"""Face detection with OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``).

Speed comes from where the cascade runs: a full-resolution 640×480 frame costs about 28 ms, but
the cascade needs only ~24 px across a face, so we detect on a copy shrunk until the smallest face
we look for is ``min_face_detect`` pixels wide, then map the boxes back. ``DetectorSettings``
holds the knobs; the defaults were chosen on generated scenes (see docs/benchmarks.md).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.errors import ModelError
from moodtape.types import Box

CASCADE_FILE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class DetectorSettings:
    """How the Haar cascade searches.

    Attributes:
        min_face: smallest face to find, in input pixels.
        max_face: largest face to find, in input pixels (``None``: no limit).
        min_face_detect: the detection copy is shrunk so that ``min_face`` becomes this many pixels
            (never enlarged). Lower is faster; below ~30 px the cascade starts missing faces.
        scale_factor: step between the cascade's search scales (1.1 = 10 %); larger is faster.
        min_neighbors: overlapping hits needed to accept a face; higher means fewer false faces.
        min_weight: a detection's score from the cascade's last stage must reach this. With a low
            ``min_neighbors`` it drops weak false hits that neighbours alone let through (a spacesuit
            patch in the astronaut photo scored 0.7; true faces mostly 2–10, small ones near 1.4).
        equalize: equalise the histogram first, which helps in dim or flat light.
        overlap: boxes overlapping more than this (intersection over the smaller box) are merged,
            keeping the larger.
    """

    min_face: int = 80
    max_face: int | None = None
    min_face_detect: int = 32
    scale_factor: float = 1.1
    min_neighbors: int = 3
    min_weight: float = 1.0
    equalize: bool = False
    overlap: float = 0.5

    def __post_init__(self) -> None:
        if self.min_face < 20 or self.min_face_detect < 20:
            raise ValueError("min_face and min_face_detect must be at least 20 pixels (the cascade's window is 24)")
        if self.scale_factor <= 1.0:
            raise ValueError("scale_factor must be greater than 1")
        if self.min_neighbors < 0 or not 0 < self.overlap <= 1:
            raise ValueError("min_neighbors must be ≥ 0 and overlap in (0, 1]")


def cascade_folder() -> Path:
    """Where opencv-python(-headless) 4.x keeps its cascade XML files (``cv2.data.haarcascades``)."""
    return Path(cv2.__file__).parent / "data"


class FaceDetector:
    """Finds faces in gray images; boxes come back in input pixels, largest first. Thread-safe.

    OpenCV's ``CascadeClassifier`` keeps scratch buffers inside itself, so two threads detecting
    with one classifier corrupt each other's results; each thread therefore gets its own copy,
    loaded on its first call (about 15 ms).
    """

    def __init__(self, settings: DetectorSettings | None = None, cascade_path: str | Path | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self._path = Path(cascade_path) if cascade_path else cascade_folder() / CASCADE_FILE
        self._local = threading.local()
        self._cascade()  # fail now, not on the first frame, when the file is missing

    def _cascade(self) -> Any:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(str(self._path))
            if cascade.empty():
                raise ModelError(f"cannot load the Haar cascade {self._path}; is opencv-python-headless 4.x installed?")
            self._local.cascade = cascade
        return cascade

    def detect(self, gray: npt.NDArray[np.uint8]) -> list[Box]:
        """Faces in a ``(h, w)`` uint8 image, largest first, overlaps merged."""
        if gray.ndim != 2:
            raise ValueError(f"detect() needs a gray (h, w) image, got shape {gray.shape}")
        settings = self.settings
        scale = min(1.0, settings.min_face_detect / settings.min_face)
        min_size = max(20, round(settings.min_face * scale))
        if min(gray.shape) * scale < min_size:
            return []  # too small to hold a face we look for (and OpenCV refuses a 0-pixel resize)
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if settings.equalize:
            small = cv2.equalizeHist(small)
        max_size = (round(settings.max_face * scale),) * 2 if settings.max_face else None
        found, _, weights = self._cascade().detectMultiScale3(
            small,
            scaleFactor=settings.scale_factor,
            minNeighbors=settings.min_neighbors,
            minSize=(min_size, min_size),
            maxSize=max_size or (0, 0),
            outputRejectLevels=True,
        )
        rows = np.asarray(found).reshape(-1, 4)
        strong = np.asarray(weights, dtype=np.float64).reshape(-1) >= settings.min_weight
        boxes = [_scale_box(tuple(int(v) for v in row), 1.0 / scale, gray.shape) for row in rows[strong]]
        return suppress_overlaps(boxes, settings.overlap)


def _scale_box(box: tuple[int, ...], factor: float, shape: tuple[int, ...]) -> Box:
    x, y, w, h = (v * factor for v in box)
    height, width = shape[:2]
    left, top = max(0, round(x)), max(0, round(y))
    right, bottom = min(width, round(x + w)), min(height, round(y + h))
    return Box(left, top, right - left, bottom - top)


def overlap_ratio(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area: 1.0 when one box lies inside the other."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    smaller = min(a.w * a.h, b.w * b.h)
    return ix * iy / smaller if smaller else 0.0


def suppress_overlaps(boxes: list[Box], threshold: float) -> list[Box]:
    """Greedy suppression, largest first: drop any box overlapping a kept one by more than ``threshold``."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.w * b.h, reverse=True):
        if all(overlap_ratio(box, other) <= threshold for other in kept):
            kept.append(box)
    return kept
