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
from moodtape.vision.grouping import HitGroup, cluster_hits, drop_nested

CASCADE_FILE = "haarcascade_frontalface_default.xml"
AREA_AVERAGE_BELOW = 1 / 3  # shrinking harder than this uses area averaging (see _shrink)


@dataclass(frozen=True)
class DetectorSettings:
    """How the Haar cascade searches.

    Attributes:
        min_face: smallest face to find, in input pixels.
        max_face: largest face to find, in input pixels (``None``: no limit).
        min_face_detect: the detection copy is shrunk so that ``min_face`` becomes this many pixels
            (never enlarged). Lower is faster; below ~30 px the cascade starts missing faces.
        scale_factor: step between the cascade's search scales (1.1 = 10 %); larger is faster.
        min_neighbors: a face needs more than this many overlapping cascade hits (OpenCV's meaning),
            unless ``weak_group_step`` lets a confident score make up for missing ones; higher means
            fewer false faces.
        min_weight: the group's best score from the cascade's last stage must reach this (a spacesuit
            patch in the astronaut photo scored 0.7; true faces mostly 2–10, small ones near 1.4).
        weak_group_step: groups with too few hits still count as faces when their score is high
            enough: each hit missing below ``min_neighbors + 1`` raises the score they need by this
            much, down to groups of two hits. Neighbours and score are two kinds of evidence; a face
            seen by the cascade only a few times but with a confident score is usually a face. On
            two sets of benchmark scenes 0.5 found 3.6 and 2.9 points more faces than plain grouping;
            on 69 real photos (only the astronaut's has a face) it added 4 false faces to 9.
            ``None`` turns it off: plain OpenCV grouping.
        equalize: equalise the histogram first, which helps in dim or flat light.
        overlap: boxes overlapping more than this (intersection over the smaller box) are merged,
            keeping the one with the higher score.
    """

    min_face: int = 80
    max_face: int | None = None
    min_face_detect: int = 32
    scale_factor: float = 1.1
    min_neighbors: int = 3
    min_weight: float = 1.0
    weak_group_step: float | None = 0.5
    equalize: bool = False
    overlap: float = 0.5

    def __post_init__(self) -> None:
        if self.min_face < 20 or self.min_face_detect < 20:
            raise ValueError("min_face and min_face_detect must be at least 20 pixels (the cascade's window is 24)")
        if self.scale_factor <= 1.0:
            raise ValueError("scale_factor must be greater than 1")
        if self.min_neighbors < 0 or not 0 < self.overlap <= 1:
            raise ValueError("min_neighbors must be ≥ 0 and overlap in (0, 1]")
        if self.weak_group_step is not None and self.weak_group_step < 0:
            raise ValueError("weak_group_step must be ≥ 0 (or None to turn it off)")

    def accepts(self, hits: int, score: float) -> bool:
        """Whether a group of ``hits`` overlapping cascade hits with this best ``score`` is a face."""
        missing = max(0, self.min_neighbors + 1 - hits)
        if missing and (self.weak_group_step is None or hits < 2):
            return False  # a lone hit is never a face unless min_neighbors is 0
        return score >= self.min_weight + missing * (self.weak_group_step or 0.0)


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
        small: npt.NDArray[Any] = gray if scale == 1.0 else _shrink(gray, scale)
        if settings.equalize:
            small = cv2.equalizeHist(small)
        max_size = (round(settings.max_face * scale),) * 2 if settings.max_face else None
        hits, _, weights = self._cascade().detectMultiScale3(
            small,
            scaleFactor=settings.scale_factor,
            minNeighbors=0,  # raw hits: we group them ourselves, weighing hits against score
            minSize=(min_size, min_size),
            maxSize=max_size or (0, 0),
            outputRejectLevels=True,
        )
        rows, scores = np.asarray(hits).reshape(-1, 4), np.asarray(weights, dtype=np.float64).reshape(-1)
        kept = [
            (group.box, group.score)
            for group in self._groups(rows, scores)
            if settings.accepts(group.hits, group.score)
        ]
        boxes = [_scale_box(box, 1.0 / scale, gray.shape) for box, _ in kept]
        return suppress_overlaps(boxes, settings.overlap, scores=[score for _, score in kept])

    def _groups(self, rows: npt.NDArray[np.integer[Any]], scores: npt.NDArray[np.float64]) -> list[HitGroup]:
        """The hits grouped as OpenCV groups them, nesting judged among the groups that may be faces."""
        settings = self.settings
        if settings.min_neighbors == 0:  # every hit stands alone, as in OpenCV
            return [
                HitGroup((int(x), int(y), int(w), int(h)), 1, float(v))
                for (x, y, w, h), v in zip(rows, scores, strict=True)
            ]
        candidates = [
            group
            for group in cluster_hits(rows, scores)
            if group.hits > settings.min_neighbors or settings.accepts(group.hits, group.score)
        ]
        return drop_nested(candidates)


def _shrink(gray: npt.NDArray[np.uint8], scale: float) -> npt.NDArray[np.uint8]:
    """The detection copy. Bilinear is about 4× faster than area averaging (0.06 vs 0.25 ms for a
    640×480 frame at the default 0.4) and found the same faces on both benchmark scene sets; below
    1/3 it would skip pixels and alias, so large photos shrunk harder are area-averaged."""
    interpolation = cv2.INTER_LINEAR if scale >= AREA_AVERAGE_BELOW else cv2.INTER_AREA
    return scaled(gray, scale, interpolation)


def scaled(gray: npt.NDArray[np.uint8], scale: float, interpolation: int) -> npt.NDArray[np.uint8]:
    """``gray`` resized by ``scale``, each side kept at least one pixel.

    ``cv2.resize`` by a factor rounds a side of a pixel or two to 0 and raises: a 1×2,000 strip (a
    border, a barcode) was a bare ``cv2.error`` from ``moodtape.analyze`` and a 500 on the web. Other
    sizes are resized by the factor itself, as before, so the boxes mapped back stay where they were.
    """
    height, width = gray.shape[:2]
    if round(width * scale) >= 1 and round(height * scale) >= 1:
        return np.asarray(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interpolation))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=interpolation))


def _scale_box(box: tuple[int, int, int, int], factor: float, shape: tuple[int, ...]) -> Box:
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


def suppress_overlaps(boxes: list[Box], threshold: float, scores: list[float] | None = None) -> list[Box]:
    """Greedy suppression: drop any box overlapping a kept one by more than ``threshold``.

    With ``scores`` the most confident box of an overlapping pair wins, otherwise the larger one.
    Confidence is the better judge: when the cascade fires on a face and on a patch around it, the
    larger box is usually the misframed one (on generated scenes, score order kept the same faces
    with 2 fewer false boxes out of 300 frames). Either way the kept boxes come back largest first.
    """
    priority = scores if scores is not None else [float(b.w * b.h) for b in boxes]
    if len(priority) != len(boxes):
        raise ValueError("suppress_overlaps needs one score per box")
    kept: list[Box] = []
    for _, box in sorted(zip(priority, boxes, strict=True), key=lambda pair: pair[0], reverse=True):
        if all(overlap_ratio(box, other) <= threshold for other in kept):
            kept.append(box)
    return sorted(kept, key=lambda b: b.w * b.h, reverse=True)
