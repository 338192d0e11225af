"""Scoring: accuracy, per-class precision/recall/F1, confusion matrix, JSON shape and the PNG plot."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from onnx_models import mean_model

from moodtape.emotions import EMOTIONS, emotion_index
from moodtape.training.datasets import FaceDataset
from moodtape.vision.classifier import META_PRESET, classifier_from_onnx
from moodtape.vision.evaluate import Evaluation, evaluate, format_report, plot_confusion, predict_dataset, score

TRUE = ["angry", "angry", "disgust", "disgust", "happy", "happy", "happy", "neutral"]
PREDICTED = ["angry", "disgust", "disgust", "disgust", "happy", "happy", "angry", "neutral"]


def one_hot_rows(names: list[str]) -> npt.NDArray[np.float32]:
    rows = np.full((len(names), 7), 0.02, dtype=np.float32)
    rows[np.arange(len(names)), [emotion_index(n) for n in names]] = 0.88
    return rows


@pytest.fixture
def evaluation() -> Evaluation:
    labels = np.array([emotion_index(n) for n in TRUE], dtype=np.int64)
    return score(one_hot_rows(PREDICTED), labels)


def test_accuracy_and_confusion(evaluation: Evaluation) -> None:
    assert evaluation.n == 8
    assert evaluation.accuracy == pytest.approx(6 / 8)
    assert evaluation.confusion.shape == (7, 7)
    assert evaluation.confusion.sum() == 8
    assert np.trace(evaluation.confusion) == 6
    angry, disgust, happy = (emotion_index(n) for n in ("angry", "disgust", "happy"))
    assert evaluation.confusion[angry, disgust] == 1  # rows are true labels, columns predictions
    assert evaluation.confusion[happy, angry] == 1


@pytest.mark.parametrize(
    ("label", "precision", "recall", "support"),
    [
        ("angry", 1 / 2, 1 / 2, 2),  # predicted twice (one right), 2 true
        ("disgust", 2 / 3, 2 / 2, 2),
        ("happy", 2 / 2, 2 / 3, 3),
        ("neutral", 1.0, 1.0, 1),
        ("sad", None, None, 0),  # never true, never predicted: undefined (session 36; was 0.0)
    ],
)
def test_per_class_scores(
    evaluation: Evaluation, label: str, precision: float | None, recall: float | None, support: int
) -> None:
    scores = evaluation.per_class[label]
    assert scores.precision == (None if precision is None else pytest.approx(precision))
    assert scores.recall == (None if recall is None else pytest.approx(recall))
    expected_f1 = None if precision is None or recall is None else 2 * precision * recall / (precision + recall)
    assert scores.f1 == (None if expected_f1 is None else pytest.approx(expected_f1))
    assert scores.support == support


def test_to_dict_has_the_documented_shape(evaluation: Evaluation) -> None:
    result = json.loads(json.dumps(evaluation.to_dict()))
    assert {"n", "accuracy", "per_class"} <= set(result)
    assert result["n"] == 8
    assert 0 <= result["accuracy"] <= 1
    assert list(result["per_class"]) == list(EMOTIONS)
    for scores in result["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert all(scores[key] is None or 0 <= scores[key] <= 1 for key in ("precision", "recall", "f1"))
        assert isinstance(scores["support"], int)
    assert sum(s["support"] for s in result["per_class"].values()) == 8


def test_empty_input_scores_zero() -> None:
    result = score(np.zeros((0, 7), dtype=np.float32), np.zeros(0, dtype=np.int64))
    assert result.n == 0 and result.accuracy == 0.0
    assert all(s.support == 0 for s in result.per_class.values())


def test_report_names_accuracy_and_every_class(evaluation: Evaluation) -> None:
    report = format_report(evaluation)
    assert "accuracy = 75.00%" in report
    for label in EMOTIONS:
        assert label in report


def test_plot_confusion_writes_a_png(evaluation: Evaluation, tmp_path: Path) -> None:
    path = plot_confusion(evaluation, tmp_path / "plots" / "confusion.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] > 300 and image.shape[1] > 300
    assert image.std() > 10  # something is drawn


def test_evaluate_a_model_on_a_dataset_counts_every_image() -> None:
    # A stand-in model: dark faces → angry, bright faces → happy.
    weights = [-10.0, 0, 0, 10.0, 0, 0, 0]
    bias = [5.0, 0, 0, -5.0, 0, 0, 0]
    classifier = classifier_from_onnx(mean_model(["N", 1, 48, 48], weights, bias, {META_PRESET: "moodtape"}), name="m")
    values = [10, 20, 30, 240, 250, 245]
    labels = np.array([0, 0, 0, 3, 3, 4], dtype=np.int64)  # the last bright face is labelled sad
    dataset = FaceDataset(
        np.stack([np.full((48, 48), v, dtype=np.uint8) for v in values]), labels, tuple(map(str, values))
    )
    assert predict_dataset(classifier, dataset, batch_size=4, progress=False).shape == (6, 7)
    result = evaluate(classifier, dataset, progress=False)
    assert result.n == 6
    assert result.accuracy == pytest.approx(5 / 6)
    assert result.per_class["sad"].recall == 0.0
    assert result.per_class["happy"].precision == pytest.approx(2 / 3)
