"""Sideways and upside-down photos without EXIF, and faceless pictures, through the whole pipeline.

    python -m benchmarks.quarter_turns ../shared/datasets/yale-faces [--json OUT.json]

A screenshot of a sideways video call, or a phone photo whose EXIF was stripped, reaches us with its
pixels turned by a quarter or half turn and nothing that says so. Each labelled Yale photo (134, as
in :mod:`benchmarks.yale_photos`) is turned by 0, 90, 180 and 270° (counter-clockwise, exactly:
no interpolation), encoded as PNG and given to ``Analyzer.analyze`` as an upload is; a photo where
no face is found counts as wrong. The ``faceless`` row is the other side of the bargain: pictures
made in code or taken from ``skimage.data`` that hold no human face (textures, scenery, text, a
cat, noise), each in the four turns, where any face found is a false one; it also gives the time a
faceless 640 × 480 photo takes, the case that pays for every extra search.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.yale_photos import photos, png
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
#: Counter-clockwise turns of the stored pixels (what the user uploads) → OpenCV's rotate code.
TURNS: dict[int, int | None] = {
    0: None,
    90: cv2.ROTATE_90_COUNTERCLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_CLOCKWISE,
}
#: ``skimage.data`` pictures without a human face (``camera`` and ``astronaut`` hold one).
SKIMAGE_FACELESS = (
    "brick",
    "grass",
    "gravel",
    "coffee",
    "chelsea",
    "rocket",
    "coins",
    "moon",
    "page",
    "text",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)


def turned(gray: Gray, degrees: int) -> Gray:
    code = TURNS[degrees]
    return gray if code is None else np.ascontiguousarray(cv2.rotate(gray, code))


def as_gray(picture: npt.NDArray[Any]) -> Gray:
    """A ``skimage.data`` picture (bool, float or uint8, gray or RGB(A)) as uint8 gray."""
    values = np.asarray(picture)
    if values.dtype == bool:
        values = values.astype(np.uint8) * 255
    elif values.dtype != np.uint8:
        values = np.clip(values * 255 if values.max() <= 1.0 else values, 0, 255).astype(np.uint8)
    if values.ndim == 3:
        values = cv2.cvtColor(values[..., :3], cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(values, dtype=np.uint8)


def made_faceless(seed: int = 7) -> Iterator[tuple[str, Gray]]:
    """Faceless 640 × 480 pictures made in code: noise, blurred noise, stripes, a gradient, blobs."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    yield "noise", noise
    yield "blurred-noise", np.asarray(cv2.GaussianBlur(noise, (0, 0), 6), np.uint8)
    yield "blotches", np.asarray(cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 18), None, 0, 255, cv2.NORM_MINMAX))
    x = np.arange(640)[None, :]
    yield "stripes", np.asarray(np.broadcast_to(127 + 120 * np.sin(x / 9.0), (480, 640)), np.uint8)
    yield "gradient", np.asarray(np.broadcast_to(np.linspace(20, 230, 480)[:, None], (480, 640)), np.uint8)
    blobs = np.full((480, 640), 150, np.uint8)
    for _ in range(40):
        centre = (int(rng.integers(0, 640)), int(rng.integers(0, 480)))
        cv2.circle(blobs, centre, int(rng.integers(5, 40)), int(rng.integers(0, 256)), -1)
    yield "blobs", blobs


def faceless_pictures() -> Iterator[tuple[str, Gray]]:
    from skimage import data

    yield from made_faceless()
    for name in SKIMAGE_FACELESS:
        yield name, as_gray(getattr(data, name)())


def score_turns(analyzer: Analyzer, yale: Path) -> dict[str, dict[str, float]]:
    """Per turn: the share of Yale photos with a face found and with the right label, and ms per photo."""
    report: dict[str, dict[str, float]] = {}
    every = list(photos(yale))
    for degrees in TURNS:
        found = right = 0
        seconds = 0.0
        for _, label, gray in every:
            data = png(turned(gray, degrees))
            started = time.perf_counter()
            faces = analyzer.analyze(data)
            seconds += time.perf_counter() - started
            found += bool(faces)
            right += bool(faces) and faces[0].emotion == label
        n = len(every)
        report[f"turn{degrees}"] = {
            "photos": n,
            "found": round(found / n, 3),
            "right": round(right / n, 3),
            "ms": round(1000 * seconds / n, 1),
        }
    return report


def score_faceless(analyzer: Analyzer, repeats: int = 3) -> dict[str, Any]:
    """False faces in faceless pictures (each in the four turns), and ms for a faceless 640 × 480 photo."""
    false: list[str] = []
    pictures = 0
    for name, gray in faceless_pictures():
        for degrees in TURNS:
            pictures += 1
            if analyzer.analyze(png(turned(gray, degrees))):
                false.append(f"{name}@{degrees}")
    photo = png(next(made_faceless())[1])
    analyzer.analyze(photo)  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        analyzer.analyze(photo)
        times.append(time.perf_counter() - started)
    return {"pictures": pictures, "false": false, "noise640_ms": round(1000 * min(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    report: dict[str, Any] = score_turns(analyzer, args.yale) | {"faceless": score_faceless(analyzer)}
    for key, value in report.items():
        print(key, json.dumps(value))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
