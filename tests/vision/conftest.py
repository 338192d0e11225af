"""Vision fixtures: gray astronaut, a two-face scene, and one shared detector."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from vision_scenes import HEAD

from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.faces import FaceDetector
from moodtape.vision.pipeline import Analyzer


@pytest.fixture(scope="session")
def astronaut_gray(astronaut_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


@pytest.fixture(scope="session")
def two_face_scene(astronaut_bgr: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], list[Box]]:
    """A 800×480 grey canvas with the astronaut's head pasted at 1.5× (left) and 0.9× (right).

    Returns the BGR scene and the pasted regions, larger first.
    """
    head = astronaut_bgr[HEAD]
    canvas = np.full((480, 800, 3), 128, dtype=np.uint8)
    regions = []
    for scale, (x, y) in [(1.5, (40, 60)), (0.9, (500, 250))]:
        pasted = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = pasted.shape[:2]
        canvas[y : y + h, x : x + w] = pasted
        regions.append(Box(x, y, w, h))
    return canvas, regions


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="session")
def bundled_analyzer() -> Analyzer:
    """An analyzer on moodtape's bundled model (one ONNX Runtime thread: the machine is shared)."""
    return Analyzer(classifier=load_classifier(threads=1))
