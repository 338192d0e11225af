"""Heavily rolled heads in photos: look again in copies turned by ±30° when nothing was found.

YuNet finds upright faces and faces rolled by up to about 30°; past that it misses many. A Yale
photo turned by 45° (a selfie taken with the head on one side, a phone held askew) was found 73–77 %
of the time and labelled right 30–35 %, against 100 % and 86 % upright (``benchmarks.yale_photos``).
So a photo in which no face is found is searched once more in two copies turned by ±30°, where
such a head is nearly upright. A face found there comes back in the photo's own pixels: its five
landmarks turned back, its box the FER-framed square around them, and its landmarks kept so that
the classifier's crop is levelled along the eyes (:func:`moodtape.vision.align.aligned_crop`),
whatever ``Analyzer.align`` says: the face is known to be rolled, and an upright crop of it is
what the classifier reads worst.

Each turned copy, canvas and all, is at most ``COPY_SIDE`` pixels on its longer side, searched
only for faces of the usual sizes (as a stream's frame: no small-face or tiled search), and only
sure faces count (``ROLLED_SCORE``). A photo with no face costs four YuNet passes more on copies
of at most 960 px (two a copy: the usual faces and a face filling it): 43 ms on a faceless
640 × 480 photo (whose own search takes 36 ms), 53 ms on a 4000 × 3000 one (1.5 s of its own).

A head turned by 90° (a sideways photo without EXIF) is 60° off upright in either copy, and
YuNet's landmarks there still claim level eyes, so its eye line cannot tell it from a head rolled
45–60°; its score can: the surest such face among the Yale photos turned by 90° or 270° scored
0.806, the heads rolled 45° mostly over 0.9. At 0.82 the sideways photos are found as often as
without the turned search (12.7 % and 11.2 %), and a head rolled 60° is found 86–87 % of the time
(31–32 % before), read right 45 % (4.5 % before).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.yunet import Landmarks, YuNetDetector, YuNetSettings

#: The turns tried, in degrees (counter-clockwise as OpenCV's): a head rolled 45° is 15° off upright in one.
ROLLS: Final[tuple[float, ...]] = (30.0, -30.0)
#: A face in a turned copy counts from this YuNet score (a sure upright face: 0.7). At 0.8 sideways
#: heads (turned 90°, 60° off in the copy) passed with level eyes claimed: 1 of Yale's 268 (15 with
#: the small-face search a first version ran in the copies), most of them misread.
ROLLED_SCORE: Final[float] = 0.82
#: The turned copies are at most this many pixels on their longer side: a rolled head
#: that a photo is taken of is large in it, and a full-size copy of a 12-MP photo costs seconds.
COPY_SIDE: Final[int] = 960

Gray = npt.NDArray[np.uint8]


def rolled_faces(detector: YuNetDetector, gray: Gray) -> list[tuple[Box, Landmarks]]:
    """Faces found in ``gray`` turned by each of :data:`ROLLS`, in ``gray``'s pixels, largest first.

    The turn whose most confident face is surest wins; ``[]`` when neither finds a sure face.
    """
    search = _copy_detector(detector.settings)
    # frame=True: no search for small faces, which in a copy cost more than the copy's own search.
    best: list[tuple[Box, Landmarks]] = []
    for degrees in ROLLS:
        turned, back = _turned(gray, degrees)
        found = [face for _, face in search.detect_landmarks(turned, frame=True) if face.score >= ROLLED_SCORE]
        if found and (not best or max(f.score for f in found) > max(f.score for _, f in best)):
            mapped = [_turned_back(face, back) for face in found]
            best = [(face.fer_box(gray.shape), face) for face in mapped]
    return sorted(best, key=lambda item: item[0].w * item[0].h, reverse=True)


@functools.lru_cache(maxsize=4)
def _copy_detector(settings: YuNetSettings) -> YuNetDetector:
    """A detector as ``settings`` for faces of the usual sizes only (no small-face or tiled search)."""
    return YuNetDetector(dataclasses.replace(settings, small_faces_above=1 << 30))


def _turned(gray: Gray, degrees: float) -> tuple[Gray, npt.NDArray[np.float64]]:
    """``gray`` turned by ``degrees`` about its centre on a canvas that keeps all of it (edges
    replicated), shrunk so that the canvas is at most :data:`COPY_SIDE` on its longer side, and the
    2 × 3 matrix that takes the copy's points back to ``gray``'s."""
    height, width = gray.shape
    radians = np.radians(degrees)
    cos, sin = abs(np.cos(radians)), abs(np.sin(radians))
    # The turned canvas, not the photo, is what is searched: it is what must fit COPY_SIDE.
    scale = min(1.0, COPY_SIDE / max(width * cos + height * sin, width * sin + height * cos))
    cos, sin = cos * scale, sin * scale
    new_width, new_height = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, scale)
    matrix[:, 2] += ((new_width - width) / 2, (new_height - height) / 2)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    turned = cv2.warpAffine(gray, matrix, (new_width, new_height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(turned, dtype=np.uint8), np.asarray(cv2.invertAffineTransform(matrix), np.float64)


def _turned_back(face: Landmarks, back: npt.NDArray[np.float64]) -> Landmarks:
    """``face`` (found in a turned copy) in the photo's pixels: its points turned back, its box the
    upright box around its turned-back corners."""
    points = tuple((float(back[0] @ (x, y, 1.0)), float(back[1] @ (x, y, 1.0))) for x, y in face.points)
    box = face.box
    corners = np.array([[x, y, 1.0] for x in (box.x, box.x + box.w) for y in (box.y, box.y + box.h)]) @ back.T
    left, top = np.floor(corners.min(axis=0)).astype(int)
    right, bottom = np.ceil(corners.max(axis=0)).astype(int)
    return Landmarks(Box(int(left), int(top), max(1, int(right - left)), max(1, int(bottom - top))), points, face.score)
