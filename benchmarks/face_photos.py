"""Photos that are one face: FER2013's tight crops, enlarged, through the whole pipeline.

    python -m benchmarks.face_photos ../shared/datasets/fer2013/publictest [--sizes 48,64,100,150,250,400,800,1200,2000]
        [--every 1] [--detector yunet,haar] [--json OUT.json]

A cropped selfie, a profile picture or a data set's face crop is a photo whose face touches its
borders. Each PublicTest face (48×48) is enlarged (bicubic) to each size and given to
``Analyzer.analyze`` like an upload; the largest face's label is scored, and a photo where no face
is found counts as wrong (what a user gets). "classifier alone" is the same model on the 48×48
crops with no detection: the ceiling the detector can reach.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import load_classifier
from moodtape.vision.evaluate import predict_dataset
from moodtape.vision.pipeline import DETECTORS, Analyzer, make_detector


def face_photo_accuracy(analyzer: Analyzer, faces: np.ndarray, labels: np.ndarray, side: int) -> dict[str, float]:
    """Share of photos with a face found, and with the right label, at ``side`` pixels."""
    found = right = 0
    for face, label in zip(faces, labels, strict=True):
        photo = face if side == face.shape[0] else cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        result = analyzer.analyze_gray(np.ascontiguousarray(photo))
        if result:
            found += 1
            right += result[0].emotion == EMOTIONS[int(label)]
    return {"found": found / len(labels), "accuracy": right / len(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split", type=Path, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--sizes", default="48,64,100,150,250,400,800,1200,2000")
    parser.add_argument("--every", type=int, default=1, help="use every n-th face (1: all)")
    parser.add_argument("--detector", default=",".join(DETECTORS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = load_dataset(args.split)
    faces, labels = data.images[:: args.every], data.labels[:: args.every]
    classifier = load_classifier()
    alone = predict_dataset(classifier, data, progress=False).argmax(1)[:: args.every]
    report: dict[str, Any] = {"faces": len(labels), "classifier_alone": float((alone == labels).mean())}
    sizes = [int(v) for v in args.sizes.split(",")]
    for name in args.detector.split(","):
        analyzer = Analyzer(make_detector(name), classifier)
        report[name] = {
            str(side): face_photo_accuracy(analyzer, faces, labels, side)
            for side in tqdm(sizes, desc=name, unit="size")
        }
    print(f"{report['faces']} faces; classifier alone on the crops: {100 * report['classifier_alone']:.1f} %")
    print("| detector | " + " | ".join(f"{side} px" for side in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in args.detector.split(","):
        cells = (
            f"{100 * report[name][str(s)]['accuracy']:.1f} % ({100 * report[name][str(s)]['found']:.0f} % found)"
            for s in sizes
        )
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
