"""Shapes of photos users bring that earlier probes did not cover, through the whole pipeline.

    python -m benchmarks.user_photo_shapes ../shared/datasets/yale-faces [--only NAME ...]

Each labelled Yale photo (134, as in :mod:`benchmarks.yale_photos`) under a condition, encoded as
PNG and given to ``Analyzer.analyze`` as an upload (largest face first; a photo with no face counts
as wrong): found and right, of 134. Groups: three Yale photos side by side (40 photos, 120 faces),
upright and turned by 180°: faces found in each third and read right, and faces over three.

- ``backlit``: the person at 30 % of the light in front of a window (gray 245) twice their size;
  ``backlit-half``: a window on the left half only, a dark room on the right.
- ``overexposed``: ×1.8 + 40, clipped.
- ``motion9``: a horizontal motion blur of 9 px; ``motion-diag13``: a diagonal one of 13 px (the
  face is about 150 px).
- ``phone-noise``: 35 % of the light, sensor noise σ 12, JPEG quality 70 (a phone in dim light;
  not dark all over, so the dark search does not run).
- ``yaw30`` · ``yaw45``: the photo turned about its vertical axis in perspective (a planar stand-in
  for a head turned 30° or 45°: the far side shrinks).
- ``near-edge``: the face 40 px from the left edge of a wider photo.
- ``very-dark-180``: :func:`benchmarks.real_photos.very_dark` turned by 180°.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.real_photos import very_dark
from benchmarks.yale_photos import photos, png
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]


def backlit(gray: Gray) -> Gray:
    height, width = gray.shape
    canvas = np.full((height * 2, width * 2), 245, np.float32)
    canvas[height // 2 : height // 2 + height, width // 2 : width // 2 + width] = gray.astype(np.float32) * 0.3
    canvas += np.random.default_rng(0).normal(0, 2, canvas.shape)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def backlit_half(gray: Gray) -> Gray:
    height, width = gray.shape
    canvas = np.full((height, width * 2), 30, np.float32)
    canvas[:, :width] = 250
    canvas[:, width // 2 : width // 2 + width] = gray.astype(np.float32) * 0.3
    return np.clip(canvas, 0, 255).astype(np.uint8)


def motion(gray: Gray, length: int, diagonal: bool) -> Gray:
    kernel = np.eye(length, dtype=np.float32) if diagonal else np.zeros((length, length), np.float32)
    if not diagonal:
        kernel[length // 2, :] = 1
    return np.asarray(cv2.filter2D(gray, -1, kernel / length), np.uint8)


def phone_noise(gray: Gray, seed: int = 0) -> Gray:
    dim = gray.astype(np.float32) * 0.35 + np.random.default_rng(seed).normal(0, 12, gray.shape)
    _, encoded = cv2.imencode(".jpg", np.clip(dim, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70])
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8)


def yawed(gray: Gray, degrees: float) -> Gray:
    height, width = gray.shape
    inset, shrink = width * (1 - np.cos(np.radians(degrees))) / 2, 0.15 * degrees / 35
    source = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    target = np.float32(
        [[inset, 0], [width - inset, height * shrink], [width - inset, height * (1 - shrink)], [inset, height]]
    )
    matrix = cv2.getPerspectiveTransform(source, target)
    return np.asarray(cv2.warpPerspective(gray, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE), np.uint8)


def near_edge(gray: Gray) -> Gray:
    height, width = gray.shape
    canvas = np.full((height, width * 3), int(np.median(gray)), np.uint8)
    canvas[:, :width] = gray
    return np.ascontiguousarray(canvas[:, 40:])


CONDITIONS: dict[str, Callable[[Gray], Gray]] = {
    "clean": lambda g: g,
    "backlit": backlit,
    "backlit-half": backlit_half,
    "overexposed": lambda g: np.clip(g.astype(np.float32) * 1.8 + 40, 0, 255).astype(np.uint8),
    "motion9": lambda g: motion(g, 9, diagonal=False),
    "motion-diag13": lambda g: motion(g, 13, diagonal=True),
    "phone-noise": phone_noise,
    "yaw30": lambda g: yawed(g, 30),
    "yaw45": lambda g: yawed(g, 45),
    "near-edge": near_edge,
    "very-dark-180": lambda g: np.ascontiguousarray(very_dark(g, 1)[::-1, ::-1]),
}


def groups(every: list[tuple[int, str, Gray]]) -> list[tuple[list[str], Gray]]:
    """40 photos of three different subjects side by side."""
    by_subject: dict[int, list[tuple[str, Gray]]] = {}
    for subject, label, gray in every:
        by_subject.setdefault(subject, []).append((label, gray))
    subjects = sorted(by_subject)
    made = []
    for i in range(40):
        trio = [subjects[(i + k * 5) % len(subjects)] for k in range(3)]
        members = [by_subject[s][(i // 15 + k) % len(by_subject[s])] for k, s in enumerate(trio)]
        made.append(([label for label, _ in members], np.hstack([gray for _, gray in members])))
    return made


def score_groups(analyzer: Analyzer, made: list[tuple[list[str], Gray]], turned: bool) -> dict[str, int]:
    found = right = extra = 0
    for labels, group in made:
        photo = np.ascontiguousarray(group[::-1, ::-1]) if turned else group
        faces = analyzer.analyze(png(photo))
        third = photo.shape[1] / 3
        extra += max(0, len(faces) - 3)
        for k, label in enumerate(labels):
            slot = 2 - k if turned else k
            hits = [f for f in faces if slot * third <= f.box.x + f.box.w / 2 < (slot + 1) * third]
            found += bool(hits)
            right += bool(hits) and hits[0].emotion == label
    return {"faces": 3 * len(made), "found": found, "right": right, "faces over three": extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--only", nargs="*", choices=[*CONDITIONS, "groups"])
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    every = list(photos(args.yale))
    for name in args.only or [*CONDITIONS, "groups"]:
        if name == "groups":
            made = groups(every)
            print("groups upright", score_groups(analyzer, made, turned=False), flush=True)
            print("groups turned 180", score_groups(analyzer, made, turned=True), flush=True)
            continue
        found = right = 0
        for _, label, gray in every:
            faces = analyzer.analyze(png(CONDITIONS[name](gray)))
            found += bool(faces)
            right += bool(faces) and faces[0].emotion == label
        print(f"{name}: found {found}/{len(every)}, right {right}/{len(every)}", flush=True)


if __name__ == "__main__":
    main()
