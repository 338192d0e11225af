"""A photo turned by a quarter or half turn with nothing that says so is read as if upright (vision/rolled.py).

A screenshot of a sideways video call or a phone photo whose EXIF was stripped reaches us turned.
Before, YuNet found the astronaut turned by 90° and by 180° not at all; Yale's photos turned by 90°
or 270° were found 11–13 % of the time and read right 1.5 %, and turned by 180° read right 9 %
(``benchmarks.quarter_turns``). Now such a photo gives the upright photo's face, box and reading;
faceless pictures gain no face, and a photo whose face is found upright pays for no turned search.
(Turned by 270°, the astronaut is still found as she is, as an upright face with landmarks that are
not hers: box 98 px, not 111, "happy" at 0.60. The turned search runs only when nothing is found.)
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

Gray = npt.NDArray[np.uint8]


def quarter_turned(gray: Gray, quarters: int) -> Gray:
    return np.ascontiguousarray(np.rot90(gray, quarters))


def box_turned(box: Box, shape: tuple[int, ...], quarters: int) -> Box:
    """``box`` in a ``shape`` picture, as it lies once the picture is turned ``quarters`` × 90° anticlockwise."""
    height, width = shape[:2]
    for _ in range(quarters % 4):
        box = Box(box.y, width - box.x - box.w, box.h, box.w)
        height, width = width, height
    return box


@pytest.mark.parametrize("quarters", [1, 2])
def test_a_photo_turned_without_exif_gives_the_upright_photos_face_and_reading(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, quarters: int
) -> None:
    (upright,) = bundled_analyzer.analyze_gray(astronaut_gray)
    faces = bundled_analyzer.analyze_gray(quarter_turned(astronaut_gray, quarters))
    assert len(faces) == 1 and faces[0].emotion == upright.emotion == "happy"
    expected = box_turned(upright.box, astronaut_gray.shape, quarters)
    found = faces[0].box
    assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) <= 2, (found, expected)
    assert abs(faces[0].probabilities["happy"] - upright.probabilities["happy"]) < 0.05


def faceless_pictures() -> list[Gray]:
    from skimage import data

    textures = [cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2GRAY), data.brick(), data.grass(), data.text()]
    noise = np.random.default_rng(11).integers(0, 256, (480, 640), dtype=np.uint8)
    return [np.ascontiguousarray(picture, dtype=np.uint8) for picture in [*textures, noise]]


def test_faceless_pictures_in_any_turn_gain_no_face(bundled_analyzer: Analyzer) -> None:
    for picture in faceless_pictures():
        for quarters in range(4):
            assert bundled_analyzer.analyze_gray(quarter_turned(picture, quarters)) == []


def test_a_photo_whose_face_is_sure_upright_is_not_searched_turned(
    bundled_analyzer: Analyzer, astronaut_gray: Gray, monkeypatch: pytest.MonkeyPatch
) -> None:
    turned: list[Any] = []
    monkeypatch.setattr(rolled, "_turned", lambda gray, degrees: turned.append(degrees))
    assert len(bundled_analyzer.analyze_gray(astronaut_gray)) == 1
    assert turned == []
