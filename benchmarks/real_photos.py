"""What people's own photos bring that our sets may not, through the whole pipeline.

    python -m benchmarks.real_photos ../shared/datasets/yale-faces [--no-dark-search] [--json OUT.json]

Two kinds of probe, each given to ``Analyzer.analyze`` as an encoded upload (largest face first):

- **Yale** (134 labelled photos, as in :mod:`benchmarks.yale_photos`; gray): the photo under a
  condition a phone or a user gives it. Scored: found, right, and of the wrong answers how many the
  pipeline flagged ``uncertain`` (a wrong answer said with doubt is less harm than a sure one).
- **Astronaut** (scikit-image's colour photo, "happy"): conditions that need colour (casts, sepia)
  or a scene (a printed photo held in a room, a small face in a large photo, a group whose largest
  face is blurred). Scored: found, the first face's label, its probability and ``uncertain``.

Conditions (the seed is fixed; every number is exact from run to run on one machine):

- ``phone-sharpened``: JPEG quality 60 after a strong unsharp mask (amount 1.5, σ 1.5 px of the
  face's 100), as phone cameras and messaging apps do.
- ``jpeg25``: JPEG quality 25 (a photo forwarded a few times).
- ``very-dark``: a tenth of the light, with sensor noise σ 3 (a face in a dark room, no flash).
  ``very-dark-lamp``: the same with a lamp (gray 230) covering 2 % of the photo in its top right
  corner; ``very-dark-180``: the same turned by 180° (a phone held upside down in the dark).
  ``--no-dark-search`` turns off the brightened search of very dark photos
  (:mod:`moodtape.vision.dark_photos`), for the numbers without it.
- ``cut-top`` / ``cut-bottom``: the photo's top or bottom edge cuts 30 % off the face's square
  (the forehead and eyes' brow, or the mouth and chin); the left edge is ``yale_photos``' job.
- ``printed``: the photo as a print with a white border, held turned by 8° and seen in
  perspective, in a room 3× its size, a little blurred and with a glare gradient over it.
- astronaut ``tungsten`` · ``fluorescent`` · ``sepia`` · ``gray``: colour casts (red ×1.25 and
  blue ×0.6; green ×1.3 and red ×0.8) and tones, as an uploaded colour JPEG.
- astronaut ``small40`` · ``small60`` · ``small80``: the head pasted so that the face is about that
  many pixels, into a noisy 4000 × 3000 picture.
- astronaut ``group-blurred-largest``: the head at 1.4× blurred (σ 4 px) beside it at 1.0× sharp: the
  pipeline answers with the largest face first, however blurred.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from benchmarks.yale_photos import photos, png
from moodtape.types import Box
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
Bgr = npt.NDArray[np.uint8]
#: Where the astronaut's head is (the tests' ``HEAD``) and the face in it, about 100 px.
HEAD = (slice(20, 240), slice(110, 330))
ASTRONAUT_FACE_SIDE = 100


def jpeg(picture: npt.NDArray[np.uint8], quality: int) -> bytes:
    """``picture`` (gray or BGR) as a JPEG of ``quality``."""
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def sharpened(picture: npt.NDArray[np.uint8], amount: float = 1.5, sigma: float = 1.5) -> npt.NDArray[np.uint8]:
    """An unsharp mask: ``picture`` plus ``amount`` times itself less its blur."""
    blurred = cv2.GaussianBlur(picture, (0, 0), sigma)
    return np.asarray(cv2.addWeighted(picture, 1 + amount, blurred, -amount, 0), np.uint8)


def very_dark(picture: Gray, seed: int) -> Gray:
    noisy = picture.astype(np.float32) * 0.1 + np.random.default_rng(seed).normal(0, 3, picture.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def with_a_lamp(picture: Gray, share: float = 0.02) -> Gray:
    """``picture`` with a bright square (gray 230) covering ``share`` of it in the top right corner."""
    lit = picture.copy()
    side = int(np.sqrt(share * lit.size))
    lit[:side, -side:] = 230
    return lit


def cut(picture: Gray, face: Box, share: float, side: str) -> Gray:
    """``picture`` with its top (or bottom) edge through ``share`` of the face's square."""
    if side == "top":
        return np.ascontiguousarray(picture[face.y + round(face.h * share) :])
    return np.ascontiguousarray(picture[: face.y + face.h - round(face.h * share)])


