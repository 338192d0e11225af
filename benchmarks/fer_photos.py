"""Run the ``fer`` library's whole stack on photos; prints ``{path: emotion or null}`` as JSON.

Runs inside the fer scratch environment (``../shared/bench/fer-env.sh``), not moodtape's:

    $FER_VENV/bin/python benchmarks/fer_photos.py [--tflite] PHOTO...

The largest face's top emotion is reported, like moodtape's robustness suite does for itself.
"""

import argparse
import json
import logging
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

import cv2  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--tflite", action="store_true", help="fer's default TFLite model instead of Keras")
    args = parser.parse_args()
    from fer.fer import FER  # fer 25.10.3's package __init__ does not export FER

    detector = FER(use_tflite=args.tflite)
    result = {}
    for path in args.photos:
        faces = detector.detect_emotions(cv2.imread(path))
        if faces:
            largest = max(faces, key=lambda face: face["box"][2] * face["box"][3])
            result[path] = max(largest["emotions"], key=largest["emotions"].get)
        else:
            result[path] = None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
