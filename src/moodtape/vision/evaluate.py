"""Scoring an emotion model on labelled face crops: accuracy, per-class P/R/F1, confusion matrix.

Every image is taken as an already-cropped face (no detection), so ``n`` counts every image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from moodtape.emotions import EMOTIONS, NUM_EMOTIONS
from moodtape.training.datasets import FaceDataset
from moodtape.vision.classifier import EmotionClassifier


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class, as fractions, and its number of images.

    None where the score is undefined (0/0), as scikit-learn's ``zero_division`` warns: precision
    for a class never predicted, recall for one with no images, F1 for one neither predicted nor
    present. A 0.00 % there read as a class the model always gets wrong.
    """

    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass(frozen=True)
class Evaluation:
    """What ``moodtape evaluate`` reports."""

    n: int
    accuracy: float
    per_class: dict[str, ClassScore]
    confusion: npt.NDArray[np.int64]  # rows: true label, columns: predicted label
    probabilities: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int64]

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: ``{"n", "accuracy", "per_class": {label: {...}}, "confusion"}``."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 6),
            "per_class": {
                label: {
                    "precision": _rounded(score.precision),
                    "recall": _rounded(score.recall),
                    "f1": _rounded(score.f1),
                    "support": score.support,
                }
                for label, score in self.per_class.items()
            },
            "confusion": self.confusion.tolist(),
        }


def _rounded(value: float | None) -> float | None:
    """A score for ``--json``: 6 decimals, or null where it is undefined."""
    return None if value is None else round(value, 6)


def _ratio(part: int, whole: int) -> float | None:
    """``part / whole``, None (undefined) for 0/0."""
    return part / whole if whole else None


def predict_dataset(
    classifier: EmotionClassifier, dataset: FaceDataset, batch_size: int = 256, progress: bool = True
) -> npt.NDArray[np.float32]:
    """Probabilities ``(n, 7)`` for every image of ``dataset``."""
    chunks = []
    starts = range(0, len(dataset), batch_size)
    for start in tqdm(starts, desc="classifying", unit="batch", disable=not progress, leave=False):
        crops = list(dataset.images[start : start + batch_size])
        chunks.append(classifier.predict(crops))
    return np.concatenate(chunks) if chunks else np.zeros((0, NUM_EMOTIONS), dtype=np.float32)


def score(probabilities: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]) -> Evaluation:
    """Accuracy, per-class scores and the confusion matrix of ``probabilities`` against ``labels``."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((NUM_EMOTIONS, NUM_EMOTIONS), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {}
    for i, label in enumerate(EMOTIONS):
        true_positive = int(confusion[i, i])
        predicted_count = int(confusion[:, i].sum())
        support = int(confusion[i].sum())
        # F1 = 2 TP / (2 TP + FP + FN), so it is defined (0 without a hit) whenever one side is.
        f1 = _ratio(2 * true_positive, predicted_count + support)
        per_class[label] = ClassScore(
            _ratio(true_positive, predicted_count), _ratio(true_positive, support), f1, support
        )
    n = len(labels)
    accuracy = float((predicted == labels).mean()) if n else 0.0
    return Evaluation(n, accuracy, per_class, confusion, probabilities, labels)


def evaluate(classifier: EmotionClassifier, dataset: FaceDataset, progress: bool = True) -> Evaluation:
    """Classify every image of ``dataset`` and score the predictions."""
    return score(predict_dataset(classifier, dataset, progress=progress), dataset.labels)


def format_report(evaluation: Evaluation) -> str:
    """A readable text report: accuracy, per-class table and confusion matrix."""
    lines = [f"n = {evaluation.n}   accuracy = {evaluation.accuracy:.2%}", ""]
    lines.append(f"{'class':<10}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}")
    for label, s in evaluation.per_class.items():
        lines.append(f"{label:<10}{_percent(s.precision):>10}{_percent(s.recall):>9}{_percent(s.f1):>8}{s.support:>9d}")
    if any(None in (s.precision, s.recall) for s in evaluation.per_class.values()):
        lines.append("- undefined: a class never predicted has no precision, one with no images no recall")
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    lines.append(" " * 10 + "".join(f"{label[:7]:>8}" for label in EMOTIONS))
    for label, row in zip(EMOTIONS, evaluation.confusion, strict=True):
        lines.append(f"{label:<10}" + "".join(f"{v:>8d}" for v in row))
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    """A score in the text report; a dash where it is undefined (nothing to divide by)."""
    return "-" if value is None else f"{value:.2%}"


def plot_confusion(evaluation: Evaluation, path: Path, title: str = "Confusion matrix") -> Path:
    """Write a row-normalised confusion-matrix heat map (counts annotated) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = evaluation.confusion
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=120)
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(NUM_EMOTIONS), EMOTIONS, rotation=35, ha="right")
    ax.set_yticks(range(NUM_EMOTIONS), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\nn = {evaluation.n}, accuracy = {evaluation.accuracy:.1%}")
    for i in range(NUM_EMOTIONS):
        for j in range(NUM_EMOTIONS):
            colour = "white" if rates[i, j] > 0.5 else "black"
            ax.text(j, i, f"{rates[i, j]:.0%}\n{counts[i, j]}", ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
