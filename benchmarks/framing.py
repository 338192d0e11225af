"""Face framing: how the crop around a Haar box changes accuracy, on generated scenes.

    python -m benchmarks.framing SCENES_DIR

FER2013's faces are framed by its own pipeline, a Haar box by OpenCV's cascade; the classifier
sees whatever crop we cut. For every detected-and-matched face in SCENES_DIR (FER faces pasted
on backgrounds by ``../shared/bench/make_scenes.py``) this measures the detector box relative to
the pasted face (the true FER framing) and the labelling accuracy for crops of several scales and
vertical shifts, with the true FER framing as the upper bound.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.scenes import load_scenes, match
from moodtape.emotions import EMOTIONS
from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.faces import FaceDetector
from moodtape.vision.framing import Framing

SCALES = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
SHIFTS = (-0.1, 0.0, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path)
    args = parser.parse_args()
    scenes = load_scenes(args.scenes)
    detector, classifier = FaceDetector(), load_classifier()
    detected: list[tuple[np.ndarray, Box, Box, int]] = []  # (gray, haar box, true box, label)
    for scene in scenes:
        boxes = detector.detect(scene.gray)
        for i, j in match([list(b) for b in boxes], scene.boxes):
            truth = Box(*scene.boxes[j])
            detected.append((scene.gray, boxes[i], truth, EMOTIONS.index(scene.emotions[j])))
    relative = np.array([((h.x - t.x) / t.w, (h.y - t.y) / t.h, h.w / t.w, h.h / t.h) for _, h, t, _ in detected])
    labels = np.array([label for *_, label in detected])

    def accuracy(crops: list[np.ndarray]) -> float:
        return float((classifier.predict(crops).argmax(1) == labels).mean())

    table = {
        f"scale={scale} shift={shift}": accuracy([Framing(scale, shift).crop(g, h) for g, h, _, _ in detected])
        for scale in SCALES
        for shift in SHIFTS
    }
    result = {
        "matched_faces": len(detected),
        "haar_box_relative_to_fer_frame_median": dict(
            zip(("x", "y", "w", "h"), np.round(np.median(relative, axis=0), 3).tolist(), strict=True)
        ),
        "accuracy_true_fer_framing": accuracy([Framing().crop(g, t) for g, _, t, _ in detected]),
        "accuracy_by_framing": table,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
