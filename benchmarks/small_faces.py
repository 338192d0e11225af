"""Faces of 26-40 px in photos of up to 1,920 px: found, and read right.

    python -m benchmarks.small_faces [--yale ../shared/datasets/yale-faces]

A photo of up to 1,920 px with no face of the usual size is searched once more, in one full-size
copy, for small faces (``YuNetSettings.small_face``, ``tiled_small_face``; MODEL_CARD.md, "Small
faces in small photos"); since session 35 one with a sure face of the usual size is searched so
too. The sets, each face scored only where it was pasted:

- ``astronaut``: scikit-image's astronaut's face at about 26, 30, 34 and 38 px (its head's crop
  2.2 times that), six times in a gray photo of 480 × 320 to 1,920 × 1,080 (20 photos, 120 faces,
  all smiling: "right" is happy).
- ``yale`` (with ``--yale``; skipped without the data): each of the 134 labelled Yale photos
  (:mod:`benchmarks.yale_photos`) at full size, and shrunk to a quarter (a face of about 36 px)
  and a fifth (about 33 px), in the lower right quarter of a gray 640 × 486 canvas. ``right of
  found`` is the share of found faces read right; ``wrong, flagged uncertain`` counts the wrong
  reads the pipeline marked ``uncertain``.
- ``beside``: the astronaut's face at 114 px (its head's crop at 1.05×) in the top left of each
  of :mod:`benchmarks.quarter_turns`' 20 faceless pictures, resized to 640 × 480 and 1,280 × 960,
  alone and with a second one of about 30, 34 or 38 px in the bottom right (160 photos, 120 small
  faces): the small faces found, and false faces (found where neither was pasted). The large face
  is sure, so before session 35 these photos were never searched for small faces.
- ``faceless``: false faces in scikit-image's sample photos at three widths
  (:func:`benchmarks.sweep_detector.photo_false_faces`, 69 photos) and in
  :mod:`benchmarks.quarter_turns`' 80 faceless pictures, each in four turns.

For "before", run the same command with ``PYTHONPATH`` on a worktree of an older commit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from skimage import data

from benchmarks.quarter_turns import faceless_pictures, score_faceless
from benchmarks.sweep_detector import photo_false_faces, sample_photos
from benchmarks.yale_photos import photos
from moodtape.types import Box, Face
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
HEAD = (slice(20, 240), slice(110, 330))
GROUP_SIZES = ((480, 320), (640, 480), (900, 600), (1280, 960), (1920, 1080))
FACE_SIDES = (26, 30, 34, 38)
#: The head's crop (``HEAD``, 220 px) is about this many times the face inside it.
HEAD_PER_FACE = 2.2
YALE_SCALES = (1.0, 0.25, 0.2)
#: The large face's head crop is pasted at this scale (a face of about 114 px) beside the small one.
LARGE_HEAD = 1.05
BESIDE_SIDES = (30, 34, 38)
BESIDE_SIZES = ((640, 480), (1280, 960))


def _on(face: Face, region: Box) -> bool:
    """Whether ``face``'s centre lies in ``region`` (where a face was pasted)."""
    cx, cy = face.box.x + face.box.w / 2, face.box.y + face.box.h / 2
    return region.x <= cx <= region.x + region.w and region.y <= cy <= region.y + region.h


def group(head: Gray, width: int, height: int, face: int) -> tuple[Gray, list[Box]]:
    """Six copies of ``head`` with a face of about ``face`` px, two rows of three, on a gray photo;
    where they lie."""
    side = round(face * HEAD_PER_FACE)
    small = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    photo = np.full((height, width), 120, np.uint8)
    regions = []
    for row in range(2):
        for column in range(3):
            top, left = round((row + 0.5) * height / 2 - side / 2), round((column + 0.5) * width / 3 - side / 2)
            photo[top : top + side, left : left + side] = small
            regions.append(Box(left, top, side, side))
    return photo, regions


