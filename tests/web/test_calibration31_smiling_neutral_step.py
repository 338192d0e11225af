"""The page's neutral step taken smiling: the expression steps after it are counted but not learnt.

The session's examples are running means (:mod:`moodtape.web.profiles`), refitted after every frame
with the same maths as ``moodtape.calibrate``: when the neutral frames, read together, show a smile,
the profile keeps the (clipped) baseline only, so the person's later smiles are not pulled toward
neutral (see tests/vision/test_calibration31_smile_as_neutral.py for the measurement on Yale).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from flask.testing import FlaskClient
from webtools import post_calibration

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibrate import Example
from moodtape.vision.pipeline import Analyzer
from moodtape.web import calibration_api
from moodtape.web.profiles import Calibration


def _frame(seed: int, **shares: float) -> Example:
    probabilities = np.full(len(EMOTIONS), 0.02, dtype=np.float64)
    for label, share in shares.items():
        probabilities[EMOTIONS.index(label)] = share
    embedding: npt.NDArray[np.float32] = np.random.default_rng(seed).normal(size=64).astype(np.float32)
    return Example(np.asarray(probabilities / probabilities.sum(), dtype=np.float32), embedding, 1)


def _calibrated(analyzer: Analyzer, neutral: list[Example]) -> Calibration:
    calibration = Calibration(analyzer.classifier.model_id)
    for example in neutral:
        calibration = calibration.add(analyzer, "neutral", example)
    return calibration.add(analyzer, "sad", _frame(9, sad=0.7)).add(analyzer, "surprise", _frame(10, surprise=0.8))


def test_a_smiling_neutral_step_learns_no_expressions(real_analyzer: Analyzer) -> None:
    status = _calibrated(real_analyzer, [_frame(n, happy=0.85) for n in range(8)]).status()
    assert status["calibrated"] is True
    assert status["examples"] == {"sad": 1, "surprise": 1, "neutral": 8}
    assert status["expressions"] is False


def test_a_resting_neutral_step_learns_them(real_analyzer: Analyzer) -> None:
    frames = [_frame(n, neutral=0.7) for n in range(7)] + [_frame(7, happy=0.9)]  # one smile among them
    assert _calibrated(real_analyzer, frames).status()["expressions"] is True


def test_half_the_frames_smiling_hard_are_judged_as_the_fit_judges_them(real_analyzer: Analyzer) -> None:
    """4 frames at happy 0.95 and 4 at 0.55: no single majority of smiling frames (the page's old
    rule said "Done" without a word), yet read together they drop the expressions; the answer's
    ``neutral_reads_as`` says so, by the fit's own reading."""
    frames = [_frame(n, happy=0.95) for n in range(4)] + [_frame(n, happy=0.55, neutral=0.35) for n in range(4, 8)]
    calibration = _calibrated(real_analyzer, frames)
    assert calibration.status()["expressions"] is False
    assert calibration_api._neutral_reads_as(calibration) == "happy"


def test_a_resting_step_reads_as_nothing(real_analyzer: Analyzer) -> None:
    frames = [_frame(n, neutral=0.7) for n in range(7)] + [_frame(7, happy=0.9)]
    calibration = _calibrated(real_analyzer, frames)
    assert calibration.status()["expressions"] is True
    assert calibration_api._neutral_reads_as(calibration) is None


def test_the_answer_says_why_the_expressions_were_not_learnt(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    """The smiling astronaut as neutral, her smile beside it: before, the answer said only
    ``expressions: false``, and the page said "Added your happy face."."""
    answer = post_calibration(client, frame_640, "neutral", csrf)
    assert answer["neutral_reads_as"] == "happy" and answer["notes"] == []  # nothing else sent yet
    answer = post_calibration(client, frame_640, "happy", csrf)
    assert answer["expressions"] is False and answer["neutral_reads_as"] == "happy"
    (note,) = answer["notes"]
    assert "not learnt" in note and "if this is how your face rests" in note
