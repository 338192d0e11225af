"""Real photos through the whole pipeline: the same Yale face framed cleanly and framed badly.

    python -m benchmarks.yale_photos ../shared/datasets/yale-faces [--probes all|rolls] [--json OUT.json]

Each labelled Yale photo (happy, sad, surprised; the six resting conditions as neutral; 134
photos of 15 people) is encoded as a file and given to ``Analyzer.analyze`` as an upload is, once
as it is and once per probe; the largest face's label is scored, and a photo where no face is
found counts as wrong (what a user gets). Every probe is the same face as the clean photo, so a
drop against the ``clean`` row is the framing's cost, not the model's:

- ``roll±N``: the photo turned by N degrees on a larger canvas (a tilted selfie head), each with
  roll alignment off (the default) and on (``Analyzer(align=True)``).
- ``exif6`` / ``exif3`` / ``exif8``: a JPEG stored sideways or upside down with the EXIF
  orientation that turns it upright, as phones write them.
- ``edge25`` / ``edge50``: the left edge of the photo cuts off 25 % or 50 % of the face's width.
- ``fill1.0`` / ``fill0.8``: cropped to the face's box (or to 0.8 of it: the face larger than the
  frame), enlarged to 960 px, as a close-up selfie.
- ``large``: enlarged 12× (3840 × 2916, 11 MP JPEG), as a phone photo.
- ``dark``: light at a quarter (gamma 2), with sensor noise, as a dim room.
- ``several``: the face at the centre of a 1000 × 400 group photo, two other people at 0.7× beside it.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
#: Yale condition → the label moodtape should give it.
LABELS = {
    "happy": "happy",
    "sad": "sad",
    "surprised": "surprise",
    **{c: "neutral" for c in ("normal", "centerlight", "leftlight", "rightlight", "glasses", "noglasses")},
}
ROLLS = (-30, -20, -10, 10, 20, 30, -45, 45)
EXIF_TURNS = {6: cv2.ROTATE_90_COUNTERCLOCKWISE, 3: cv2.ROTATE_180, 8: cv2.ROTATE_90_CLOCKWISE}


def png(gray: Gray) -> bytes:
    ok, encoded = cv2.imencode(".png", gray)
    assert ok
    return encoded.tobytes()


def jpeg(gray: Gray, orientation: int | None = None) -> bytes:
    """``gray`` as a JPEG, stored turned so that EXIF ``orientation`` shows it upright."""
    stored = gray if orientation is None else cv2.rotate(gray, EXIF_TURNS[orientation])
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    Image.fromarray(stored).save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def rolled(gray: Gray, degrees: float) -> Gray:
    """``gray`` turned about its centre on a canvas large enough to keep all of it, edges replicated."""
    h, w = gray.shape
    side = int(np.ceil(np.hypot(h, w)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    matrix[:, 2] += ((side - w) / 2, (side - h) / 2)
    return np.asarray(cv2.warpAffine(gray, matrix, (side, side), borderMode=cv2.BORDER_REPLICATE), np.uint8)


def cut_at_edge(gray: Gray, face: Box, share: float) -> Gray:
    """``gray`` from the column that cuts ``share`` of the face's width off, on its left."""
    return np.ascontiguousarray(gray[:, face.x + round(face.w * share) :])


def filled(gray: Gray, face: Box, share: float) -> Gray:
    """The central ``share`` of the face's box, enlarged to 960 px: a face filling the frame."""
    side = round(face.w * share)
    x, y = face.x + (face.w - side) // 2, face.y + (face.h - side) // 2
    crop = gray[max(0, y) : y + side, max(0, x) : x + side]
    return np.asarray(cv2.resize(crop, (960, 960), interpolation=cv2.INTER_CUBIC), np.uint8)


