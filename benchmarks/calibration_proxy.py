"""A proxy for calibrating each expression and then showing it again, which Yale cannot measure directly.

    python -m benchmarks.calibration_proxy ../shared/datasets/yale-faces --fer ../shared/datasets/fer2013 \
        [--json docs/calibration-yale-proxy.json]

Yale holds one photo per expression and person, so :mod:`benchmarks.bench_calibration` can only
test an expression with a profile that lacks it (leave-one-out, a lower bound). The everyday case
is different: a person calibrates ``happy`` with one photo and later shows a happy face in
another photo. This benchmark builds a stand-in for that second photo, and says so wherever it
reports a figure:

* **Expressions** (happy, sad, surprised): each person's photo is re-made as it might differ in a
  second shot: mirrored, framed differently (a crop of the whole photo, scaled back), lit
  differently (gamma), tilted a few degrees and saved as JPEG (:data:`VIEWS`, two per photo). The
  face, its expression and its identity are *the same instance* as the calibration photo, so the
  proxy is optimistic about how close a real second photo's embedding lies to its prototype; the
  uncalibrated model's accuracy on these views is reported beside the originals' to show that
  they are no easier for the model itself.
* **Neutral**: the person's *other real* resting photos (``centerlight``, ``glasses``,
  ``noglasses``, ``leftlight``, ``rightlight``), a genuinely different photo of a calibrated class.

Each person is calibrated with their four original photos (``normal`` as neutral and the three
expressions), through the whole pipeline. Profiles: none, ``normal`` only, and all four, for a
grid of prototype weights and baseline clips. The harm side is measured as
:mod:`benchmarks.bench_calibration` does: each full profile on the 14 other people's frontal
photos, and on FER2013 PublicTest (every :data:`FER_STRIDE`-th face).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.bench_calibration import (
    EXPRESSIONS,
    FerFaces,
    Person,
    Score,
    fer_harm,
    fer_publictest,
    label_of,
    open_yale,
    predict,
    profile_for,
    prototype_margin,
    shipped_settings,
    someone_else,
    target_name,
    yale_parser,
)
from moodtape.vision.calibrate import Example, read_example
from moodtape.vision.calibration import MAX_SHIFT, PROTOTYPE_WEIGHT, Settings
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer

CALIBRATION = ("normal", *EXPRESSIONS)
OTHER_RESTING = ("centerlight", "glasses", "noglasses", "leftlight", "rightlight")
WEIGHTS = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0)
CLIPS = (0.5, 1.0, 2.0)
FER_STRIDE = 3


@dataclass(frozen=True)
class View:
    """How a stand-in second photo differs from the calibration photo (applied to the whole photo)."""

    name: str
    mirrored: bool
    kept: float  # the side of the crop window, as a fraction of the photo's
    anchor: tuple[float, float]  # where that window sits in the slack (0: left/top, 1: right/bottom)
    gamma: float  # > 1 darker, < 1 brighter
    degrees: float  # anticlockwise tilt
    jpeg_quality: int


#: Two stand-in second photos per calibration photo, differing from it and from each other.
VIEWS = (
    View("mirrored, framed up-left, brighter, tilted +4°, JPEG 70", True, 0.88, (0.2, 0.3), 0.8, 4.0, 70),
    View("mirrored, framed down-right, darker, tilted −4°, JPEG 60", True, 0.9, (0.8, 0.7), 1.3, -4.0, 60),
)


def second_look(gray: npt.NDArray[np.uint8], view: View) -> npt.NDArray[np.uint8]:
    """``gray`` re-made as ``view`` says: a stand-in for another photo of the same moment."""
    pixels = cv2.flip(gray, 1) if view.mirrored else gray
    height, width = pixels.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), view.degrees, 1.0)
    pixels = cv2.warpAffine(pixels, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    crop_w, crop_h = round(width * view.kept), round(height * view.kept)
    left, top = round((width - crop_w) * view.anchor[0]), round((height - crop_h) * view.anchor[1])
    pixels = cv2.resize(pixels[top : top + crop_h, left : left + crop_w], (width, height), interpolation=cv2.INTER_AREA)
    lookup = np.asarray([255.0 * (v / 255.0) ** view.gamma for v in range(256)]).round().astype(np.uint8)
    pixels = cv2.LUT(pixels, lookup)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, view.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def read_views(
    folder: Path, analyzer: Analyzer, people: dict[str, Person]
) -> tuple[dict[str, list[Example]], list[str]]:
    """``"subjectNN.condition"`` → its stand-in second photos read through the pipeline; misses listed."""
    views: dict[str, list[Example]] = {}
    missed: list[str] = []
    for subject in people:
        for condition in CALIBRATION:
            path = folder / "images" / f"{subject}.{condition}.png"
            gray = load_image(path, gray=True, max_pixels=analyzer.max_pixels)
            for number, view in enumerate(VIEWS):
                name = f"{path.name} view {number}"
                try:
                    example = read_example(analyzer, path, name, gray=second_look(gray, view))
                except Exception:  # no face found: counted as a miss, like in bench_calibration
                    missed.append(name)
                    continue
                views.setdefault(f"{subject}.{condition}", []).append(example)
    return views, missed


def proxy_scores(
    people: dict[str, Person], views: dict[str, list[Example]], model_id: str, settings: Settings, protocol: str
) -> dict[str, Any]:
    """Accuracy on the stand-in second photos (expressions) and the other real resting photos (neutral)."""
    proxy, normal_views, originals = Score(), Score(), Score()
    for subject, person in people.items():
        chosen = {"uncalibrated": (), "neutral": ("normal",), "full": CALIBRATION}[protocol]
        profile = profile_for(person, chosen, model_id, settings) if chosen and "normal" in person else None
        for condition in EXPRESSIONS:
            for example in views.get(f"{subject}.{condition}", []):
                proxy.add(label_of(condition), predict(profile, example))
        for condition in OTHER_RESTING:
            if condition in person:
                proxy.add("neutral", predict(profile, person[condition]))
        for example in views.get(f"{subject}.normal", []):
            normal_views.add("neutral", predict(profile, example))
        for condition in CALIBRATION:
            if condition in person:
                originals.add(label_of(condition), predict(profile, person[condition]))
    summary = proxy.summary()
    summary["balanced_accuracy"] = float(np.mean(list(summary["per_class"].values())))
    summary["normal_views_read_neutral"] = normal_views.summary()["accuracy"]
    summary["calibration_photos_themselves"] = originals.summary()["accuracy"]
    return summary


def grid(
    people: dict[str, Person],
    views: dict[str, list[Example]],
    faces: FerFaces | None,
    model_id: str,
    shipped: Settings,
) -> list[dict[str, Any]]:
    """Proxy gain and harm for every prototype weight × baseline clip (the shipped baseline target)."""
    rows = []
    for clip in CLIPS:
        for weight in WEIGHTS:
            settings = dataclasses.replace(shipped, max_shift=clip, prototype_weight=weight)
            row: dict[str, Any] = {
                "target": target_name(settings),
                "max_shift": settings.max_shift,
                "prototype_weight": settings.prototype_weight,
                "neutral_only": proxy_scores(people, views, model_id, settings, "neutral"),
                "full": proxy_scores(people, views, model_id, settings, "full"),
                "someone_elses_profile": someone_else(people, model_id, settings),
            }
            if faces is not None:
                row["fer2013_publictest"] = fer_harm(faces, people, model_id, settings)
            rows.append(row)
            print(summary_line(row), file=sys.stderr)
    return rows


def summary_line(row: dict[str, Any]) -> str:
    full = row["full"]
    fer = row.get("fer2013_publictest", {})
    return (
        f"clip {row['max_shift']:g} weight {row['prototype_weight']:g}: "
        f"neutral-only {row['neutral_only']['accuracy']:.1%}"
        f"  full {full['accuracy']:.1%} (balanced {full['balanced_accuracy']:.1%}; "
        + " ".join(f"{k} {v:.0%}" for k, v in full["per_class"].items())
        + f")  others mean {row['someone_elses_profile']['mean_accuracy']:.1%} worst "
        f"{row['someone_elses_profile']['worst_accuracy']:.1%}"
        + (f"  FER mean {fer['mean']:.1%} worst {fer['worst']:.1%}" if fer else "")
    )


def uncalibrated_views(people: dict[str, Person], views: dict[str, list[Example]]) -> dict[str, float]:
    """The generic model on the four calibration photos and on their stand-ins: are the views harder?"""
    originals, stand_ins = Score(), Score()
    for subject, person in people.items():
        for condition in CALIBRATION:
            if condition in person:
                originals.add(label_of(condition), person[condition].probabilities)
            for example in views.get(f"{subject}.{condition}", []):
                stand_ins.add(label_of(condition), example.probabilities)
    return {"originals": originals.summary()["accuracy"], "views": stand_ins.summary()["accuracy"]}


def nearest_prototype(
    people: dict[str, Person], views: dict[str, list[Example]], model_id: str, shipped: Settings
) -> dict[str, Any]:
    """How often a test face's nearest prototype (full profile) is its own class, and by what margin.

    The measure of how optimistic the stand-ins are: a re-made copy of the calibration photo should
    lie nearer its prototype than a genuinely different photo does (compare the real resting photos).
    """
    found: dict[str, list[float]] = {}
    for subject, person in people.items():
        if "normal" not in person:
            continue
        profile = profile_for(person, CALIBRATION, model_id, shipped)
        tests = [(f"{label_of(c)} (re-made copies)", e) for c in CALIBRATION for e in views.get(f"{subject}.{c}", [])]
        tests += [("neutral (other real resting photos)", person[c]) for c in OTHER_RESTING if c in person]
        for group, example in tests:
            if example.embedding is not None:
                margin = prototype_margin(profile, example.embedding, group.split(" ")[0])
                found.setdefault(group, []).append(margin)
    return {
        group: {
            "faces": len(margins),
            "nearest_is_own": float(np.mean(np.asarray(margins) > 0)),
            "median_margin": float(np.median(margins)),
        }
        for group, margins in found.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = yale_parser(__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)
    analyzer, people, missed = open_yale(parser, args)
    model_id = analyzer.classifier.model_id
    shipped = shipped_settings(analyzer)
    views, missed_views = read_views(args.yale, analyzer, people)
    faces = fer_publictest(args.fer, analyzer, FER_STRIDE) if args.fer is not None else None
    result: dict[str, Any] = {
        "what": "PROXY: expressions tested on re-made copies of the calibration photo (mirror, crop, gamma, "
        "tilt, JPEG), neutral on the person's other real resting photos; not a second real photo",
        "shipped": {"prototype_weight": PROTOTYPE_WEIGHT, "max_shift": MAX_SHIFT, "target": target_name(shipped)},
        "views": [dataclasses.asdict(view) for view in VIEWS],
        "people": len(people),
        "photos_without_a_face": missed + missed_views,
        "uncalibrated_accuracy_on_calibration_photos": uncalibrated_views(people, views),
        "uncalibrated": proxy_scores(people, views, model_id, Settings(), "uncalibrated"),
        "nearest_prototype": nearest_prototype(people, views, model_id, shipped),
    }
    if faces is not None:
        result["fer2013_publictest_uncalibrated"] = float((faces[0].argmax(1) == faces[2]).mean())
        result["fer2013_faces"] = len(faces[2])
    print(f"uncalibrated: {json.dumps(result['uncalibrated_accuracy_on_calibration_photos'])}", file=sys.stderr)
    print(f"nearest prototype: {json.dumps(result['nearest_prototype'])}", file=sys.stderr)
    print(f"uncalibrated proxy: {result['uncalibrated']['accuracy']:.1%} {result['uncalibrated']['per_class']}")
    result["grid"] = grid(people, views, faces, model_id, shipped)
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
