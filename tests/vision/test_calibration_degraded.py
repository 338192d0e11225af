"""benchmarks/calibration_degraded.py: views of a calibration photo, and profiles made from another reading."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from benchmarks.calibration_degraded import VIEWS, averaged, clipped_people, read_in_views, scores

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibrate import Example, read_example
from moodtape.vision.calibration import Settings
from moodtape.vision.pipeline import Analyzer


def _reads(**shares: float) -> npt.NDArray[np.float32]:
    probabilities = np.full(len(EMOTIONS), 0.01, dtype=np.float64)
    for label, share in shares.items():
        probabilities[EMOTIONS.index(label)] = share
    return np.asarray(probabilities / probabilities.sum(), dtype=np.float32)


def test_a_photo_read_in_views_averages_log_probabilities_and_unit_embeddings() -> None:
    first = Example(_reads(neutral=0.8, sad=0.1), np.asarray([3.0, 0.0], dtype=np.float32), 1)
    second = Example(_reads(neutral=0.2, sad=0.7), np.asarray([0.0, 0.5], dtype=np.float32), 1)
    both = averaged([first, second])
    logs = (np.log(first.probabilities.astype(np.float64)) + np.log(second.probabilities.astype(np.float64))) / 2
    expected = np.exp(logs) / np.exp(logs).sum()
    np.testing.assert_allclose(both.probabilities, expected, rtol=1e-5)
    assert abs(float(both.probabilities.sum()) - 1.0) < 1e-5
    assert both.embedding is not None
    np.testing.assert_allclose(both.embedding, [0.5, 0.5], rtol=1e-6)  # unit vectors, not 3 and 0.5
    np.testing.assert_allclose(averaged([first]).probabilities, first.probabilities, rtol=1e-5)


def _person(normal: npt.NDArray[np.float32], resting: npt.NDArray[np.float32]) -> dict[str, Example]:
    return {
        "normal": Example(normal, None, 1),
        **{condition: Example(resting, None, 1) for condition in ("centerlight", "glasses", "noglasses")},
    }


def test_the_profile_comes_from_the_calibrating_reading_and_the_test_from_the_tested_one() -> None:
    # Under this degradation the person's resting face reads sad 0.5, neutral 0.4. A neutral photo
    # taken under it teaches that; the same photo taken clean (neutral 0.9) cannot.
    degraded = {"p": _person(_reads(sad=0.5, neutral=0.4), _reads(sad=0.5, neutral=0.4))}
    clean = {"p": _person(_reads(neutral=0.9), _reads(neutral=0.9))}
    settings = Settings(max_shift=2.0)
    assert scores(degraded, degraded, "uncalibrated", "model", settings)["per_class"]["neutral"] == 0.0
    assert scores(degraded, degraded, "neutral", "model", settings)["per_class"]["neutral"] == 1.0
    assert scores(degraded, clean, "neutral", "model", settings)["per_class"]["neutral"] == 0.0
    assert scores(degraded, degraded, "neutral", "model", settings)["faces"] == 3


def test_people_at_the_clip_are_those_whose_resting_face_reads_far_from_the_reference() -> None:
    reference = tuple(float(v) for v in np.log(_reads(neutral=0.8)))
    near = {"normal": Example(_reads(neutral=0.7), None, 1)}
    far = {"normal": Example(_reads(angry=0.6, neutral=0.3), None, 1)}
    settings = Settings(neutral_reference=reference)
    assert clipped_people({"a": near, "b": far}, settings) == 1
    assert clipped_people({"a": near, "b": far}, Settings(neutral_reference=reference, max_shift=10.0)) == 0


def test_the_first_view_is_the_face_as_calibrate_reads_it(
    bundled_analyzer: Analyzer, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    views = read_in_views(bundled_analyzer, astronaut_gray)
    assert views is not None and len(views) == len(VIEWS)
    plain = read_example(bundled_analyzer, astronaut_gray, "astronaut")
    np.testing.assert_allclose(views[0].probabilities, plain.probabilities, atol=1e-5)
    assert not np.allclose(views[1].probabilities, plain.probabilities, atol=1e-3)  # the mirror reads otherwise