def dark(gray: Gray, seed: int) -> Gray:
    """A dim room: gamma 2 and a quarter of the light, with sensor noise."""
    lit = 255 * (gray.astype(np.float32) / 255) ** 2 * 0.25
    noisy = lit + np.random.default_rng(seed).normal(0, 2.5, gray.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def among_others(gray: Gray, others: list[Gray]) -> Gray:
    """``gray`` at the centre of a 1000 × 400 picture, ``others`` at 0.7× on its left and right."""
    canvas = np.full((400, 1000), 120, np.uint8)
    smaller = [cv2.resize(other, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA) for other in others]
    placed = list(zip(smaller, (160, 840), strict=True))
    for photo, centre_x in [*placed, (gray, 500)]:
        h, w = photo.shape
        top, left = 200 - h // 2, centre_x - w // 2
        canvas[top : top + h, left : left + w] = photo
    return canvas


def photos(yale: Path) -> Iterator[tuple[int, str, Gray]]:
    """(subject, label, gray photo) for every labelled Yale photo."""
    for number in range(1, 16):
        for condition, label in LABELS.items():
            read = cv2.imread(str(yale / "images" / f"subject{number:02d}.{condition}.png"), cv2.IMREAD_GRAYSCALE)
            if read is not None:
                yield number, label, np.asarray(read, np.uint8)


Probe = Callable[[Gray, Box, int, list[Gray]], bytes]


def _roll_probe(degrees: int) -> Probe:
    return lambda g, b, s, o: png(rolled(g, degrees))


def _exif_probe(orientation: int) -> Probe:
    return lambda g, b, s, o: jpeg(g, orientation)


def probes(which: str) -> dict[str, Probe]:
    """The probes by name (see the module docstring); ``rolls`` only the rotations."""
    table: dict[str, Probe] = {"clean": lambda g, b, s, o: png(g)}
    table |= {f"roll{d:+d}": _roll_probe(d) for d in ROLLS}
    if which == "rolls":
        return table
    table |= {f"exif{n}": _exif_probe(n) for n in EXIF_TURNS}
    table |= {
        "edge25": lambda g, b, s, o: png(cut_at_edge(g, b, 0.25)),
        "edge50": lambda g, b, s, o: png(cut_at_edge(g, b, 0.5)),
        "fill1.0": lambda g, b, s, o: png(filled(g, b, 1.0)),
        "fill0.8": lambda g, b, s, o: png(filled(g, b, 0.8)),
        "large": lambda g, b, s, o: jpeg(np.asarray(cv2.resize(g, None, fx=12, fy=12), np.uint8)),
        "dark": lambda g, b, s, o: png(dark(g, s)),
        "several": lambda g, b, s, o: png(among_others(g, o)),
    }
    return table


def score(analyzers: dict[str, Analyzer], yale: Path, which: str) -> dict[str, dict[str, float]]:
    """Per probe and analyzer: the share of photos with a face found and with the right label."""
    every = list(photos(yale))
    clean = analyzers["default"]
    counts: dict[str, list[int]] = {}
    for index, (subject, label, gray) in enumerate(every):
        found = clean.analyze(png(gray))
        box = (
            found[0].box
            if found
            else Box(gray.shape[1] // 4, gray.shape[0] // 4, gray.shape[1] // 2, gray.shape[0] // 2)
        )
        others = [every[(index + k * 9) % len(every)][2] for k in (1, 2)]
        for name, make in probes(which).items():
            data = make(gray, box, subject, others)
            for kind, analyzer in analyzers.items():
                if kind != "default" and not name.startswith(("roll", "clean")):
                    continue
                faces = analyzer.analyze(data)
                tally = counts.setdefault(f"{name} {kind}", [0, 0, 0])
                tally[0] += 1
                tally[1] += bool(faces)
                tally[2] += bool(faces) and faces[0].emotion == label
    return {key: {"photos": n, "found": round(f / n, 3), "right": round(r / n, 3)} for key, (n, f, r) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--probes", choices=("all", "rolls"), default="all")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    classifier = load_classifier(threads=1)
    analyzers = {"default": Analyzer(classifier=classifier), "aligned": Analyzer(classifier=classifier, align=True)}
    report: dict[str, Any] = score(analyzers, args.yale, args.probes)
    for key, value in report.items():
        print(f"{key:24} found {value['found']:6.1%}  right {value['right']:6.1%}  ({value['photos']} photos)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
