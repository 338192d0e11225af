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

Since session 29 (the functions below say how each is made):

- ``noisy-clipped-centre``: a phone photo in a dim room (noise σ 18) with a window blown out white
  in the middle of the frame; ``silhouette``: the person at 12 % of the light before a glowing window;
  ``led-purple`` · ``led-blue``: lit by coloured LEDs (the gray the pipeline reads from the colour
  photo); ``through-window``: behind a pane (blue cast, haze, a reflection band);
  ``cut-edge25`` · ``cut-edge40``: the frame cuts off the left 25 % or 40 % of the face;
  ``barrel``: a wide-angle selfie at arm's length (radial swelling of the centre); ``vignette``: the
  face in the top-left quarter of a heavily vignetted frame.
- Placed among others (:data:`PLACED`; found means a face centred in the subject's place, and the
  faces found in all are counted): ``group-depths``: the subject's face about 50 px far back in a
  1,600 × 1,200 photo, three others nearer (faces of about 150, 105 and 75 px; 536 faces in all);
  ``video-call``: the subject in the middle tile of a 3 × 3 video-call screenshot, four others and
  four tiles with initials only (670 faces in all).

Since session 30: ``silhouette-180``: ``silhouette`` turned by 180° (a phone held upside down against
the light).
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
from moodtape.types import Box
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