def printed(picture: Gray, seed: int) -> Gray:
    """``picture`` as a print (white border) held turned by 8° in perspective, in a 3× room."""
    rng = np.random.default_rng(seed)
    border = max(4, picture.shape[1] // 20)
    card = cv2.copyMakeBorder(picture, border, border, border, border, cv2.BORDER_CONSTANT, value=235)
    h, w = card.shape
    room_h, room_w = 3 * h, 3 * w
    room = np.clip(cv2.GaussianBlur(rng.normal(110, 40, (room_h, room_w)), (0, 0), 25), 0, 255).astype(np.uint8)
    x0, y0 = w, h
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    squeeze = 0.08 * w
    placed = np.float32([[x0, y0], [x0 + w, y0 + squeeze], [x0 + w, y0 + h - squeeze], [x0, y0 + h]])
    turn = cv2.getRotationMatrix2D((x0 + w / 2, y0 + h / 2), 8, 1.0)
    placed = np.float32([turn @ (x, y, 1.0) for x, y in placed])
    matrix = cv2.getPerspectiveTransform(corners, placed)
    warped = cv2.warpPerspective(card, matrix, (room_w, room_h))
    mask = cv2.warpPerspective(np.full_like(card, 255), matrix, (room_w, room_h)) > 0
    room[mask] = warped[mask]
    glare = np.linspace(0, 40, room_w, dtype=np.float32)[None, :] * mask
    return np.clip(cv2.GaussianBlur(room, (0, 0), 0.8) + glare, 0, 255).astype(np.uint8)


YaleProbe = Callable[[Gray, Box, int], bytes]
YALE_PROBES: dict[str, YaleProbe] = {
    "clean": lambda g, b, s: png(g),
    "phone-sharpened": lambda g, b, s: jpeg(sharpened(g), 60),
    "jpeg25": lambda g, b, s: jpeg(g, 25),
    "very-dark": lambda g, b, s: png(very_dark(g, s)),
    "very-dark-lamp": lambda g, b, s: png(with_a_lamp(very_dark(g, s))),
    "very-dark-180": lambda g, b, s: png(np.ascontiguousarray(very_dark(g, s)[::-1, ::-1])),
    "cut-top": lambda g, b, s: png(cut(g, b, 0.3, "top")),
    "cut-bottom": lambda g, b, s: png(cut(g, b, 0.3, "bottom")),
    "printed": lambda g, b, s: png(printed(g, s)),
}


def score_yale(analyzer: Analyzer, yale: Path) -> dict[str, dict[str, float]]:
    """Per probe: found, right, and wrong answers flagged uncertain or said sure, as shares of all."""
    counts = {name: [0, 0, 0, 0, 0] for name in YALE_PROBES}
    for subject, label, gray in photos(yale):
        (clean,) = analyzer.analyze(png(gray))[:1]
        for name, make in YALE_PROBES.items():
            faces = analyzer.analyze(make(gray, clean.box, subject))
            tally = counts[name]
            tally[0] += 1
            if faces:
                tally[1] += 1
                right = faces[0].emotion == label
                tally[2] += right
                tally[3] += not right and faces[0].uncertain
                tally[4] += not right and not faces[0].uncertain
    return {
        name: {
            "photos": n,
            "found": round(found / n, 3),
            "right": round(right / n, 3),
            "wrong_uncertain": round(doubted / n, 3),
            "wrong_sure": round(sure / n, 3),
        }
        for name, (n, found, right, doubted, sure) in counts.items()
    }


def astronaut_bgr() -> Bgr:
    from skimage import data

    return np.ascontiguousarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))


