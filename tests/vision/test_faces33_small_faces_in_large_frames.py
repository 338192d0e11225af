"""A stream's frame of over 640 px keeps a 28-39-px face, as a photo of the same size does.

A frame larger than ``small_faces_above`` (640 px) with no face of the usual size is searched once
more for small faces, in the same one full-size copy as a photo of up to 1,920 px: it follows the
same rule, so a far face in a 1280 × 720 video (a webcam at HD, a file given to ``moodtape stream``)
is kept from YuNet score ``tiled_score_threshold`` instead of being dropped under ``small_face``.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from vision_scenes import HEAD

from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer

Gray = npt.NDArray[np.uint8]
FRAMES = 8


def _hd_frame(head: Gray, left: int) -> npt.NDArray[np.uint8]:
    """A 1280 × 720 BGR frame, mid-gray, with ``head`` shrunk to about 33 px wide at ``left``."""
    small = cv2.resize(head, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280), 110, np.uint8)
    frame[300 : 300 + small.shape[0], left : left + small.shape[1]] = small
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), np.uint8)


def test_a_far_face_in_an_hd_stream_is_kept_in_every_frame(bundled_analyzer: Analyzer, astronaut_gray: Gray) -> None:
    """Was: no face in any of the frames (the 33-px face was under ``small_face``)."""
    stream = StreamAnalyzer(bundled_analyzer)
    kept = 0
    for i in range(FRAMES):
        faces = stream.process(_hd_frame(astronaut_gray[HEAD], 600 + i), i / 10)  # moving slowly
        assert len(faces) <= 1
        if faces:
            assert 28 <= faces[0].box.w < 40
            assert 590 <= faces[0].box.x <= 640 and 290 <= faces[0].box.y <= 340
            kept += 1
    assert kept == FRAMES
