"""Faces cut by the photo's edge and faces in a dim room: does the padding or the exposure handling matter?

    python -m benchmarks.edge_and_dim ../shared/datasets/yale-faces [--sides | --aligned] [--json OUT.json]

Each labelled Yale photo (134, as in :mod:`benchmarks.yale_photos`) is read clean, cut by the left
edge through 25 % and 50 % of its face's width (``edge25``, ``edge50``) and darkened as a dim room
(``dark``: gamma 2, a quarter of the light, sensor noise), all through ``Analyzer.analyze_gray``; a
photo where no face is found counts as wrong. Variants, one change each against the shipped
pipeline:

- ``pad-*``: how the part of the crop that lies beyond the photo is filled (``replicate``: the edge
  pixel repeated, shipped until session 26; ``reflect``: mirrored about the edge, OpenCV's
  ``BORDER_REFLECT_101``, shipped since; ``black`` and ``gray``: a constant 0 or 128).
- ``gamma``: after the shipped contrast stretch, each crop's median brought to mid-gray by a gamma
  (bounded to 0.5–2): the dim room's gamma 2 is a curve, which a linear stretch does not undo.
- ``--sides``: only the paddings, on faces cut by each of the four edges (``benchmarks.edge_faces``'s
  cuts: 10, 20, 30 and 50 % of the face's FER-framed square beyond the edge), per side.
- ``--aligned``: the same for the levelled crop (``align.aligned_crop``, ``align.EDGE_FILL``), which
  every face found only in a turned copy gets: the photo cut by each edge (10, 30 and 50 %) is then
  turned exactly by 90° or 270° (``turn90``, ``turn270``: the face is found in the search's
  quarter-turned copy) or left upright and read with ``align=True`` (``upright``: levelled where
  the eyes lean by 3° or more). Each photo is located once and classified with each fill;
  ``differ`` counts the photos whose crop the fill changed at all.
- ``bright-retry``: a photo where no face is found, and whose 99th percentile is below 128 (a dark
  photo), is searched once more brightened (stretched to full range, then gamma 0.5).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.edge_faces import SIDES, cut
from benchmarks.yale_photos import cut_at_edge, dark, photos
from moodtape.types import Box
from moodtape.vision import align as align_module
from moodtape.vision import classifier as classifier_module
from moodtape.vision.classifier import load_classifier
from moodtape.vision.exposure import stretch_contrast
from moodtape.vision.framing import Framing
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
PADDINGS = {
    "replicate": (cv2.BORDER_REPLICATE, 0),
    "reflect": (cv2.BORDER_REFLECT_101, 0),
    "black": (cv2.BORDER_CONSTANT, 0),
    "gray": (cv2.BORDER_CONSTANT, 128),
}


@dataclass(frozen=True)
class PaddedFraming(Framing):
    """:class:`Framing` with the photo padded first by ``border``, so its own fill never runs."""

    border: int = cv2.BORDER_REPLICATE
    value: int = 0

    def crop(self, image: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.uint8]:
        margin = 2 * max(box.w, box.h)
        padded = cv2.copyMakeBorder(image, *(margin,) * 4, borderType=self.border, value=self.value)
        return super().crop(np.asarray(padded, np.uint8), Box(box.x + margin, box.y + margin, box.w, box.h))


def stretch_then_gamma(faces: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The shipped stretch, then each face's median brought to 128 by a gamma within 0.5–2."""
    stretched = stretch_contrast(faces)
    flat = stretched.reshape(len(stretched), -1) / 255.0
    median = np.clip(np.median(flat, axis=1), 0.05, 0.95)
    gamma = np.clip(np.log(0.5) / np.log(median), 0.5, 2.0)
    return (255.0 * flat ** gamma[:, None]).astype(np.float32).reshape(faces.shape)


@contextmanager
def exposure(stretch: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]) -> Iterator[None]:
    shipped = classifier_module.stretch_contrast
    classifier_module.stretch_contrast = stretch
    try:
        yield
    finally:
        classifier_module.stretch_contrast = shipped


#: The fills tried for the levelled crop's part beyond the photo (``--aligned``).
ALIGNED_FILLS = {"replicate": cv2.BORDER_REPLICATE, "reflect": cv2.BORDER_REFLECT_101}
#: ``--aligned``'s orientations of the cut photo: name → counter-clockwise quarter turns.
ALIGNED_TURNS = {"upright": 0, "turn90": 1, "turn270": 3}


@contextmanager
def aligned_fill(border: int) -> Iterator[None]:
    """``align.aligned_crop`` with the part beyond the photo filled by ``border``."""
    shipped = align_module.EDGE_FILL
    align_module.EDGE_FILL = border
    try:
        yield
    finally:
        align_module.EDGE_FILL = shipped


def brightened(gray: Gray) -> Gray:
    low, high = np.percentile(gray, (1, 99))
    stretched = np.clip((gray.astype(np.float32) - low) / max(high - low, 1.0), 0, 1)
    return np.asarray(255 * np.sqrt(stretched), np.uint8)


