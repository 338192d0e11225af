"""Temperature scaling recovers a known temperature; ECE measures what calibration fixes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.training.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from moodtape.vision.classifier import softmax


def calibrated_sample(n: int, temperature: float, seed: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Logits ``z`` and labels drawn so that ``softmax(z / temperature)`` is exactly calibrated."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0.0, 1.5, size=(n, 7))
    true_logits[np.arange(n), rng.integers(0, 7, size=n)] += 2.0  # a clear favourite, like a real model
    probabilities = softmax(true_logits.astype(np.float32)).astype(np.float64)
    cumulative = probabilities.cumsum(axis=1)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1).clip(0, 6).astype(np.int64)
    return (true_logits * temperature).astype(np.float32), labels


@pytest.mark.parametrize("temperature", [0.6, 1.0, 2.5])
def test_fit_temperature_recovers_the_true_temperature(temperature: float) -> None:
    logits, labels = calibrated_sample(20_000, temperature, seed=int(temperature * 10))
    assert fit_temperature(logits, labels) == pytest.approx(temperature, rel=0.1)


def test_fitted_temperature_minimises_the_nll() -> None:
    logits, labels = calibrated_sample(5_000, 2.0, seed=3)
    fitted = fit_temperature(logits, labels)
    best = negative_log_likelihood(logits, labels, fitted)
    assert best < negative_log_likelihood(logits, labels, fitted * 1.2)
    assert best < negative_log_likelihood(logits, labels, fitted / 1.2)


def test_scaling_lowers_the_calibration_error_of_an_overconfident_model() -> None:
    logits, labels = calibrated_sample(20_000, 2.5, seed=4)
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, fit_temperature(logits, labels)), labels)
    assert before > 0.1
    assert after < before / 3
    assert after < 0.03


def test_calibrated_data_has_a_small_ece() -> None:
    logits, labels = calibrated_sample(20_000, 1.0, seed=5)
    assert expected_calibration_error(softmax(logits), labels) < 0.02


def test_ece_of_a_sure_but_half_wrong_model_is_one_half() -> None:
    probabilities = np.zeros((10, 7), dtype=np.float32)
    probabilities[:, 3] = 1.0
    labels = np.array([3] * 5 + [4] * 5, dtype=np.int64)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.5)


def test_reliability_bins_cover_every_prediction() -> None:
    logits, labels = calibrated_sample(1_000, 1.0, seed=6)
    bins = reliability(softmax(logits), labels, bins=10)
    assert len(bins) == 10
    assert sum(b.count for b in bins) == 1_000
    assert bins[0].low == 0.0 and bins[-1].high == 1.0
    for b in bins:
        if b.count:
            assert b.low <= b.confidence <= b.high
            assert 0.0 <= b.accuracy <= 1.0
