"""YuNet: finds the astronaut with sensible landmarks, frames her like Haar does, and measures roll."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import ASTRONAUT_FACE

from moodtape.errors import ModelError
from moodtape.types import Box
from moodtape.vision.stream import iou
from moodtape.vision.yunet import Landmarks, YuNetDetector, YuNetSettings


@pytest.fixture(scope="module")
def yunet() -> YuNetDetector:
    return YuNetDetector()


def rotate(gray: npt.NDArray[np.uint8], degrees: float) -> npt.NDArray[np.uint8]:
    """Rotate about the astronaut's face centre (anticlockwise for positive degrees)."""
    centre = (ASTRONAUT_FACE.x + ASTRONAUT_FACE.w / 2, ASTRONAUT_FACE.y + ASTRONAUT_FACE.h / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    return np.asarray(cv2.warpAffine(gray, matrix, gray.shape[::-1], borderMode=cv2.BORDER_REFLECT_101))


def test_finds_the_astronaut_framed_like_the_haar_box(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    found = yunet.detect_landmarks(astronaut_gray)
    assert len(found) == 1
    box, face = found[0]
    assert iou(box, ASTRONAUT_FACE) > 0.6
    (ex, ey), (mx, my) = face.eyes_centre, face.mouth_centre
    assert ey < my and abs(ex - mx) < 10  # eyes above the mouth, upright
    assert abs(face.roll_degrees) < 5
    assert yunet.detect(astronaut_gray) == [box]


@pytest.mark.parametrize("degrees", [-20.0, 20.0])
def test_a_tilted_head_is_still_found(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8], degrees: float
) -> None:
    found = yunet.detect(rotate(astronaut_gray, degrees))
    assert len(found) == 1 and iou(found[0], ASTRONAUT_FACE) > 0.5


def test_roll_is_the_angle_of_the_eye_line() -> None:
    points = ((100.0, 100.0), (140.0, 110.0), (120.0, 120.0), (105.0, 140.0), (135.0, 145.0))
    face = Landmarks(Box(80, 80, 80, 100), points, 0.9)
    assert face.roll_degrees == pytest.approx(math.degrees(math.atan2(10, 40)))
    assert face.eyes_centre == (120.0, 105.0) and face.mouth_centre == (120.0, 142.5)


def test_blank_and_tiny_images_have_no_faces(yunet: YuNetDetector) -> None:
    assert yunet.detect(np.full((480, 640), 128, np.uint8)) == []
    assert yunet.detect(np.zeros((8, 8), np.uint8)) == []
    with pytest.raises(ValueError, match="gray"):
        yunet.detect(np.zeros((48, 48, 3), np.uint8))


def test_faces_smaller_than_min_face_are_dropped(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    assert YuNetDetector(YuNetSettings(min_face=150, min_face_detect=60)).detect(astronaut_gray) == []


def test_shifted_moves_box_and_points(yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8]) -> None:
    face = yunet.landmarks(astronaut_gray)[0]
    moved = face.shifted(10, -5)
    assert moved.box == Box(face.box.x + 10, face.box.y - 5, face.box.w, face.box.h)
    assert moved.points[2] == (face.points[2][0] + 10, face.points[2][1] - 5)
    assert moved.roll_degrees == pytest.approx(face.roll_degrees)


def test_bad_settings_and_missing_file_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="score_threshold"):
        YuNetSettings(score_threshold=1.5)
    with pytest.raises(ModelError, match="Haar"):
        YuNetDetector(model_path=tmp_path / "missing.onnx")


@pytest.mark.parametrize("side", [64, 40, 20])
def test_a_small_image_after_a_large_one_has_no_faces(
    yunet: YuNetDetector, astronaut_gray: npt.NDArray[np.uint8], side: int
) -> None:
    """OpenCV's YuNet, run at a larger size first, answers a 32 × 32 input with infinite boxes (was a 500)."""
    for _ in range(20):
        yunet.detect(astronaut_gray)
        assert yunet.detect(np.full((side, side), 38, np.uint8)) == []


def test_implausible_rows_are_never_faces() -> None:
    """Whatever OpenCV answers, rows with infinite values or a centre outside the input are dropped."""
    settings = YuNetSettings(min_face=20, min_face_detect=20)
    detector = YuNetDetector(settings)
    garbage = np.zeros((3, 15), np.float32)
    garbage[0, :4] = [-np.inf, -1.9e5, np.inf, 0]
    garbage[1, :4] = [2.4e5, -1.1e6, 2.3e5, 1e6]
    garbage[2, :4] = [5, 5, 20, 20]
    garbage[:, 14] = 1.0

    class FakeNet:
        def setInputSize(self, size: tuple[int, int]) -> None:  # noqa: N802 - OpenCV's name
            pass

        def detect(self, image: npt.NDArray[np.uint8]) -> tuple[int, npt.NDArray[np.float32]]:
            return 1, garbage

    detector._local.net = FakeNet()
    found = detector.landmarks(np.full((30, 30), 38, np.uint8))
    assert [face.box for face in found] == [Box(5, 5, 20, 20)]


def test_a_huge_photo_is_searched_on_a_bounded_copy(astronaut_gray: npt.NDArray[np.uint8]) -> None:
    # The astronaut on a 6,000-px-wide canvas (36 MP): at half size YuNet would see 9 MP.
    canvas = np.full((6000, 6000), 128, np.uint8)
    big = cv2.resize(astronaut_gray, (2048, 2048), interpolation=cv2.INTER_LINEAR)
    canvas[1000:3048, 2000:4048] = big
    detector = YuNetDetector(YuNetSettings(max_detect_side=1920))
    seen: list[tuple[int, int]] = []
    real_net = detector._net

    def spy(width: int, height: int) -> object:
        seen.append((width, height))
        return real_net(width, height)

    detector._net = spy  # type: ignore[method-assign]
    found = detector.detect(canvas)
    assert seen == [(1920, 1920)]
    expected = Box(2000 + ASTRONAUT_FACE.x * 4, 1000 + ASTRONAUT_FACE.y * 4, ASTRONAUT_FACE.w * 4, ASTRONAUT_FACE.h * 4)
    assert len(found) == 1 and iou(found[0], expected) > 0.5
    with pytest.raises(ValueError, match="max_detect_side"):
        YuNetSettings(max_detect_side=20)