def clipped_centre_noise(gray: Gray, sigma: float = 18) -> Gray:
    """A phone photo in a dim room (35 % of the light, noise ``sigma``, JPEG quality 70) three times
    the person's width and twice their height, the person on the left, and a window blown out white
    (255, no noise left) filling the middle from beside them."""
    height, width = gray.shape
    canvas = np.full((height * 2, width * 3), int(np.median(gray)), np.uint8)
    canvas[height // 2 : height // 2 + height, :width] = gray
    dim = canvas.astype(np.float32) * 0.35 + np.random.default_rng(0).normal(0, sigma, canvas.shape)
    _, encoded = cv2.imencode(".jpg", np.clip(dim, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70])
    noisy = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), np.uint8)
    noisy[:, width + 8 : 2 * width + 8 + width // 2] = 255
    return noisy


def silhouette(gray: Gray) -> Gray:
    """The person at 12 % of the light before a window (gray 250) that glows into their outline."""
    height, width = gray.shape
    canvas = np.full((height * 2, width * 2), 250, np.float32)
    canvas[height // 2 : height // 2 + height, width // 2 : width // 2 + width] = gray.astype(np.float32) * 0.12
    glow = cv2.GaussianBlur(canvas, (0, 0), 12)
    canvas = 0.75 * canvas + 0.25 * glow + np.random.default_rng(0).normal(0, 2, canvas.shape)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def colour_cast(gray: Gray, bgr: tuple[float, float, float]) -> Gray:
    """The photo lit by coloured light (each channel ``gray`` times its weight), as the gray the
    pipeline reads from it (OpenCV's BGR → gray: the channels weighted 0.114 · 0.587 · 0.299)."""
    channels = np.stack([np.clip(gray.astype(np.float32) * w, 0, 255) for w in bgr], axis=-1).astype(np.uint8)
    return np.asarray(cv2.cvtColor(channels, cv2.COLOR_BGR2GRAY), np.uint8)


def through_window(gray: Gray) -> Gray:
    """Behind a pane: a blue cast, a haze of reflected light (+90 at 55 %), and a bright reflection
    band across the face."""
    cast = colour_cast(gray, (1.0, 0.7, 0.45)).astype(np.float32) * 0.55 + 90
    height, width = gray.shape
    band = np.clip(1 - np.abs(np.arange(width)[None, :] - np.arange(height)[:, None] - width / 3) / 40, 0, 1)
    return np.clip(cast + 60 * band, 0, 255).astype(np.uint8)


def cut_by_edge(gray: Gray, share: float) -> Gray:
    """The photo with its left ``share`` of the face cut off by the frame (Yale's face is about
    150 px wide, centred)."""
    width = gray.shape[1]
    return np.ascontiguousarray(gray[:, round(width / 2 - 75 + 150 * share) :])


def barrel(gray: Gray, strength: float = 0.35) -> Gray:
    """A wide-angle lens held at arm's length: the centre swollen, straight lines bowed (radial
    distortion r · (1 + k r²), r of the half-diagonal 1)."""
    height, width = gray.shape
    ys, xs = np.indices((height, width), dtype=np.float32)
    cx, cy, half = width / 2, height / 2, np.hypot(width, height) / 2
    dx, dy = (xs - cx) / half, (ys - cy) / half
    factor = 1 / (1 + strength * (1 - (dx * dx + dy * dy)))  # centre magnified, corners as they are
    map_x, map_y = cx + dx * factor * half, cy + dy * factor * half
    map_x, map_y = map_x.astype(np.float32), map_y.astype(np.float32)
    return np.asarray(cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.uint8)


def vignette(gray: Gray, corner: float = 0.15) -> Gray:
    """Heavy vignetting on a wider frame with the face off-centre: the light falls to ``corner`` of
    itself at the corners (cos⁴), the face in the top left quarter (at about 36 %)."""
    height, width = gray.shape
    canvas = np.full((height * 2, width * 2), int(np.median(gray)), np.float32)
    canvas[:height, :width] = gray
    ys, xs = np.indices(canvas.shape, dtype=np.float32)
    radius = np.hypot(xs - width, ys - height) / np.hypot(width, height)
    return np.clip(canvas * (corner + (1 - corner) * np.cos(radius * np.pi / 2) ** 4), 0, 255).astype(np.uint8)


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
    "noisy-clipped-centre": clipped_centre_noise,
    "silhouette": silhouette,
    "silhouette-180": lambda g: np.ascontiguousarray(silhouette(g)[::-1, ::-1]),
    "led-purple": lambda g: colour_cast(g, (1.0, 0.12, 0.75)),
    "led-blue": lambda g: colour_cast(g, (1.0, 0.35, 0.1)),
    "through-window": through_window,
    "cut-edge25": lambda g: cut_by_edge(g, 0.25),
    "cut-edge40": lambda g: cut_by_edge(g, 0.40),
    "barrel": barrel,
    "vignette": vignette,
}


Placed = Callable[[Gray, list[Gray]], tuple[Gray, Box]]


def paste(canvas: Gray, gray: Gray, scale: float, x: int, y: int) -> Box:
    """``gray`` resized by ``scale`` into ``canvas`` at ``(x, y)``; its place."""
    resized = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    height, width = resized.shape
    canvas[y : y + height, x : x + width] = resized
    return Box(x, y, width, height)


def group_at_depths(gray: Gray, others: list[Gray]) -> tuple[Gray, Box]:
    """A 1600 × 1200 photo of four people at different distances on a textured wall: three others
    near the camera (faces of about 150, 105 and 75 px) and the subject far back (about 50 px)."""
    canvas = np.asarray(
        cv2.GaussianBlur(np.random.default_rng(1).integers(60, 200, (1200, 1600), dtype=np.uint8), (0, 0), 3), np.uint8
    )
    for other, scale, x, y in zip(others, (1.0, 0.7, 0.5), (60, 1150, 700), (800, 850, 600), strict=False):
        paste(canvas, other, scale, x, y)
    return canvas, paste(canvas, gray, 1 / 3, 420, 420)


def video_call(gray: Gray, others: list[Gray]) -> tuple[Gray, Box]:
    """A 1280 × 720 screenshot of a video call: a 3 × 3 grid of 400 × 216 tiles on dark chrome, the
    subject in the middle, four others, four tiles with only a name's initials, a toolbar."""
    canvas = np.full((720, 1280), 32, np.uint8)
    target = Box(0, 0, 0, 0)
    for k in range(9):
        x, y = 20 + (k % 3) * 420, 12 + (k // 3) * 226
        cv2.rectangle(canvas, (x, y), (x + 400, y + 216), 55, -1)
        face = gray if k == 4 else others[k % len(others)] if k % 2 == 0 else None
        if face is None:
            cv2.circle(canvas, (x + 200, y + 100), 48, 120, -1)
            cv2.putText(canvas, "AB", (x + 168, y + 118), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 230, 3)
        else:
            placed = paste(canvas, face[:, 17:-17], 216 / face.shape[0], x + 57, y)
            target = placed if k == 4 else target
        cv2.putText(canvas, "Name", (x + 8, y + 206), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 240, 1)
    for k in range(5):
        cv2.circle(canvas, (540 + 50 * k, 700), 14, 200 if k != 4 else 90, -1)
    return canvas, target


PLACED: dict[str, Placed] = {"group-depths": group_at_depths, "video-call": video_call}


def score_placed(analyzer: Analyzer, every: list[tuple[int, str, Gray]], name: str) -> str:
    """Each Yale photo placed by ``PLACED[name]`` among others (the next subjects'): its face found
    (a face centred in its place) and read right, and the faces found in all."""
    found = right = faces_found = 0
    for k, (_, label, gray) in enumerate(every):
        others = [every[(k + 11 * j) % len(every)][2] for j in (1, 2, 3)]
        photo, place = PLACED[name](gray, others)
        faces = analyzer.analyze(png(photo))
        faces_found += len(faces)
        hits = [
            f
            for f in faces
            if place.x <= f.box.x + f.box.w / 2 < place.x + place.w
            and place.y <= f.box.y + f.box.h / 2 < place.y + place.h
        ]
        found += bool(hits)
        right += bool(hits) and hits[0].emotion == label
    return f"{name}: found {found}/{len(every)}, right {right}/{len(every)}, faces found in all {faces_found}"


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
    parser.add_argument("--only", nargs="*", choices=[*CONDITIONS, *PLACED, "groups"])
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    every = list(photos(args.yale))
    for name in args.only or [*CONDITIONS, *PLACED, "groups"]:
        if name == "groups":
            made = groups(every)
            print("groups upright", score_groups(analyzer, made, turned=False), flush=True)
            print("groups turned 180", score_groups(analyzer, made, turned=True), flush=True)
            continue
        if name in PLACED:
            print(score_placed(analyzer, every, name), flush=True)
            continue
        found = right = 0
        for _, label, gray in every:
            faces = analyzer.analyze(png(CONDITIONS[name](gray)))
            found += bool(faces)
            right += bool(faces) and faces[0].emotion == label
        print(f"{name}: found {found}/{len(every)}, right {right}/{len(every)}", flush=True)


if __name__ == "__main__":
    main()
