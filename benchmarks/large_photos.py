"""Small faces in large photos: FER2013 faces of 40–60 px pasted into 4000 × 3000 pictures.

    python -m benchmarks.large_photos ../shared/datasets/fer2013/publictest [--photos 12] [--faces 4]
        [--sizes 40,45,50,60] [--width 4000 --height 3000] [--detector yunet,haar]
        [--yale ../shared/datasets/yale-faces] [--json OUT.json]

A phone photo of a room, a stage or a street holds faces of 40–60 px. Each photo is one of
scikit-image's sample pictures enlarged to the photo's size (bicubic, with mild sensor noise),
with ``--faces`` PublicTest faces pasted at random places, each enlarged from 48 px to one of
``--sizes``; the same pictures with nothing pasted give the false faces of faceless photos. Each
photo goes through ``Analyzer.analyze_gray`` like an upload and is scored like the scenes (IoU ≥ 0.3).

FER2013's crops are 48-px squares cut tight around the face: enlarged, they are blurry faces with
hard edges and no hair, neck or shoulders, and YuNet is sure (≥ 0.7) of only about half of them
at 40–60 px even in a window of their own. ``--yale`` pastes real photographs instead, at the
same places and sizes: Yale's ``happy``, ``sad``, ``surprised`` and ``normal`` photos, each whole
(face, hair, shoulders, its own backdrop) and shrunk so that its face's FER-framed square (found
by YuNet on the 320 × 243 original) is the drawn size.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data as samples

from benchmarks.scenes import Scene, Tally
from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import DETECTORS, Analyzer, make_detector
from moodtape.vision.robustness import YALE_GROUPS, yale_photos
from moodtape.vision.yunet import YuNetDetector

BACKGROUNDS = ("coffee", "chelsea", "rocket", "brick", "camera", "grass", "gravel", "moon", "page", "text")


def background(name: str, width: int, height: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """A sample picture enlarged to ``width`` × ``height`` with noise of σ = 3 gray levels."""
    picture = np.asarray(getattr(samples, name)())
    if picture.ndim == 3:
        picture = cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
    enlarged = cv2.resize(picture, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    return np.clip(enlarged + rng.normal(0, 3, enlarged.shape), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class FaceSource:
    """Pictures to paste, the FER-framed square of the face in each, and its emotion."""

    pictures: list[npt.NDArray[np.uint8]]
    faces: list[Box]
    emotions: list[str]


def fer_faces(split: Path) -> FaceSource:
    """A split's 48-px crops: each picture is its face."""
    dataset = load_dataset(split)
    return FaceSource(
        list(dataset.images), [Box(0, 0, 48, 48)] * len(dataset), [EMOTIONS[int(label)] for label in dataset.labels]
    )


def yale_faces(folder: Path) -> FaceSource:
    """Yale's expression photos, each with the FER-framed square YuNet finds in it (all are found)."""
    detector = YuNetDetector()
    pictures: list[npt.NDArray[np.uint8]] = []
    faces: list[Box] = []
    emotions: list[str] = []
    for photo in yale_photos(folder):
        if photo.condition in YALE_GROUPS["expressions"]:
            gray = np.asarray(cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE), np.uint8)
            found = detector.detect(gray)
            if found:
                pictures.append(gray)
                faces.append(found[0])
                emotions.append(photo.label)
    return FaceSource(pictures, faces, emotions)


def paste(gray: npt.NDArray[np.uint8], picture: npt.NDArray[np.uint8], face: Box, x: int, y: int, side: int) -> None:
    """Paste ``picture`` resized so that its ``face`` is ``side`` px at ``(x, y)``, cut by the photo's edges.

    Bicubic, as the benchmark always resized FER2013's crops (48 px to 40–60); a picture shrunk to
    under half (Yale's 320 × 243 photos) is averaged instead, as a camera would see it.
    """
    scale = side / face.w
    size = (round(picture.shape[1] * scale), round(picture.shape[0] * scale))
    resized = cv2.resize(picture, size, interpolation=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_CUBIC)
    left, top = x - round(face.x * scale), y - round(face.y * scale)
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(gray.shape[1], left + size[0]), min(gray.shape[0], top + size[1])
    gray[y0:y1, x0:x1] = resized[y0 - top : y1 - top, x0 - left : x1 - left]


def make_photo(index: int, source: FaceSource, args: argparse.Namespace) -> tuple[Scene, Scene]:
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
        pick = int(rng.integers(len(source.emotions)))
        paste(gray, source.pictures[pick], source.faces[pick], x, y, side)
        boxes.append([x, y, side, side])
        emotions.append(source.emotions[pick])
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
    parser.add_argument("--yale", type=Path, help="paste Yale's photographs (this folder) instead of the split's crops")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    source = yale_faces(args.yale) if args.yale else fer_faces(args.split)
    pairs = [make_photo(i, source, args) for i in range(args.photos)]
    classifier = load_classifier(threads=1)
    faces = "yale" if args.yale else "fer2013"
    report: dict[str, Any] = {"photos": args.photos, "size": [args.width, args.height], "faces": faces}
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
