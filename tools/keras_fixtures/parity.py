"""Parity of moodtape's Keras converter with TensorFlow, and the fer model's accuracy through moodtape.

Runs in moodtape's own environment (no TensorFlow): it compares ONNX Runtime on the converted
models with the TensorFlow outputs that ``make_fixtures.py`` and ``fer_reference.py`` stored::

    .venv/bin/python tools/keras_fixtures/parity.py \\
        --full /work/scratch/fer-publictest-reference.npz --split ../shared/datasets/fer2013/publictest

Prints one JSON document: for each fixture and for the full PublicTest run, the max and mean
absolute difference and the share of equal top labels; the conversion time of each model (median
of 5); and with ``--split``, the fer model's accuracy when moodtape's classifier
(``load_classifier(h5, preset="fer-library")``) preprocesses the original 48×48 images itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from moodtape.emotions import EMOTIONS
from moodtape.vision.classifier import load_classifier
from moodtape.vision.keras_h5 import convert_h5

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
FER_MODEL = FIXTURES / "fer_emotion_model.hdf5"


def fer_input(images: np.ndarray) -> np.ndarray:
    return (((images.astype(np.float32) / 255.0) - 0.5) * 2.0)[..., None]


def compare(got: np.ndarray, expected: np.ndarray) -> dict[str, Any]:
    diff = np.abs(got.astype(np.float64) - expected)
    return {
        "n": len(got),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "top_label_agreement": float((got.argmax(axis=1) == expected.argmax(axis=1)).mean()),
    }


def run(model: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(convert_h5(model).SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def conversion_ms(model: Path) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        convert_h5(model)
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", type=Path, help="fer_reference.py's --full output (all PublicTest images)")
    parser.add_argument("--split", type=Path, help="FER2013 PublicTest folder, for the accuracy through moodtape")
    parser.add_argument("--variants", type=Path, help="make_variants.py's output folder (<name>.h5 + <name>.npz)")
    args = parser.parse_args()
    report: dict[str, Any] = {"fixtures": {}, "conversion_ms": {}}

    for name in ["tutorial_k3", "tutorial_k2", "layers_k3", "layers_k2"]:
        ref = np.load(FIXTURES / f"{name}.npz")
        x = ref["inputs"].astype(np.float32) * np.float32(ref["scale"]) + np.float32(ref["offset"])
        report["fixtures"][name] = compare(run(FIXTURES / f"{name}.h5", x), ref["outputs"])
        report["conversion_ms"][name] = conversion_ms(FIXTURES / f"{name}.h5")
    ref = np.load(FIXTURES / "fer_publictest64.npz")
    report["fixtures"]["fer_publictest64"] = compare(run(FER_MODEL, fer_input(ref["images"])), ref["outputs"])
    report["conversion_ms"]["fer_emotion_model"] = conversion_ms(FER_MODEL)

    if args.variants:
        report["variants"] = {}
        for reference in sorted(args.variants.glob("*.npz")):
            ref = np.load(reference)
            x = ref["inputs"].astype(np.float32) * np.float32(ref["scale"]) + np.float32(ref["offset"])
            got = run(reference.with_suffix(".h5"), x)
            report["variants"][reference.stem] = compare(got, ref["outputs"])

    if args.full:
        full = np.load(args.full)
        got = run(FER_MODEL, fer_input(full["images"]))
        report["publictest"] = compare(got, full["outputs"])
        report["publictest"]["accuracy_tensorflow"] = float((full["outputs"].argmax(1) == full["labels"]).mean())
        report["publictest"]["accuracy_moodtape_onnx"] = float((got.argmax(1) == full["labels"]).mean())

    if args.split:
        import cv2

        classifier = load_classifier(FER_MODEL, preset="fer-library", threads=2)
        correct = total = 0
        for label, emotion in enumerate(EMOTIONS):
            paths = sorted((args.split / emotion).glob("*.jpg"))
            crops = [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in paths]
            correct += int((classifier.predict(crops).argmax(axis=1) == label).sum())
            total += len(paths)
        report["classifier_accuracy"] = {"n": total, "accuracy": correct / total}

    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