def analyze_bright_retry(analyzer: Analyzer, gray: Gray) -> list[Any]:
    faces = analyzer.analyze_gray(gray)
    if faces or np.percentile(gray, 99) >= 128:
        return faces
    brighter = brightened(gray)
    return analyzer.classify(gray, analyzer.locate(brighter))


def probes(gray: Gray, box: Box, seed: int) -> dict[str, Gray]:
    return {
        "clean": gray,
        "edge25": cut_at_edge(gray, box, 0.25),
        "edge50": cut_at_edge(gray, box, 0.5),
        "dark": dark(gray, seed),
    }


def score(yale: Path) -> dict[str, dict[str, float]]:
    classifier = load_classifier(threads=1)
    shipped = Analyzer(classifier=classifier)
    padded = {
        name: Analyzer(classifier=classifier, framing=PaddedFraming(border=mode[0], value=mode[1]))
        for name, mode in PADDINGS.items()
    }
    tallies: dict[str, list[int]] = {}

    def tally(key: str, faces: list[Any], label: str) -> None:
        counts = tallies.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += bool(faces)
        counts[2] += bool(faces) and faces[0].emotion == label

    for subject, label, gray in photos(yale):
        found = shipped.analyze_gray(gray)
        box = found[0].box if found else Box(80, 60, 160, 120)
        for probe, picture in probes(gray, box, subject).items():
            for name, analyzer in padded.items():
                tally(f"{probe} pad-{name}", analyzer.analyze_gray(picture), label)
            with exposure(stretch_then_gamma):
                tally(f"{probe} gamma", shipped.analyze_gray(picture), label)
            tally(f"{probe} bright-retry", analyze_bright_retry(shipped, picture), label)
    return {k: {"photos": n, "found": round(f / n, 3), "right": round(r / n, 3)} for k, (n, f, r) in tallies.items()}


def score_sides(yale: Path, shares: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5)) -> dict[str, dict[str, float]]:
    """Per padding, edge and cut: the share of photos found and labelled right."""
    classifier = load_classifier(threads=1)
    padded = {
        name: Analyzer(classifier=classifier, framing=PaddedFraming(border=b, value=v))
        for name, (b, v) in PADDINGS.items()
    }
    every = [(gray, label, padded["replicate"].analyze_gray(gray)) for _, label, gray in photos(yale)]
    tallies: dict[str, list[int]] = {}
    for gray, label, found in every:
        if not found:
            continue
        for share in shares:
            for side in SIDES:
                picture = np.ascontiguousarray(cut(gray, found[0].box, side, share))
                for name, analyzer in padded.items():
                    faces = analyzer.analyze_gray(picture)
                    for key in (f"{side} {share} pad-{name}", f"all {share} pad-{name}"):
                        counts = tallies.setdefault(key, [0, 0, 0])
                        counts[0] += 1
                        counts[1] += bool(faces)
                        counts[2] += bool(faces) and faces[0].emotion == label
    return {k: {"photos": n, "found": round(f / n, 3), "right": round(r / n, 3)} for k, (n, f, r) in tallies.items()}


def score_aligned(yale: Path, shares: tuple[float, ...] = (0.1, 0.3, 0.5)) -> dict[str, dict[str, float]]:
    """Per fill of the levelled crop, orientation and cut: the share of photos found and labelled
    right, and how many crops the fill changed (``differ``)."""
    classifier = load_classifier(threads=1)
    shipped = Analyzer(classifier=classifier)
    levelled = Analyzer(classifier=classifier, align=True)
    every = [(label, gray, shipped.analyze_gray(gray)) for _, label, gray in photos(yale)]
    tallies: dict[str, list[int]] = {}
    for label, gray, found in every:
        if not found:
            continue
        for share in shares:
            for side in SIDES:
                for turn, quarter_turns in ALIGNED_TURNS.items():
                    picture = np.ascontiguousarray(np.rot90(cut(gray, found[0].box, side, share), quarter_turns))
                    located = levelled.locate(picture)
                    read = {}
                    for name, border in ALIGNED_FILLS.items():
                        with aligned_fill(border):
                            read[name] = (levelled.classify(picture, located), levelled.crops(picture, located[:1]))
                    crops = [crop for _, crop in read.values()]
                    differ = bool(located) and not np.array_equal(crops[0][0], crops[-1][0])
                    for name, (faces, _) in read.items():
                        keys = (turn, "turned") if quarter_turns else (turn,)
                        for key in (f"{where} {share} fill-{name}" for where in keys):
                            counts = tallies.setdefault(key, [0, 0, 0, 0])
                            counts[0] += 1
                            counts[1] += bool(faces)
                            counts[2] += bool(faces) and faces[0].emotion == label
                            counts[3] += differ
    return {
        k: {"photos": n, "found": round(f / n, 3), "right": round(r / n, 3), "differ": d}
        for k, (n, f, r, d) in tallies.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--sides", action="store_true")
    parser.add_argument("--aligned", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = score_sides(args.yale) if args.sides else score_aligned(args.yale) if args.aligned else score(args.yale)
    for key, value in sorted(report.items()):
        differ = f", crop changed by the fill in {value['differ']}" if "differ" in value else ""
        print(f"{key:28} found {value['found']:6.1%}  right {value['right']:6.1%}  ({value['photos']} photos{differ})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
