"""Small faces in large photos: FER2013 faces of 40–60 px pasted into 4000 × 3000 pictures.

    python -m benchmarks.large_photos ../shared/datasets/fer2013/publictest [--photos 12] [--faces 4]
        [--sizes 40,45,50,60] [--width 4000 --height 3000] [--detector yunet,haar] [--json OUT.json]

A phone photo of a room, a stage or a street holds faces of 40–60 px. Each photo is one of
scikit-image's sample pictures enlarged to the photo's size (bicubic, with mild sensor noise),
with ``--faces`` PublicTest faces pasted at random places, each enlarged from 48 px to one of
``--sizes``; the same pictures with nothing pasted give the false faces of faceless photos. Each
photo goes through ``Analyzer.analyze_gray`` like an upload and is scored like the scenes (IoU ≥ 0.3).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data as samples

from benchmarks.scenes import Scene, Tally
from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import DETECTORS, Analyzer, make_detector

BACKGROUNDS = ("coffee", "chelsea", "rocket", "brick", "camera", "grass", "gravel", "moon", "page", "text")


def background(name: str, width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A sample picture enlarged to ``width`` × ``height`` with noise of σ = 3 gray levels."""
    picture = np.asarray(getattr(samples, name)())
    if picture.ndim == 3:
        picture = cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
    enlarged = cv2.resize(picture, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(enlarged + rng.normal(0, 3, enlarged.shape), 0, 255).astype(np.uint8)


def make_photo(
    index: int, faces: npt.NDArray[np.uint8], labels: npt.NDArray[np.int64], args: argparse.Namespace
) -> tuple[Scene, Scene]:
    """Photo ``index`` with faces pasted, and the same picture with none."""
    rng = np.random.default_rng(index)
    gray = background(BACKGROUNDS[index % len(BACKGROUNDS)], args.width, args.height, rng)
    empty = gray.copy()
    boxes: list[list[int]] = []
    emotions: list[str] = []
    sizes = [int(v) for v in args.sizes.split(",")]
    while len(boxes) < args.faces:
        side = sizes[int(rng.integers(len(sizes)))]
        x, y = int(rng.integers(0, args.width - side)), int(rng.integers(0, args.height - side))
        if any(abs(x - bx) < 3 * side and abs(y - by) < 3 * side for bx, by, _, _ in boxes):
            continue  # keep faces apart: one face per place
        pick = int(rng.integers(len(labels)))
        gray[y : y + side, x : x + side] = cv2.resize(faces[pick], (side, side), interpolation=cv2.INTER_CUBIC)
        boxes.append([x, y, side, side])
        emotions.append(EMOTIONS[int(labels[pick])])
    name = f"photo_{index:03d}"
    return Scene(name, gray, gray, boxes, emotions), Scene(name + "_empty", empty, empty, [], [])


def run(analyzer: Analyzer, scenes: list[Scene]) -> dict[str, Any]:
    """Recall, false faces, labels and ms per photo for ``scenes``."""
    tally = Tally()
    for scene in scenes:
        start = time.perf_counter()
        found = analyzer.analyze_gray(scene.gray)
        tally.milliseconds.append(1000 * (time.perf_counter() - start))
        tally.add([list(face.box) for face in found], [face.emotion for face in found], scene)
    return tally.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split", type=Path, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--photos", type=int, default=12)
    parser.add_argument("--faces", type=int, default=4, help="faces pasted into each photo")
    parser.add_argument("--sizes", default="40,45,50,60", help="face sides in pixels, drawn at random")
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--detector", default=",".join(DETECTORS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dataset = load_dataset(args.split)
    pairs = [make_photo(i, dataset.images, dataset.labels, args) for i in range(args.photos)]
    classifier = load_classifier(threads=1)
    report: dict[str, Any] = {"photos": args.photos, "size": [args.width, args.height]}
    for name in args.detector.split(","):
        analyzer = Analyzer(make_detector(name), classifier)
        analyzer.analyze_gray(pairs[0][1].gray)  # warm up: model loads and first-call allocations
        report[name] = {
            "with_faces": run(analyzer, [with_faces for with_faces, _ in pairs]),
            "faceless": run(analyzer, [empty for _, empty in pairs]),
        }
        print(name, json.dumps(report[name]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
