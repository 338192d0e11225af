"""Faces cut by the photo's edge: Yale's photos cropped so the edge cuts into the face.

    python -m benchmarks.edge_faces ../shared/datasets/yale-faces [--cuts 0,0.1,0.2,0.3] [--json OUT.json]

A selfie held close or a friend at the side of a group photo is cut by the photo's edge. Each of
Yale's 134 labelled photos is cut so that a share (``--cuts``) of its face's FER2013-framed square,
as the default detector finds it in the whole photo, lies beyond the left, right, top or bottom
edge; each cut photo goes through ``Analyzer.analyze_gray`` (an upload's path once it is decoded to
gray), and the largest face's label is scored (no face found counts as wrong).

This measures moodtape as shipped. The two "crop re-centred" rows of docs/benchmarks.md ("Faces cut
by the photo's edge") came from a patched ``Analyzer`` that was measured and not kept; it is not in
the repository.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.robustness import yale_photos

SIDES = ("left", "right", "top", "bottom")


def cut(gray: npt.NDArray[np.uint8], face: Box, side: str, share: float) -> npt.NDArray[np.uint8]:
    """``gray`` with its ``side`` moved into ``face`` by ``share`` of the face's side."""
    depth = round(share * max(face.w, face.h))
    if side == "left":
        return gray[:, max(0, face.x + depth) :]
    if side == "right":
        return gray[:, : face.x + face.w - depth]
    if side == "top":
        return gray[max(0, face.y + depth) :, :]
    return gray[: face.y + face.h - depth, :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--cuts", default="0,0.1,0.2,0.3")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    photos = []
    for photo in yale_photos(args.yale):
        gray = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
        faces = analyzer.analyze_gray(gray)
        if faces:
            photos.append((gray, max(faces, key=lambda f: f.box.w * f.box.h).box, photo.label))
    report: dict[str, Any] = {"photos": len(photos)}
    for share in (float(v) for v in args.cuts.split(",")):
        found = right = tried = 0
        for side in SIDES if share else SIDES[:1]:
            for gray, box, label in photos:
                result = analyzer.analyze_gray(np.ascontiguousarray(cut(gray, box, side, share)))
                tried += 1
                found += bool(result)
                right += bool(result) and max(result, key=lambda f: f.box.w * f.box.h).emotion == label
        report[str(share)] = {"photos": tried, "found": found / tried, "right": right / tried}
        print(f"cut {share:.0%}: {tried} photos, {found / tried:.1%} found, {right / tried:.1%} labelled right")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