def astronaut(analyzer: Analyzer) -> None:
    """Print the astronaut groups' faces found per photo size and face size, and how many read happy."""
    head = np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), np.uint8)[HEAD]
    found = happy = 0
    widths: list[int] = []
    for width, height in GROUP_SIZES:
        row = []
        for face_side in FACE_SIDES:
            photo, regions = group(head, width, height, face_side)
            faces = analyzer.analyze_gray(photo)
            kept = [face for face in faces if any(_on(face, region) for region in regions)]
            row.append(len(kept))
            found += len(kept)
            happy += sum(face.emotion == "happy" for face in kept)
            widths += [face.box.w for face in kept]
        print(f"astronaut {width} x {height}: found of 6 at {', '.join(map(str, FACE_SIDES))} px: {row}")
    sides = f"; faces {min(widths)}-{max(widths)} px" if widths else ""
    print(f"astronaut: found {found} of 120, read happy {happy}{sides}")


def pasted(picture: Gray, head: Gray, side: int, at: tuple[int, int]) -> tuple[Gray, Box]:
    """``picture`` with ``head`` resized to ``side`` px pasted at ``at`` (left, top); where it lies."""
    left, top = at
    picture[top : top + side, left : left + side] = cv2.resize(head, (side, side), interpolation=cv2.INTER_AREA)
    return picture, Box(left, top, side, side)


def beside(analyzer: Analyzer) -> None:
    """Print small faces found beside a large one in the faceless pictures, and the false faces."""
    head = np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), np.uint8)[HEAD]
    large_side = round(head.shape[0] * LARGE_HEAD)
    found = {side: 0 for side in BESIDE_SIDES}
    false = {side: 0 for side in (0, *BESIDE_SIDES)}
    pictures = 0
    for _, picture in faceless_pictures():
        for width, height in BESIDE_SIZES:
            pictures += 1
            gray = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
            for face_side in (0, *BESIDE_SIDES):
                photo, large = pasted(gray.copy(), head, large_side, (40, 40))
                regions = [large]
                if face_side:
                    side = round(face_side * HEAD_PER_FACE)
                    photo, small = pasted(photo, head, side, (width - side - 40, height - side - 40))
                    regions.append(small)
                faces = analyzer.analyze_gray(photo)
                if face_side:
                    found[face_side] += any(_on(face, regions[1]) for face in faces)
                false[face_side] += sum(not any(_on(face, region) for region in regions) for face in faces)
    print(
        f"beside a 114-px face in {pictures} faceless pictures: small found "
        + ", ".join(f"{side} px {found[side]}" for side in BESIDE_SIDES)
        + "; false faces "
        + ", ".join(f"{'alone' if side == 0 else f'{side} px'} {false[side]}" for side in false)
    )


def yale(analyzer: Analyzer, folder: Path) -> None:
    """Print Yale's photos found and read right at each of :data:`YALE_SCALES`, on a 2× canvas."""
    every = [(label, gray) for _, label, gray in photos(folder)]
    for scale in YALE_SCALES:
        found = right = flagged = 0
        widths: list[int] = []
        for label, gray in every:
            h, w = gray.shape
            shrunk = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            canvas = np.full((2 * h, 2 * w), 128, np.uint8)
            canvas[h : h + shrunk.shape[0], w : w + shrunk.shape[1]] = shrunk
            faces = [f for f in analyzer.analyze_gray(canvas) if _on(f, Box(w, h, shrunk.shape[1], shrunk.shape[0]))]
            if faces:
                found += 1
                widths.append(faces[0].box.w)
                right += faces[0].emotion == label
                flagged += faces[0].emotion != label and faces[0].uncertain
        share = f"{100 * right / found:.1f} %" if found else "-"
        sides = f"{min(widths)}-{max(widths)} px, median {int(np.median(widths))}" if widths else "-"
        print(
            f"yale x{scale}: found {found} of {len(every)}, right {right} ({100 * right / len(every):.1f} %), "
            f"right of found {share}, wrong {found - right} (flagged uncertain {flagged}); faces {sides}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--yale", type=Path, help="the Yale faces folder (with images/); skipped when absent")
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    astronaut(analyzer)
    beside(analyzer)
    turned = score_faceless(analyzer, repeats=1)
    print(f"faceless: sample photos {photo_false_faces(analyzer.detector, sample_photos())} false faces; ", end="")
    print(f"quarter_turns' {turned['pictures']} pictures in four turns: {turned['false']}")
    if args.yale is None or not (args.yale / "images").is_dir():
        print("yale: skipped (no --yale folder with images/)")
    else:
        yale(analyzer, args.yale)


if __name__ == "__main__":
    main()
