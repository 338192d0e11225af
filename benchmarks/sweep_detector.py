"""Detector settings against recall and time, on labelled scenes (detection only, no model).

    python -m benchmarks.sweep_detector SCENES_DIR

Prints one line per combination of minimum face size (which sets the search copy's scale),
``scale_factor`` and ``min_neighbors``; the table in docs/benchmarks.md comes from it.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from benchmarks.scenes import Tally, load_scenes
from moodtape.vision.faces import DetectorSettings, FaceDetector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path)
    parser.add_argument("--min-face", default="60,80")
    parser.add_argument("--min-face-detect", default="30,32,36")
    parser.add_argument("--scale-factor", default="1.05,1.1")
    parser.add_argument("--min-neighbors", default="2,3")
    args = parser.parse_args()
    scenes = load_scenes(args.scenes)
    grid = itertools.product(
        [int(v) for v in args.min_face.split(",")],
        [int(v) for v in args.min_face_detect.split(",")],
        [float(v) for v in args.scale_factor.split(",")],
        [int(v) for v in args.min_neighbors.split(",")],
    )
    for min_face, detect, step, neighbours in grid:
        detector = FaceDetector(
            DetectorSettings(min_face=min_face, min_face_detect=detect, scale_factor=step, min_neighbors=neighbours)
        )
        tally = Tally()
        for scene in scenes:
            started = time.perf_counter()
            boxes = detector.detect(scene.gray)
            tally.milliseconds.append((time.perf_counter() - started) * 1000)
            tally.add([list(b) for b in boxes], [""] * len(boxes), scene)
        result = tally.summary()
        print(
            f"min_face={min_face} min_face_detect={detect} scale_factor={step} min_neighbors={neighbours}: "
            f"recall {result['recall']} false {result['false_positives']} ms {result['ms_median']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
