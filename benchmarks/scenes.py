"""Scoring detections on labelled scenes the same way ``../shared/bench/fer_scenes.py`` scores fer.

Scenes come from ``../shared/bench/make_scenes.py`` (640×480 frames with 1–4 FER2013 faces on
textured backgrounds and a ``labels.json``). Boxes are matched greedily at IoU ≥ 0.3, so our
figures and fer's compare directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

IOU_MIN = 0.3
BoxLike = Sequence[int]


@dataclass
class Scene:
    """One labelled frame."""

    name: str
    gray: npt.NDArray[np.uint8]
    bgr: npt.NDArray[np.uint8]
    boxes: list[list[int]]
    emotions: list[str]


def load_scenes(folder: Path) -> list[Scene]:
    """Read every scene listed in ``folder/labels.json``."""
    labels = json.loads((folder / "labels.json").read_text())
    scenes = []
    for name in sorted(labels):
        bgr = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        scenes.append(Scene(name, gray, bgr, [f["box"] for f in labels[name]], [f["emotion"] for f in labels[name]]))
    return scenes


def iou(a: BoxLike, b: BoxLike) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def match(predicted: Sequence[BoxLike], truth: Sequence[BoxLike]) -> list[tuple[int, int]]:
    """Greedy IoU matching, best pairs first; returns ``[(predicted_index, truth_index)]``."""
    pairs = sorted(((iou(p, t), i, j) for i, p in enumerate(predicted) for j, t in enumerate(truth)), reverse=True)
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for value, i, j in pairs:
        if value >= IOU_MIN and i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j))
    return out


@dataclass
class Tally:
    """Running counts for recall and labelling accuracy."""

    faces: int = 0
    matched: int = 0
    correct: int = 0
    false_positives: int = 0
    milliseconds: list[float] = field(default_factory=list)

    def add(self, predicted_boxes: Sequence[BoxLike], predicted_emotions: Sequence[str], scene: Scene) -> None:
        pairs = match(predicted_boxes, scene.boxes)
        self.faces += len(scene.boxes)
        self.matched += len(pairs)
        self.false_positives += len(predicted_boxes) - len(pairs)
        self.correct += sum(predicted_emotions[i] == scene.emotions[j] for i, j in pairs)

    def summary(self) -> dict[str, float | int | None]:
        ms = np.asarray(self.milliseconds) if self.milliseconds else np.zeros(1)
        return {
            "n_faces": self.faces,
            "recall": round(self.matched / self.faces, 4) if self.faces else None,
            "false_positives": self.false_positives,
            "accuracy_on_matched": round(self.correct / self.matched, 4) if self.matched else None,
            "end_to_end_accuracy": round(self.correct / self.faces, 4) if self.faces else None,
            "ms_median": round(float(np.median(ms)), 2),
            "ms_p95": round(float(np.percentile(ms, 95)), 2),
        }
