"""The robustness suite's measurements: FER2013 faces under each condition, and real photos.

Two questions, two measurements:

* **Conditions** (:func:`condition_accuracy`): every face of a labelled crop set (PublicTest) is
  transformed by each :data:`~moodtape.vision.conditions.CONDITIONS` entry and classified as a
  crop (no detection), so the figure isolates the classifier.
* **Real photos** (:func:`photo_accuracy`): whole photographs (the Yale faces) go through the
  full pipeline, detector included, and the largest face's label is scored; a photo where no
  face is found counts as wrong, because that is what a user gets.

``benchmarks/robustness.py`` runs both for several models and the ``fer`` library and prints the
tables of the model card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import FaceDataset
from moodtape.types import Face
from moodtape.vision.classifier import EmotionClassifier
from moodtape.vision.conditions import CONDITIONS, Condition
from moodtape.vision.evaluate import predict_dataset

#: Yale conditions and the label a person would give them (README of the data set); ``sleepy``
#: and ``wink`` are not among the seven classes and are left out.
YALE_LABELS = {
    "happy": "happy",
    "sad": "sad",
    "surprised": "surprise",
    "normal": "neutral",
    "noglasses": "neutral",
    "glasses": "neutral",
    "centerlight": "neutral",
    "leftlight": "neutral",
    "rightlight": "neutral",
}
#: How the Yale conditions are grouped in the report.
YALE_GROUPS = {
    "expressions": ("happy", "sad", "surprised", "normal"),
    "lighting": ("centerlight", "leftlight", "rightlight"),
    "side-lit": ("leftlight", "rightlight"),
    "glasses": ("glasses", "noglasses"),
}


@dataclass(frozen=True)
class Photo:
    """A labelled real photograph: where it is, its condition and its emotion label."""

    path: Path
    condition: str
    label: str


def transformed(dataset: FaceDataset, condition: Condition) -> FaceDataset:
    """A copy of ``dataset`` with ``condition`` applied to every face."""
    images = np.stack([condition.transform(face) for face in dataset.images]) if len(dataset) else dataset.images
    return FaceDataset(images, dataset.labels, dataset.sources)


def condition_accuracy(
    classifier: EmotionClassifier, dataset: FaceDataset, conditions: Sequence[Condition] = CONDITIONS
) -> dict[str, float]:
    """Accuracy of ``classifier`` on ``dataset`` under each condition, by condition name."""
    results = {}
    for condition in conditions:
        probabilities = predict_dataset(classifier, transformed(dataset, condition), progress=False)
        results[condition.name] = float((probabilities.argmax(1) == dataset.labels).mean()) if len(dataset) else 0.0
    return results


def yale_photos(folder: Path) -> list[Photo]:
    """The labelled photos of the Yale faces (``images/subjectNN.<condition>.png``), sorted."""
    photos = []
    for path in sorted((folder / "images").glob("subject*.*.png")):
        condition = path.name.split(".")[1]
        if condition in YALE_LABELS:
            photos.append(Photo(path, condition, YALE_LABELS[condition]))
    return photos


def largest_face_labels(analyze: Callable[[Path], list[Face]], photos: Iterable[Photo]) -> list[str | None]:
    """The largest face's emotion in each photo (``None`` where no face was found)."""
    labels: list[str | None] = []
    for photo in photos:
        faces = analyze(photo.path)
        labels.append(max(faces, key=lambda f: f.box.w * f.box.h).emotion if faces else None)
    return labels


def photo_accuracy(photos: Sequence[Photo], predicted: Sequence[str | None]) -> dict[str, dict[str, float]]:
    """Per group of :data:`YALE_GROUPS` and ``all``: accuracy and the share with no face found."""
    groups = {"all": tuple(YALE_LABELS), **YALE_GROUPS}
    report = {}
    for group, members in groups.items():
        picked = [(p, label) for p, label in zip(photos, predicted, strict=True) if p.condition in members]
        if not picked:
            continue
        report[group] = {
            "n": float(len(picked)),
            "accuracy": sum(label == p.label for p, label in picked) / len(picked),
            "no_face": sum(label is None for _, label in picked) / len(picked),
        }
    return report


def confusion_of(photos: Sequence[Photo], predicted: Sequence[str | None]) -> dict[str, dict[str, int]]:
    """For each true label, how often each label (or ``none``) was predicted."""
    table: dict[str, dict[str, int]] = {}
    for photo, label in zip(photos, predicted, strict=True):
        row = table.setdefault(photo.label, dict.fromkeys((*EMOTIONS, "none"), 0))
        row[label or "none"] += 1
    return table
