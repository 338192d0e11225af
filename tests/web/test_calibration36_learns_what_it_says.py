"""The answer says what this calibration learns now, beside what the model could (session 36).

A smiling "neutral" frame answered ``"learns_expressions": true`` beside ``"not_resting": "happy"``
and ``"neutral_reads_as": "happy"``, while the page and ``moodtape calibrate`` say expressions
won't be learnt, and the fit indeed learns none (``expressions`` stays false after a happy frame).
``learning_expressions_now`` says what this calibration does as it stands. ``learns_expressions``
keeps its meaning of sessions 32 to 35, what the model can learn: read as "this calibration" (false
while the resting face smiles), a page left open from before, or any other client, took false for
"the model can't" (``test_the_model_part_keeps_its_field``).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from flask.testing import FlaskClient
from webtools import encode, post_calibration


@pytest.fixture(scope="module")
def resting_640(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    """The astronaut with her smile covered: she reads as resting."""
    covered = astronaut_bgr.copy()
    covered[127:166, 183:262] = np.median(astronaut_bgr[61:172, 167:278].reshape(-1, 3), axis=0).astype(np.uint8)
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[40:440, 120:520] = cv2.resize(covered, (400, 400))
    return encode(frame)


def test_a_smiling_neutral_face_is_told_no_expressions_are_learnt(client: FlaskClient, frame_640: bytes) -> None:
    neutral = post_calibration(client, frame_640, "neutral")
    assert neutral["not_resting"] == "happy" and neutral["neutral_reads_as"] == "happy"
    assert neutral["learning_expressions_now"] is False
    # What the fit does agrees: the happy frame is counted, not learnt.
    happy = post_calibration(client, frame_640, "happy")
    assert happy["expressions"] is False and happy["learning_expressions_now"] is False


def test_the_model_part_keeps_its_field(client: FlaskClient, frame_640: bytes) -> None:
    """``learns_expressions`` is what the model can learn, smile or not: the API stayed 0.1.0."""
    assert post_calibration(client, frame_640, "neutral")["learns_expressions"] is True
    assert "model_learns_expressions" not in post_calibration(client, frame_640, "happy")


def test_a_resting_neutral_face_learns_them(client: FlaskClient, frame_640: bytes, resting_640: bytes) -> None:
    neutral = post_calibration(client, resting_640, "neutral")
    assert neutral["neutral_reads_as"] is None and neutral["learning_expressions_now"] is True
    happy = post_calibration(client, frame_640, "happy")
    assert happy["expressions"] is True and happy["learning_expressions_now"] is True
    assert happy["learns_expressions"] is True
