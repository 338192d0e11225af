"""Roll alignment: a tilted face's aligned crop looks like the upright face's crop."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from test_yunet import rotate
from vision_scenes import ASTRONAUT_FACE

from moodtape.vision.align import aligned_crop
from moodtape.vision.framing import Framing
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.vision.yunet import Landmarks, YuNetDetector


def similarity(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    """Correlation of two crops at 48×48."""
    x, y = (cv2.resize(c, (48, 48), interpolation=cv2.INTER_AREA).astype(float).ravel() for c in (a, b))
    return float(np.corrcoef(x, y)[0, 1])


@pytest.mark.parametrize("degrees", [-20.0, 20.0])
def test_aligned_crop_of_a_tilted_face_matches_the_upright_crop(
    astronaut_gray: npt.NDArray[np.uint8], degrees: float
) -> None:
    # Landmarks rotated with the image, as a detector that followed the roll would report them
    # (YuNet's own landmarks follow roll only partly: see docs/benchmarks.md).
    face = YuNetDetector().landmarks(astronaut_gray)[0]
    centre = (ASTRONAUT_FACE.x + ASTRONAUT_FACE.w / 2, ASTRONAUT_FACE.y + ASTRONAUT_FACE.h / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    points = tuple(tuple(float(v) for v in matrix @ np.array([x, y, 1.0])) for x, y in face.points)
    tilted_face = Landmarks(face.box, points, face.score)  # type: ignore[arg-type]
    tilted_gray = rotate(astronaut_gray, degrees)
    upright = aligned_crop(astronaut_gray, face)
    aligned = aligned_crop(tilted_gray, tilted_face)
    plain = Framing().crop(tilted_gray, tilted_face.fer_box(tilted_gray.shape))
    assert similarity(aligned, upright) > 0.9
    assert similarity(aligned, upright) > similarity(plain, upright) + 0.05


def test_small_roll_is_not_rotated(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    face = YuNetDetector().landmarks(astronaut_gray)[0]
    assert abs(face.roll_degrees) < 3
    crop = aligned_crop(astronaut_gray, face)
    cx, cy, side = face.fer_centre_and_side()
    left, top = round(cx - round(side) / 2), round(cy - round(side) / 2)  # the same rounding
    assert np.array_equal(crop, astronaut_gray[top : top + crop.shape[0], left : left + crop.shape[1]])


def test_analyzer_and_stream_work_with_yunet(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    analyzer = Analyzer(YuNetDetector(), align=True)
    faces = analyzer.analyze_gray(astronaut_gray)
    assert len(faces) == 1 and faces[0].emotion == "happy"
    stream = StreamAnalyzer(analyzer, detect_every=3)
    frames = [stream.process(astronaut_gray, t / 10) for t in range(4)]
    assert all(len(found) == 1 for found in frames)
    assert len({found[0].track_id for found in frames}) == 1
