"""Temperature scaling and calibration error, in NumPy (no PyTorch needed).

A network trained with cross-entropy is usually over-confident. Dividing its logits by one
temperature ``T`` fitted on held-out data (we use PublicTest, the split we select on) fixes most of
that without changing any prediction (Guo et al., "On Calibration of Modern Neural Networks",
ICML 2017). Expected calibration error (ECE) measures what is left: the gap between confidence
and accuracy, averaged over 15 equal-width confidence bins.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from moodtape.vision.classifier import softmax

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


def negative_log_likelihood(logits: FloatArray, labels: IntArray, temperature: float) -> float:
    """Mean NLL of ``labels`` under ``softmax(logits / temperature)``."""
    probabilities = softmax(logits, temperature).astype(np.float64)
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, None))))


def fit_temperature(logits: FloatArray, labels: IntArray, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature minimising NLL, by golden-section search on ``log T`` (NLL is unimodal in it)."""
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(80):
        if negative_log_likelihood(logits, labels, float(np.exp(c))) < negative_log_likelihood(
            logits, labels, float(np.exp(d))
        ):
            b, d = d, c
            c = b - ratio * (b - a)
        else:
            a, c = c, d
            d = a + ratio * (b - a)
    return float(np.exp((a + b) / 2))


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin of a reliability diagram."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


def reliability(probabilities: FloatArray, labels: IntArray, bins: int = 15) -> list[ReliabilityBin]:
    """Bin predictions by top probability; each bin's mean confidence and accuracy."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    result = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        count = int(inside.sum())
        result.append(
            ReliabilityBin(
                float(low),
                float(high),
                count,
                float(confidence[inside].mean()) if count else 0.0,
                float(correct[inside].mean()) if count else 0.0,
            )
        )
    return result


def expected_calibration_error(probabilities: FloatArray, labels: IntArray, bins: int = 15) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over the bins."""
    total = len(labels)
    return float(
        sum(b.count / total * abs(b.confidence - b.accuracy) for b in reliability(probabilities, labels, bins))
    )
