"""Exposure: PublicTest faces darkened or washed out, read with and without the contrast stretch.

    python -m benchmarks.exposure ../shared/datasets/fer2013/publictest --json docs/benchmark-exposure.json

Each face's levels are scaled (``level × gain + lift``, rounded and clipped to 0–255, sometimes with
sensor noise), as a camera that exposes too little or a hazy, backlit picture does; the robustness
suite's gamma conditions keep black black and white white, so they never test this. The bundled
model reads every copy twice: with its preset's stretch (``vision/exposure.py``) and without. Besides
accuracy, ``confident_wrong`` counts the faces labelled wrong *and* not marked uncertain: what a user
sees as a confident wrong answer.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import EmotionClassifier, load_classifier

#: (name, gain, lift, noise sigma in gray levels)
EXPOSURES: tuple[tuple[str, float, float, float], ...] = (
    ("as given", 1.0, 0.0, 0.0),
    ("levels × 0.5", 0.5, 0.0, 0.0),
    ("levels × 0.3", 0.3, 0.0, 0.0),
    ("levels × 0.15", 0.15, 0.0, 0.0),
    ("levels × 0.08", 0.08, 0.0, 0.0),
    ("levels × 0.15, noise σ 2", 0.15, 0.0, 2.0),
    ("levels × 0.08, noise σ 1.5", 0.08, 0.0, 1.5),
    ("washed out: × 0.35 + 150", 0.35, 150.0, 0.0),
    ("hazy: × 0.5 + 100", 0.5, 100.0, 0.0),
)


def exposed(faces: npt.NDArray[np.uint8], gain: float, lift: float, noise: float, seed: int = 0) -> list[np.ndarray]:
    levels = faces.astype(np.float32) * gain + lift
    if noise:
        levels += np.random.default_rng(seed).normal(0.0, noise, levels.shape).astype(np.float32)
    return list(np.clip(np.round(levels), 0, 255).astype(np.uint8))


def scores(classifier: EmotionClassifier, crops: list[np.ndarray], labels: npt.NDArray[np.int64]) -> dict[str, float]:
    probabilities = np.concatenate([classifier.predict(crops[i : i + 512]) for i in range(0, len(crops), 512)])
    right = probabilities.argmax(1) == labels
    sure = ~classifier.is_uncertain(probabilities)
    return {
        "accuracy": round(float(right.mean()), 4),
        "confident_wrong": round(float((~right & sure).mean()), 4),
        "mean_top_probability": round(float(probabilities.max(1).mean()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces", type=Path, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    dataset = load_dataset(args.faces)
    faces, labels = np.asarray(dataset.images), np.asarray(dataset.labels, np.int64)
    stretched = load_classifier()
    plain = load_classifier()
    plain.preset = replace(plain.preset, stretch=False)
    results: dict[str, Any] = {"n_faces": len(labels), "exposures": {}}
    for name, gain, lift, noise in tqdm(EXPOSURES, desc="exposures", unit="exposure"):
        crops = exposed(faces, gain, lift, noise)
        results["exposures"][name] = {
            "stretched": scores(stretched, crops, labels),
            "plain": scores(plain, crops, labels),
        }
    text = json.dumps(results, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
