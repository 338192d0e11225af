"""benchmarks/calibration_proxy.py: its stand-in second photos, and that a tested expression has its example."""

from __future__ import annotations

import numpy as np
from benchmarks.calibration_proxy import OTHER_RESTING, VIEWS, View, proxy_scores, second_look

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibrate import Example
from moodtape.vision.calibration import Settings


def test_a_second_look_is_mirrored_reframed_and_relit_but_keeps_the_photo_size() -> None:
    photo = np.full((120, 160), 100, dtype=np.uint8)
    photo[40:80, 10:50] = 250  # a bright patch on the left
    plain = View("mirror only", True, 1.0, (0.5, 0.5), 1.0, 0.0, 100)
    mirrored = second_look(photo, plain)
    assert mirrored.shape == photo.shape and mirrored.dtype == np.uint8
    assert mirrored[60, 130] > 200 and mirrored[60, 30] < 150  # the patch moved to the right
    for view in VIEWS:
        remade = second_look(photo, view)
        assert remade.shape == photo.shape
        assert not np.array_equal(remade, mirrored)  # cropped, tilted and relit, not just flipped
    darker = second_look(photo, View("darker", False, 1.0, (0.5, 0.5), 1.3, 0.0, 100))
    assert int(darker[5, 80]) < 100 - 5  # gamma above 1 darkens mid-grey


def _example(label: str, embedding: list[float]) -> Example:
    probabilities = np.full(len(EMOTIONS), 0.02, dtype=np.float32)
    probabilities[EMOTIONS.index(label)] = 0.88
    return Example(probabilities, np.asarray(embedding, dtype=np.float32), 1)


def test_the_full_profile_holds_the_tested_expression_unlike_leave_one_out() -> None:
    # A sad face the generic model reads as neutral; only the person's own sad example can fix it.
    axes = np.eye(5).tolist()
    person = {
        "normal": _example("neutral", axes[0]),
        "happy": _example("happy", axes[1]),
        "sad": _example("neutral", axes[2]),
        "surprised": _example("surprise", axes[3]),
        **{condition: _example("neutral", axes[0]) for condition in OTHER_RESTING},
    }
    views = {f"p.{condition}": [person[condition]] for condition in ("normal", "happy", "sad", "surprised")}
    people = {"p": person}
    uncalibrated = proxy_scores(people, views, "model", Settings(), "uncalibrated")
    full = proxy_scores(people, views, "model", Settings(), "full")
    assert uncalibrated["per_class"]["sad"] == 0.0
    assert full["per_class"]["sad"] == 1.0
    assert full["per_class"]["neutral"] == 1.0  # the five other real resting photos stay neutral
    assert full["faces"] == 3 + len(OTHER_RESTING)
