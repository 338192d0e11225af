"""A head rolled past ~45° in a photo is found in a turned copy and read levelled (vision/rolled.py).

Before, YuNet found none of the astronaut's face turned anticlockwise by 50–60° (turned clockwise
by as much, up to 75°, it found it without help), and Yale photos turned by 45° were found 73–77 %
of the time (``benchmarks.yale_photos``); now all of them are. The turned copies are searched as a
stream's frame is (no small-face search) and within ``COPY_SIDE``: a first version searched a
faceless 4000 × 3000 photo six times on canvases of 1192 × 1104.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from moodtape.types import Box
from moodtape.vision import rolled
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.rolled import COPY_SIDE, EXACT_TURNS, ROLLS, rolled_faces
from moodtape.vision.yunet import Landmarks, YuNetDetector

Gray = npt.NDArray[np.uint8]
#: The centre of the astronaut's face in ``skimage.data.astronaut()`` (x, y).
FACE_CENTRE = (220.0, 130.0)


def turned(gray: Gray, degrees: float) -> tuple[Gray, tuple[float, float]]:
    """``gray`` turned about its centre on a canvas that keeps all of it, and where the face's
    centre lands."""
    h, w = gray.shape
    side = int(np.ceil(np.hypot(h, w)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    matrix[:, 2] += ((side - w) / 2, (side - h) / 2)
    centre = matrix @ (*FACE_CENTRE, 1.0)
    picture = cv2.warpAffine(gray, matrix, (side, side), borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(picture, dtype=np.uint8), (float(centre[0]), float(centre[1]))


@pytest.mark.parametrize("degrees", [50, 55, 60])
def test_a_heavily_rolled_face_in_a_photo_is_found_and_read(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, degrees: float
) -> None:
    picture, (cx, cy) = turned(astronaut_gray, degrees)
    faces = bundled_analyzer.analyze_gray(picture)
    assert len(faces) == 1 and faces[0].emotion == "happy"
    box = faces[0].box
    assert abs(box.x + box.w / 2 - cx) < box.w / 4 and abs(box.y + box.h / 2 - cy) < box.h / 4
    assert 70 <= box.w <= 160  # the face (about 110 px upright), not the whole picture


def test_a_stream_frame_is_not_searched_turned_and_noise_gains_no_face(
    bundled_analyzer: Analyzer, astronaut_gray: Gray
) -> None:
    picture, _ = turned(astronaut_gray, 60)
    # A webcam frame is searched as it is (the next frame will do): a turned search costs two more.
    assert bundled_analyzer.locate(picture, frame=True) == []
    noise = np.random.default_rng(3).integers(0, 255, (480, 640), dtype=np.uint8)
    assert bundled_analyzer.analyze_gray(noise) == []


def test_a_faceless_photo_costs_two_searches_a_turned_copy_within_copy_side(
    bundled_analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turned copy gets the usual search and the one for a face filling it, not the small-face
    search (which cost more than both), on a canvas no longer than ``COPY_SIDE``."""
    searched: list[tuple[int, ...]] = []
    search = YuNetDetector._search

    def counted(self: YuNetDetector, gray: Gray, scale: float) -> Any:
        searched.append(gray.shape)
        return search(self, gray, scale)

    noise = np.random.default_rng(5).integers(0, 255, (3000, 4000), dtype=np.uint8)
    detector = bundled_analyzer.detector
    assert isinstance(detector, YuNetDetector)
    monkeypatch.setattr(YuNetDetector, "_search", counted)
    assert rolled_faces(detector, noise) == []
    copies = len(ROLLS) + len(EXACT_TURNS)
    assert copies <= len(searched) <= 2 * copies  # at most two searches a copy
    assert all(max(shape) <= COPY_SIDE for shape in searched)


def test_a_face_in_a_turned_copy_counts_only_when_surer_than_sideways_heads_get(
    bundled_analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A head turned 90° (a sideways photo without EXIF) is 60° off in either copy, yet YuNet gives
    it level eyes; Yale's such heads scored up to 0.806 there, two thirds of them misread. At the
    first version's 0.8 they were taken."""
    detector = bundled_analyzer.detector
    assert isinstance(detector, YuNetDetector)
    gray = np.full((480, 640), 110, np.uint8)

    def copies_finding(score: float) -> list[Any]:
        face = Landmarks(Box(300, 200, 100, 100), ((330, 240), (370, 240), (350, 265), (335, 285), (365, 285)), score)

        class Copy:
            def detect_landmarks(self, turned: Gray, *, frame: bool = False) -> list[tuple[Box, Landmarks]]:
                return [(face.box, face)]

        monkeypatch.setattr(rolled, "_copy_detector", lambda settings: Copy())
        return rolled_faces(detector, gray)

    assert copies_finding(0.81) == []
    assert len(copies_finding(0.9)) == 1
