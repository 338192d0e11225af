"""A calibration example's face is found and cropped as ``analyze`` finds and crops it.

Before, ``read_example`` used the detector's upright search and an upright crop: the astronaut's
head turned by 180° (which ``analyze`` finds turned and reads "happy 0.93") was learnt as "sad
0.72", and at 7 % of the light (which ``analyze`` finds in a brightened copy) it raised NoFaceError.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from tests.vision.test_faces27_dark_photos import in_the_dark
from tests.vision.vision_scenes import HEAD

from moodtape.vision.calibrate import SeveralFacesError, read_example
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]


def upside_down_head(astronaut_gray: Gray) -> Gray:
    head = cv2.resize(astronaut_gray[HEAD], None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(head[::-1, ::-1])


@pytest.mark.parametrize("picture", ["upside down", "very dark"])
def test_an_example_is_read_as_analyze_reads_it(bundled_analyzer: Analyzer, astronaut_gray: Gray, picture: str) -> None:
    gray = upside_down_head(astronaut_gray) if picture == "upside down" else in_the_dark(astronaut_gray, 0.07)
    (face,) = bundled_analyzer.analyze_gray(gray)
    example = read_example(bundled_analyzer, gray, picture, gray=gray)
    assert example.faces == 1
    read = dict(zip(face.probabilities, example.probabilities.tolist(), strict=True))
    assert max(abs(read[label] - p) for label, p in face.probabilities.items()) < 1e-4


def test_two_faces_alike_in_size_are_still_refused(bundled_analyzer: Analyzer, astronaut_gray: Gray) -> None:
    head = np.ascontiguousarray(astronaut_gray[HEAD])
    pair = np.ascontiguousarray(np.hstack([head, head]))
    assert len(bundled_analyzer.analyze_gray(pair)) == 2
    with pytest.raises(SeveralFacesError):
        read_example(bundled_analyzer, pair, "pair", gray=pair)
