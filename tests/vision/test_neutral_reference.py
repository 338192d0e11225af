"""The neutral reference (``vision/neutral_reference.py``): measured, stored, found, and aimed at by calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx_models import mean_model

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ModelError
from moodtape.vision.calibrate import Example, profile_from_examples
from moodtape.vision.calibration import Settings, fit_profile
from moodtape.vision.classifier import META_PRESET, classifier_from_onnx, load_classifier
from moodtape.vision.neutral_reference import (
    META_NEUTRAL_REFERENCE,
    bundled_references,
    measure_reference,
    reference_for,
)
from moodtape.vision.pipeline import Analyzer

NEUTRAL = EMOTIONS.index("neutral")
SAD = EMOTIONS.index("sad")
REFERENCE = [-3.5, -4.6, -3.4, -3.8, -2.8, -4.3, -0.35]


def rows(*spec: tuple[str, float]) -> np.ndarray:
    """Probability rows, each the named label at the given probability and the rest shared evenly."""
    out = []
    for label, top in spec:
        row = np.full(len(EMOTIONS), (1 - top) / 6)
        row[EMOTIONS.index(label)] = top
        out.append(row)
    return np.asarray(out, dtype=np.float32)


def test_the_reference_is_the_mean_log_probability_of_neutral_faces_read_as_neutral() -> None:
    probabilities = rows(("neutral", 0.9), ("neutral", 0.5), ("sad", 0.7), ("neutral", 0.8))
    labels = np.array([NEUTRAL, NEUTRAL, NEUTRAL, SAD])
    reference = measure_reference(probabilities, labels)
    # Only the first two count: the third is labelled neutral but read as sad, the fourth read as
    # neutral but labelled sad.
    expected = np.log(probabilities[:2].astype(np.float64)).mean(axis=0)
    np.testing.assert_allclose(reference, expected, atol=1e-5)


def test_no_face_labelled_and_read_neutral_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="labelled neutral and read as neutral"):
        measure_reference(rows(("sad", 0.7)), np.array([NEUTRAL]))


def test_metadata_comes_before_the_bundled_table() -> None:
    bundled_id = next(iter(bundled_references()))
    from_metadata = reference_for(bundled_id, {META_NEUTRAL_REFERENCE: json.dumps(REFERENCE)})
    assert from_metadata == tuple(REFERENCE)
    assert reference_for(bundled_id, {}) == tuple(bundled_references()[bundled_id]["log_probabilities"])
    assert reference_for("0" * 64, {}) is None


@pytest.mark.parametrize(
    "bad",
    [json.dumps(REFERENCE[:6]), json.dumps([*REFERENCE[:6], "x"]), json.dumps([*REFERENCE[:6], 0.5]), "{}", "[1,"],
    ids=["six numbers", "a word", "a positive log-probability", "an object", "not JSON"],
)
def test_a_malformed_reference_in_a_model_is_refused_with_a_model_error(bad: str) -> None:
    with pytest.raises(ModelError, match="neutral reference"):
        reference_for("0" * 64, {META_NEUTRAL_REFERENCE: bad})


def test_the_bundled_model_has_a_reference_that_reads_as_a_clearly_neutral_face() -> None:
    classifier = load_classifier(threads=1)
    # Fails when a new bundled model ships without a reference (its SHA-256 is not in the table).
    assert classifier.neutral_reference is not None
    # A mean of log-probabilities: its exponentials sum to less than 1 (a geometric mean).
    probabilities = np.exp(classifier.neutral_reference)
    assert 0.5 < probabilities.sum() <= 1.0
    assert int(np.argmax(probabilities)) == NEUTRAL and probabilities[NEUTRAL] > 0.5


def test_a_model_file_carries_its_reference_and_foreign_models_have_none() -> None:
    weights = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    with_reference = mean_model(
        ["N", 1, 48, 48], weights, metadata={META_PRESET: "moodtape", META_NEUTRAL_REFERENCE: json.dumps(REFERENCE)}
    )
    assert classifier_from_onnx(with_reference, name="m", threads=1).neutral_reference == tuple(REFERENCE)
    foreign = mean_model(["N", 1, 48, 48], weights)
    assert classifier_from_onnx(foreign, name="fer.onnx", threads=1).neutral_reference is None


def test_with_a_reference_a_resting_face_reads_as_the_reference_after_calibration() -> None:
    resting = rows(("sad", 0.55))
    settings = Settings(max_shift=10.0, neutral_reference=tuple(REFERENCE))
    calibrated = fit_profile("a" * 64, {"neutral": resting}, settings=settings).apply(resting)
    target = np.exp(REFERENCE) / np.exp(REFERENCE).sum()
    np.testing.assert_allclose(calibrated[0], target, atol=1e-4)


def test_the_reference_does_not_lift_the_classes_a_resting_face_shows_least() -> None:
    """The even target spread 40 % over six classes, so it lifted disgust and surprise, which a resting
    face hardly shows, for every face of everyone calibrated; the reference keeps them where a
    typical resting face has them."""
    resting = np.exp(np.asarray([REFERENCE], dtype=np.float64))
    resting = (resting / resting.sum()).astype(np.float32)
    even = fit_profile("a" * 64, {"neutral": resting})
    aimed = fit_profile("a" * 64, {"neutral": resting}, settings=Settings(neutral_reference=tuple(REFERENCE)))
    disgust = EMOTIONS.index("disgust")
    assert even.baseline[disgust] > 0.5
    assert max(abs(v) for v in aimed.baseline) < 1e-4


def test_calibrating_with_the_bundled_model_aims_at_its_reference(bundled_analyzer: Analyzer) -> None:
    """The wiring: ``moodtape.calibrate`` (through ``profile_from_examples``) uses the classifier's
    reference, so a resting face a little off it reads exactly as the reference afterwards."""
    reference = np.asarray(bundled_analyzer.classifier.neutral_reference, dtype=np.float64)
    nudged = np.exp(reference + np.array([0.3, -0.2, 0.1, 0.0, 0.4, -0.1, -0.2]))
    resting = (nudged / nudged.sum()).astype(np.float32)
    profile = profile_from_examples(bundled_analyzer, {"neutral": [Example(resting, None, 1)]})
    target = np.exp(reference) / np.exp(reference).sum()
    np.testing.assert_allclose(profile.apply(resting[None])[0], target, atol=1e-4)
