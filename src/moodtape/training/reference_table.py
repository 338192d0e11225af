"""Measure a model's neutral reference on FER2013 PublicTest, and keep it in the bundled table.

    python -m moodtape.training.reference_table ../shared/datasets/fer2013/publictest [--model FILE] [--write]

``moodtape export`` writes the reference into each model it makes. The bundled model was exported
before references existed, and rewriting its file would change its SHA-256 and so refuse every
calibration profile people have saved; its reference is kept in
``src/moodtape/vision/models/neutral_references.json`` instead, which ``--write`` updates. Needs
only NumPy, OpenCV and ONNX Runtime (no PyTorch). See :mod:`moodtape.vision.neutral_reference`.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import load_classifier
from moodtape.vision.evaluate import predict_dataset
from moodtape.vision.neutral_reference import REFERENCES_FILE, measure_reference, resting_faces

TABLE = Path(__file__).resolve().parents[1] / "vision" / "models" / REFERENCES_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("publictest", type=Path, help="FER2013 PublicTest, folder layout (or the CSV)")
    parser.add_argument("--model", type=Path, default=None, help="an .onnx or .h5 file (default: the bundled model)")
    parser.add_argument("--write", action="store_true", help=f"add the reference to {TABLE.name}")
    args = parser.parse_args(argv)
    classifier = load_classifier(args.model)
    data = load_dataset(args.publictest)
    probabilities = predict_dataset(classifier, data)
    reference = measure_reference(probabilities, np.asarray(data.labels))
    neutral = np.asarray(data.labels) == EMOTIONS.index("neutral")
    chosen = int(resting_faces(probabilities, np.asarray(data.labels)).sum())
    entry = {
        "log_probabilities": list(reference),
        "faces": chosen,
        "measured_on": f"FER2013 PublicTest: the {chosen} of {int(neutral.sum())} faces labelled neutral "
        "that the model reads as neutral",
        "date": datetime.date.today().isoformat(),
    }
    print(json.dumps({classifier.model_id: entry}, indent=2))
    # What a resting face reads as after calibration: the reference's softmax (its exponentials alone
    # are a geometric mean and sum to less than 1).
    shown = np.exp(reference) / np.exp(reference).sum()
    readable = (f"{label} {value:.3f}" for label, value in zip(EMOTIONS, shown, strict=True))
    print("a resting face reads as:", " ".join(readable))
    if args.write:
        table = json.loads(TABLE.read_text(encoding="utf-8")) if TABLE.is_file() else {}
        table[classifier.model_id] = entry
        TABLE.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
