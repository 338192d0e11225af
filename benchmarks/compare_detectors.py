"""Haar against YuNet, side by side on the same frames: recall, false faces, ms per frame, labels.

    python -m benchmarks.compare_detectors SCENES_DIR [SCENES_DIR…] --yale ../shared/datasets/yale-faces \
        [--json OUT.json] [--markdown]

For each scene set (from ``../shared/bench/make_scenes.py``): the plain frames, the frames rolled
by ±20° about their centre (truth boxes rolled with them) and the frames under the suite's light
conditions (gamma 2.2 and 0.45, contrast × 0.4). Each frame is given to every detector in turn, so
background load hits them alike; detector time alone is timed. Scored as fer_scenes.py scores fer
(greedy IoU ≥ 0.3). "correct" is the share of all faces found *and* labelled right by the bundled
model: Haar boxes cropped as they are, YuNet boxes with and without roll alignment. Also: false
faces on scikit-image's 23 sample photos at three sizes (only the astronaut has a face), and Yale's
photos (each has one face): found, extra faces, and the largest face's label.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from benchmarks.scenes import Scene, Tally, load_scenes
from benchmarks.sweep_detector import photo_false_faces, sample_photos
from moodtape.vision import conditions
from moodtape.vision.faces import FaceDetector
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.robustness import yale_photos
from moodtape.vision.yunet import YuNetDetector

Gray = npt.NDArray[np.uint8]


def rolled(scene: Scene, degrees: float) -> Scene:
    """The scene rotated about its centre; each truth box keeps its size around its moved centre."""
    h, w = scene.gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    gray = cv2.warpAffine(scene.gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    boxes = []
    for x, y, bw, bh in scene.boxes:
        cx, cy = matrix @ np.array([x + bw / 2, y + bh / 2, 1.0])
        boxes.append([round(cx - bw / 2), round(cy - bh / 2), bw, bh])
    return Scene(scene.name, np.asarray(gray, np.uint8), scene.bgr, boxes, scene.emotions)


def lit(scene: Scene, transform: Callable[[Gray], Gray]) -> Scene:
    return Scene(scene.name, transform(scene.gray), scene.bgr, scene.boxes, scene.emotions)


VARIANTS: dict[str, Callable[[Scene], Scene]] = {
    "plain": lambda s: s,
    "roll -20°": lambda s: rolled(s, 20.0),
    "roll +20°": lambda s: rolled(s, -20.0),
    "gamma 2.2 (dark)": lambda s: lit(s, lambda g: conditions.gamma(g, 2.2)),
    "gamma 0.45 (bright)": lambda s: lit(s, lambda g: conditions.gamma(g, 0.45)),
    "contrast × 0.4": lambda s: lit(s, lambda g: conditions.contrast(g, 0.4)),
}


def pipelines() -> dict[str, Analyzer]:
    haar, yunet = FaceDetector(), YuNetDetector()  # align: off unless asked, as in the app
    return {
        "haar": Analyzer(haar, align=False),
        "yunet": Analyzer(yunet, align=False),
        "yunet + align": Analyzer(yunet, align=True),
    }


def score_scenes(analyzers: dict[str, Analyzer], scenes: list[Scene]) -> dict[str, Any]:
    tallies = {name: Tally() for name in analyzers}
    detect_ms: dict[str, list[float]] = {name: [] for name in ("haar", "yunet")}
    for scene in scenes:
        for name, analyzer in analyzers.items():
            if name in detect_ms:
                started = time.perf_counter()
                analyzer.detector.detect(scene.gray)
                detect_ms[name].append((time.perf_counter() - started) * 1000)
            faces = analyzer.analyze_gray(scene.gray)
            tallies[name].add([list(f.box) for f in faces], [f.emotion for f in faces], scene)
    result = {name: tally.summary() for name, tally in tallies.items()}
    for name, values in detect_ms.items():
        result[name]["detect_ms_median"] = round(float(np.median(values)), 2)
    for summary in result.values():
        summary.pop("ms_median")
        summary.pop("ms_p95")
    return result


def score_yale(analyzers: dict[str, Analyzer], folder: Path) -> dict[str, Any]:
    photos = yale_photos(folder)
    result = {}
    for name, analyzer in analyzers.items():
        found = extra = correct = 0
        for photo in photos:
            faces = analyzer.analyze(photo.path)
            found += bool(faces)
            extra += max(0, len(faces) - 1)
            correct += bool(faces) and max(faces, key=lambda f: f.box.w * f.box.h).emotion == photo.label
        result[name] = {"photos": len(photos), "found": found, "extra_faces": extra, "correct": correct}
    return result


def markdown(results: dict[str, Any]) -> str:
    """The tables of docs/benchmarks.md from a results dictionary."""
    lines = [
        "| frames | detector | recall | false faces | correct of all faces | detector ms (median) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for frames, by_name in results["scenes"].items():
        for name, row in by_name.items():
            ms = f"{row['detect_ms_median']:.1f}" if "detect_ms_median" in row else ""
            lines.append(
                f"| {frames} | {name} | {100 * row['recall']:.1f} % | {row['false_positives']} "
                f"| {100 * row['end_to_end_accuracy']:.1f} % | {ms} |"
            )
    lines += ["", "| | " + " | ".join(results["photo_false_faces"]) + " |", "|---|" + "---:|" * 2]
    lines.append(
        "| false faces on the 69 sample photos | " + " | ".join(map(str, results["photo_false_faces"].values())) + " |"
    )
    if "yale" in results:
        lines += [
            "",
            "| Yale (134 photos, one face each) | found | extra faces | largest face labelled right |",
            "|---|---:|---:|---:|",
        ]
        for name, row in results["yale"].items():
            share = 100 * row["correct"] / row["photos"]
            lines.append(f"| {name} | {row['found']} | {row['extra_faces']} | {row['correct']} ({share:.1f} %) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path, nargs="*")
    parser.add_argument("--from-json", type=Path, default=None, help="only print the tables of an earlier run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--yale", type=Path, default=None)
    parser.add_argument("--every", type=int, default=1, help="only every Nth scene (a quick look)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.from_json:
        print(markdown(json.loads(args.from_json.read_text())))
        return

    analyzers = pipelines()
    results: dict[str, Any] = {"scenes": {}}
    for folder in args.scenes:
        scenes = load_scenes(folder)[:: args.every]
        for variant, make in tqdm(VARIANTS.items(), desc=folder.name, unit="variant"):
            results["scenes"][f"{folder.name} {variant}"] = score_scenes(analyzers, [make(s) for s in scenes])
    photos = sample_photos()
    results["photo_false_faces"] = {
        name: photo_false_faces(analyzers[name].detector, photos)  # type: ignore[arg-type]
        for name in ("haar", "yunet")
    }
    if args.yale:
        results["yale"] = score_yale(analyzers, args.yale)
    text = json.dumps(results, indent=1)
    if args.json:
        args.json.write_text(text)
    print(markdown(results) if args.markdown else text)


if __name__ == "__main__":
    main()
