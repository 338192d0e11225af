"""The robustness suite's measurements, small: conditions on a few faces, Yale photos faked in code.

A larger run on PublicTest (every 20th face) is marked slow and skips where the data is absent.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from moodtape.training.datasets import FaceDataset, load_dataset
from moodtape.types import Box, Face
from moodtape.vision.classifier import EmotionClassifier, load_classifier
from moodtape.vision.conditions import CONDITIONS
from moodtape.vision.robustness import (
    Photo,
    condition_accuracy,
    confusion_of,
    largest_face_labels,
    photo_accuracy,
    transformed,
    yale_photos,
)

PUBLICTEST = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "fer2013" / "publictest"


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return load_classifier(threads=1)


def test_every_condition_is_measured_on_faces(
    classifier: EmotionClassifier, astronaut_gray: npt.NDArray[np.uint8]
) -> None:
    face = np.asarray(cv2.resize(astronaut_gray[30:230, 150:350], (48, 48), interpolation=cv2.INTER_AREA))
    dataset = FaceDataset(np.stack([face, face[:, ::-1]]), np.array([3, 3]), ("a", "b"))  # happy, twice
    accuracy = condition_accuracy(classifier, dataset)
    assert list(accuracy) == [c.name for c in CONDITIONS]
    assert all(value in (0.0, 0.5, 1.0) for value in accuracy.values())
    assert accuracy["clean"] == 1.0  # the astronaut smiles, mirrored or not
    changed = transformed(dataset, CONDITIONS[1])
    assert not np.array_equal(changed.images, dataset.images) and changed.labels is dataset.labels


def test_yale_photos_are_labelled_by_condition(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    for name in ("subject01.happy", "subject01.sleepy", "subject02.leftlight", "subject02.surprised"):
        cv2.imwrite(str(tmp_path / "images" / f"{name}.png"), np.zeros((8, 8), np.uint8))
    photos = yale_photos(tmp_path)
    assert [(p.condition, p.label) for p in photos] == [
        ("happy", "happy"),
        ("leftlight", "neutral"),
        ("surprised", "surprise"),
    ]


def face(emotion: str, side: int) -> Face:
    probabilities = dict.fromkeys(("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"), 0.0)
    probabilities[emotion] = 1.0
    return Face(box=Box(0, 0, side, side), probabilities=probabilities)


def test_photo_accuracy_scores_the_largest_face_and_counts_misses_as_wrong() -> None:
    photos = [
        Photo(Path("a"), "happy", "happy"),
        Photo(Path("b"), "sad", "sad"),
        Photo(Path("c"), "leftlight", "neutral"),
        Photo(Path("d"), "normal", "neutral"),
    ]
    found = {"a": [face("sad", 10), face("happy", 50)], "b": [], "c": [face("neutral", 40)], "d": [face("angry", 40)]}
    predicted = largest_face_labels(lambda path: found[str(path)], photos)
    assert predicted == ["happy", None, "neutral", "angry"]
    report = photo_accuracy(photos, predicted)
    assert report["all"] == {"n": 4.0, "accuracy": 0.5, "no_face": 0.25}
    assert report["expressions"]["accuracy"] == pytest.approx(1 / 3)
    assert report["side-lit"]["accuracy"] == 1.0 and "glasses" not in report
    assert confusion_of(photos, predicted)["sad"]["none"] == 1


@pytest.mark.slow
def test_publictest_conditions_cost_accuracy(classifier: EmotionClassifier) -> None:
    if not PUBLICTEST.is_dir():
        pytest.skip("FER2013 not available")
    full = load_dataset(PUBLICTEST)
    dataset = FaceDataset(full.images[::20], full.labels[::20], full.sources[::20])
    accuracy = condition_accuracy(classifier, dataset)
    assert accuracy["clean"] >= 0.6
    # Hiding the mouth or most of the detail must cost accuracy; nothing should beat clean by much.
    for name in ("mask", "downscale", "blur"):
        assert accuracy[name] < accuracy["clean"] - 0.05, name
    assert max(accuracy.values()) <= accuracy["clean"] + 0.03
