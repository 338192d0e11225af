"""Detector settings against recall and time, on labelled scenes (detection only, no model).

    python -m benchmarks.sweep_detector SCENES_DIR

Prints one line per combination of minimum face size (which sets the search copy's scale),
``scale_factor``, ``min_neighbors`` and ``weak_group_step``; the tables in docs/benchmarks.md
come from it. Generated scenes reward finding faces; the "photo false faces" column counts the
other side on real pictures: faces found in scikit-image's sample photos (each at its own size,
640 and 1024 px wide), of which only the astronaut holds a face.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.scenes import Tally, load_scenes
from moodtape.vision.faces import DetectorSettings, FaceDetector

# scikit-image's bundled sample pictures; only "astronaut" shows a (single) face.
SAMPLE_PHOTOS = (
    *("astronaut", "binary_blobs", "brick", "camera", "cat", "cell", "checkerboard", "chelsea", "clock"),
    *("coffee", "coins", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry"),
    *("logo", "moon", "page", "retina", "rocket", "text"),
)


def sample_photos() -> dict[str, npt.NDArray[np.uint8]]:
    """Gray copies of scikit-image's sample photos at their own width, 640 and 1024 px."""
    from skimage import data  # a test/benchmark dependency only

    photos: dict[str, npt.NDArray[np.uint8]] = {}
    for name in SAMPLE_PHOTOS:
        image = np.asarray(getattr(data, name)())
        if image.dtype != np.uint8:
            image = (image * 255 if image.max() <= 1 else image).astype(np.uint8)
        gray: npt.NDArray[np.uint8] = image if image.ndim == 2 else cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
        photos[name] = gray
        for width in (640, 1024):
            height = round(gray.shape[0] * width / gray.shape[1])
            photos[f"{name}@{width}"] = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
    return photos


def photo_false_faces(detector: FaceDetector, photos: dict[str, npt.NDArray[np.uint8]]) -> int:
    """Faces found beyond the one true face (the astronaut's) across the sample photos."""
    found = 0
    for name, gray in photos.items():
        boxes = detector.detect(gray)
        found += max(0, len(boxes) - 1) if name.startswith("astronaut") else len(boxes)
    return found


def _weak_step(value: str) -> float | None:
    return None if value == "off" else float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path)
    parser.add_argument("--min-face", default="60,80")
    parser.add_argument("--min-face-detect", default="30,32,36")
    parser.add_argument("--scale-factor", default="1.05,1.1")
    parser.add_argument("--min-neighbors", default="2,3")
    parser.add_argument("--weak-group-step", default="off,1.0", help="comma-separated; 'off' is OpenCV's grouping")
    args = parser.parse_args()
    scenes = load_scenes(args.scenes)
    photos = sample_photos()
    grid = itertools.product(
        [int(v) for v in args.min_face.split(",")],
        [int(v) for v in args.min_face_detect.split(",")],
        [float(v) for v in args.scale_factor.split(",")],
        [int(v) for v in args.min_neighbors.split(",")],
        [_weak_step(v) for v in args.weak_group_step.split(",")],
    )
    for min_face, detect, step, neighbours, weak in grid:
        settings = DetectorSettings(
            min_face=min_face,
            min_face_detect=detect,
            scale_factor=step,
            min_neighbors=neighbours,
            weak_group_step=weak,
        )
        detector = FaceDetector(settings)
        tally = Tally()
        for scene in scenes:
            started = time.perf_counter()
            boxes = detector.detect(scene.gray)
            tally.milliseconds.append((time.perf_counter() - started) * 1000)
            tally.add([list(b) for b in boxes], [""] * len(boxes), scene)
        result = tally.summary()
        print(
            f"min_face={min_face} min_face_detect={detect} scale_factor={step} min_neighbors={neighbours} "
            f"weak_group_step={weak}: recall {result['recall']} false {result['false_positives']} "
            f"photo false faces {photo_false_faces(detector, photos)} ms {result['ms_median']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
