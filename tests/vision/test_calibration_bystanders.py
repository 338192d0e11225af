"""Calibrating with someone else in view: the person calibrating is the clearly largest face, or none is."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import HEAD

import moodtape
from moodtape.vision.calibrate import CLEARLY_LARGER, SeveralFacesError, read_example
from moodtape.vision.pipeline import Analyzer

Image = npt.NDArray[np.uint8]


def side_by_side(astronaut_bgr: Image, right_scale: float) -> Image:
    """A 640×480 webcam frame: the astronaut's head at 1.0× on the left, again at ``right_scale`` on the right."""
    head = astronaut_bgr[HEAD]
    frame = np.full((480, 640, 3), 110, np.uint8)
    for scale, x in [(1.0, 30), (right_scale, 340)]:
        pasted = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = pasted.shape[:2]
        frame[100 : 100 + h, x : x + w] = pasted
    return frame


@pytest.mark.parametrize("right_scale", [0.95, 1.05])
def test_two_faces_of_about_the_same_size_are_refused(
    astronaut_bgr: Image, bundled_analyzer: Analyzer, right_scale: float
) -> None:
    # Before, the box that came out a few pixels larger was learnt as "the person calibrating",
    # which from one frame to the next could be either of two people side by side.
    frame = cv2.cvtColor(side_by_side(astronaut_bgr, right_scale), cv2.COLOR_BGR2GRAY)
    assert len(bundled_analyzer.detector.detect(frame)) == 2
    with pytest.raises(SeveralFacesError, match="2 faces of about the same size in the frame") as caught:
        read_example(bundled_analyzer, frame, "the frame", gray=frame)
    assert caught.value.code == "several_faces" and caught.value.status == 422


def test_a_clearly_nearer_face_is_still_used(astronaut_bgr: Image, bundled_analyzer: Analyzer) -> None:
    frame = cv2.cvtColor(side_by_side(astronaut_bgr, 0.8), cv2.COLOR_BGR2GRAY)
    sides = sorted((box.w for box in bundled_analyzer.detector.detect(frame)), reverse=True)
    assert len(sides) == 2 and sides[0] >= CLEARLY_LARGER * sides[1]
    assert read_example(bundled_analyzer, frame, "the frame", gray=frame).faces == 2


def test_the_library_names_the_photo_it_refuses(astronaut_bgr: Image) -> None:
    with pytest.raises(SeveralFacesError, match="happy image #1"):
        moodtape.calibrate({"neutral": [astronaut_bgr], "happy": [side_by_side(astronaut_bgr, 1.0)]})