def cast(bgr: Bgr, blue: float, green: float, red: float) -> Bgr:
    return np.clip(bgr.astype(np.float32) * (blue, green, red), 0, 255).astype(np.uint8)


def sepia(bgr: Bgr) -> Bgr:
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.clip(np.stack([gray * 0.76, gray * 0.95, gray * 1.1], axis=-1), 0, 255).astype(np.uint8)


def small_in_large(bgr: Bgr, face_side: int, seed: int) -> Bgr:
    """The astronaut's head shrunk so that her face is ``face_side`` px, in a noisy 4000 × 3000 picture."""
    rng = np.random.default_rng(seed)
    canvas = np.clip(cv2.GaussianBlur(rng.normal(120, 50, (750, 1000, 3)), (0, 0), 3), 0, 255).astype(np.uint8)
    canvas = np.asarray(cv2.resize(canvas, (4000, 3000), interpolation=cv2.INTER_LINEAR), np.uint8)
    scale = face_side / ASTRONAUT_FACE_SIDE
    head = cv2.resize(bgr[HEAD], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = head.shape[:2]
    canvas[1700 : 1700 + h, 2500 : 2500 + w] = head
    return canvas


def group_blurred_largest(bgr: Bgr) -> Bgr:
    """The head at 1.4× blurred and at 1.0× sharp, side by side on gray."""
    big = cv2.GaussianBlur(cv2.resize(bgr[HEAD], None, fx=1.4, fy=1.4), (0, 0), 4)
    small = bgr[HEAD]
    canvas = np.full((340, 560, 3), 128, np.uint8)
    canvas[10 : 10 + big.shape[0], 0 : big.shape[1]] = big
    canvas[60 : 60 + small.shape[0], 320 : 320 + small.shape[1]] = small
    return canvas


def as_jpeg(bgr: Bgr) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def astronaut_probes() -> dict[str, bytes]:
    bgr = astronaut_bgr()
    gray = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), np.uint8)
    return {
        "clean": as_jpeg(bgr),
        "tungsten": as_jpeg(cast(bgr, 0.6, 1.0, 1.25)),
        "fluorescent": as_jpeg(cast(bgr, 1.0, 1.3, 0.8)),
        "sepia": as_jpeg(sepia(bgr)),
        "gray": png(gray),
        "very-dark": png(very_dark(gray, 1)),
        "phone-sharpened": jpeg(sharpened(bgr), 60),
        "printed": png(printed(gray, 1)),
        **{f"small{side}": jpeg(small_in_large(bgr, side, side), 90) for side in (40, 60, 80)},
        "group-blurred-largest": as_jpeg(group_blurred_largest(bgr)),
    }


def score_astronaut(analyzer: Analyzer) -> dict[str, dict[str, Any]]:
    report: dict[str, dict[str, Any]] = {}
    for name, data in astronaut_probes().items():
        faces = analyzer.analyze(data)
        first = faces[0] if faces else None
        report[name] = {
            "faces": len(faces),
            "first_side": first.box.w if first else None,
            "label": first.emotion if first else None,
            "p": round(first.probabilities[first.emotion], 2) if first else None,
            "uncertain": first.uncertain if first else None,
            "all": [(face.box.w, face.emotion, round(face.probabilities[face.emotion], 2)) for face in faces],
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-dark-search", action="store_true", help="no brightened search of very dark photos")
    args = parser.parse_args()
    if args.no_dark_search:
        import moodtape.vision.yunet

        moodtape.vision.yunet.dark_all_over = lambda gray: False  # type: ignore[assignment]
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    report: dict[str, Any] = {"astronaut": score_astronaut(analyzer)}
    for key, value in report["astronaut"].items():
        print("astronaut", key, json.dumps(value), flush=True)
    report["yale"] = score_yale(analyzer, args.yale)
    for key, value in report["yale"].items():
        print("yale", key, json.dumps(value), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
