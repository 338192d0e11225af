"""Personal calibration where the generic model has room to gain: Yale photos degraded as webcams degrade them.

    python -m benchmarks.calibration_degraded ../shared/datasets/yale-faces --fer ../shared/datasets/fer2013 \
        [--json docs/calibration-yale-degraded.json]

On clean Yale photos the generic model is near its ceiling (80.9 % of the frontal test photos, 98 %
of resting faces), so :mod:`benchmarks.bench_calibration` can show at most a point or two of gain.
Real photos of other people are often harder. This benchmark applies one degradation to *every*
photo of Yale (:data:`PHOTO_CONDITIONS`: blur, low light, low contrast, JPEG, noise, at the scale of
a 320×243 photo), as one camera or one room would, reads each through the whole pipeline, and
scores the protocols of :mod:`benchmarks.bench_calibration` (the same 89 frontal test photos):

* **uncalibrated**; **one neutral photo** (``normal``, degraded like the test photos: the person
  calibrates with the camera they use); **one photo per expression, leave-one-out**;
* **one neutral photo taken elsewhere**: ``normal`` as Yale gives it (clean), the test photos
  degraded: a profile made in other conditions than those it is used in;
* **read in views**: the calibration photos (not the test photos) read as the mean over
  :data:`VIEWS` (the face, its mirror, zoomed in and out, shifted by 4 % of the side): whether a
  steadier reading of a single calibration photo helps;
* the clip of the baseline at 0.5, 1 and 2 nats, with the harm bounds: every person's full profile
  on the 14 others' photos (same degradation) and, with ``--fer``, on FER2013 PublicTest.

Nothing is trained on a test photo; the views are only ever used to read a calibration photo.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.bench_calibration import (
    EXPRESSIONS,
    FRONTAL_RESTING,
    FerFaces,
    Person,
    Score,
    calibration_for,
    fer_harm,
    fer_publictest,
    label_of,
    predict,
    shipped_settings,
    someone_else,
    yale_parser,
)
from moodtape.vision import conditions
from moodtape.vision.calibrate import Example
from moodtape.vision.calibration import Settings
from moodtape.vision.images import load_image
from moodtape.vision.pipeline import Analyzer

Gray = npt.NDArray[np.uint8]
#: One degradation of a whole photo (320×243, the face about 130 px wide): name → transform. The
#: strengths are those of the robustness suite scaled from its 48-px crops to a photo's face
#: (blur σ 3 px in the photo is about 1 px on the model's 48-px crop).
PHOTO_CONDITIONS: dict[str, Callable[[Gray], Gray]] = {
    "clean": lambda photo: photo,
    "blur": lambda photo: conditions.blur(photo, 3.0),
    "low-light": lambda photo: conditions.gamma(photo, 2.2),
    "low-contrast": lambda photo: conditions.contrast(photo, 0.4),
    "jpeg-q15": lambda photo: conditions.jpeg(photo, 15),
    "noise": lambda photo: conditions.noise(photo, 20.0),
}
#: Cheap views of a face crop: the crop itself first (as ``analyze`` reads it), then its mirror,
#: zoomed in and out by 6 %, and shifted by 4 % of the side each way.
VIEWS: dict[str, Callable[[Gray], Gray]] = {
    "face": lambda crop: crop,
    "mirror": lambda crop: np.ascontiguousarray(crop[:, ::-1]),
    "zoom-in": lambda crop: conditions.reframe(crop, 0.94),
    "zoom-out": lambda crop: conditions.reframe(crop, 1.06),
    "left": lambda crop: conditions.reframe(crop, 1.0, -0.04, 0.0),
    "right": lambda crop: conditions.reframe(crop, 1.0, 0.04, 0.0),
    "up": lambda crop: conditions.reframe(crop, 1.0, 0.0, -0.04),
    "down": lambda crop: conditions.reframe(crop, 1.0, 0.0, 0.04),
}
CLIPS = (0.5, 1.0, 2.0)
FRONTAL = (*EXPRESSIONS, *FRONTAL_RESTING)

#: One person's photos, each read in every view: condition → one example per view (the first is
#: the face as ``analyze`` reads it).
Viewed = dict[str, list[Example]]


def read_in_views(analyzer: Analyzer, photo: Gray) -> list[Example] | None:
    """The largest face of ``photo`` read in each of :data:`VIEWS` (None when no face is found)."""
    located = analyzer.locate(photo)
    if not located:
        return None
    largest = max(located, key=lambda item: item[0].w * item[0].h)
    crop = analyzer.crops(photo, [largest])[0]
    probabilities, embeddings = analyzer.classifier.predict_with_embedding([view(crop) for view in VIEWS.values()])
    return [
        Example(probabilities[i], None if embeddings is None else embeddings[i], len(located))
        for i in range(len(VIEWS))
    ]


def read_degraded(
    folder: Path, analyzer: Analyzer, degrade: Callable[[Gray], Gray]
) -> tuple[dict[str, Viewed], list[str]]:
    """Every person's photos degraded by ``degrade`` and read in views; photos without a face are listed."""
    people: dict[str, Viewed] = {}
    missed: list[str] = []
    for path in sorted((folder / "images").glob("subject*.png")):
        subject, condition = path.stem.split(".")[:2]
        if condition in {"sleepy", "wink"}:
            continue
        read = read_in_views(analyzer, degrade(load_image(path, gray=True)))
        if read is None:
            missed.append(path.name)
        else:
            people.setdefault(subject, {})[condition] = read
    return people, missed


def averaged(views: Sequence[Example]) -> Example:
    """One example for a photo read in several views: its probabilities are the softmax of the views'
    mean log-probabilities (what the baseline averages over several photos) and its embedding the mean
    of the views' unit-length embeddings (what a prototype averages)."""
    logs = np.log(np.clip(np.stack([v.probabilities for v in views]).astype(np.float64), 1e-7, 1.0)).mean(axis=0)
    probabilities = np.exp(logs - logs.max())
    embedding = None
    if all(v.embedding is not None for v in views):
        units = np.stack([v.embedding / np.linalg.norm(v.embedding) for v in views if v.embedding is not None])
        embedding = units.mean(axis=0).astype(np.float32)
    return Example((probabilities / probabilities.sum()).astype(np.float32), embedding, views[0].faces)


def as_read(people: Mapping[str, Viewed], *, in_views: bool) -> dict[str, Person]:
    """Each photo as one example: the face as ``analyze`` reads it, or (``in_views``) averaged over views."""
    return {
        name: {condition: averaged(views) if in_views else views[0] for condition, views in photos.items()}
        for name, photos in people.items()
    }


def scores(
    tested: Mapping[str, Person],
    calibrated: Mapping[str, Person],
    protocol: str,
    model_id: str,
    settings: Settings,
) -> dict[str, Any]:
    """``protocol`` of :mod:`benchmarks.bench_calibration` on ``tested``'s frontal photos, each person's
    profile made from ``calibrated``'s reading of their photos (another degradation, or read in views)."""
    score = Score()
    for name, person in tested.items():
        for condition in FRONTAL:
            if condition in person:
                profile = calibration_for(protocol, calibrated.get(name, {}), condition, model_id, settings)
                score.add(label_of(condition), predict(profile, person[condition]))
    return score.summary()


def clipped_people(people: Mapping[str, Person], settings: Settings) -> int:
    """How many people's one-neutral baseline reaches the clip in some class (before centring)."""
    if settings.neutral_reference is None:
        return 0
    target = np.asarray(settings.neutral_reference, dtype=np.float64)
    count = 0
    for person in people.values():
        if "normal" in person:
            logs = np.log(np.clip(person["normal"].probabilities.astype(np.float64), 1e-7, 1.0))
            shift = (target - target.mean()) - (logs - logs.mean())
            count += int(np.abs(shift).max() > settings.max_shift)
    return count


def condition_rows(
    people: Mapping[str, Viewed],
    clean: Mapping[str, Viewed],
    model_id: str,
    settings: Settings,
    fer: FerFaces | None,
) -> dict[str, Any]:
    """Every protocol and clip for one degradation (``people``), with ``clean`` for calibrating elsewhere."""
    faces, in_views, elsewhere = (
        as_read(people, in_views=False),
        as_read(people, in_views=True),
        as_read(clean, in_views=False),
    )
    rows: dict[str, Any] = {
        "uncalibrated": scores(faces, faces, "uncalibrated", model_id, settings),
        "neutral": scores(faces, faces, "neutral", model_id, settings),
        "per_expression_loo": scores(faces, faces, "per_expression_loo", model_id, settings),
        "neutral_taken_clean": scores(faces, elsewhere, "neutral", model_id, settings),
        "neutral_in_views": scores(faces, in_views, "neutral", model_id, settings),
        "per_expression_loo_in_views": scores(faces, in_views, "per_expression_loo", model_id, settings),
        "clips": [],
    }
    for clip in CLIPS:
        clipped = dataclasses.replace(settings, max_shift=clip)
        row = {
            "max_shift": clip,
            "people_at_the_clip": clipped_people(faces, clipped),
            "neutral": scores(faces, faces, "neutral", model_id, clipped)["accuracy"],
            "per_expression_loo": scores(faces, faces, "per_expression_loo", model_id, clipped)["accuracy"],
            "someone_elses_profile": someone_else(dict(faces), model_id, clipped),
        }
        if fer is not None:
            row["fer2013_publictest"] = fer_harm(fer, dict(faces), model_id, clipped)
        rows["clips"].append(row)
    return rows


def summary_line(name: str, rows: Mapping[str, Any]) -> str:
    base = rows["uncalibrated"]["accuracy"]
    parts = [f"{name:<13} uncalibrated {base:.1%}"]
    for key in (
        "neutral",
        "per_expression_loo",
        "neutral_taken_clean",
        "neutral_in_views",
        "per_expression_loo_in_views",
    ):
        parts.append(f"{key} {rows[key]['accuracy']:.1%} ({(rows[key]['accuracy'] - base) * 100:+.1f})")
    return "  ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = yale_parser(__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)
    if not (args.yale / "images").is_dir():
        parser.error(f"{args.yale}/images not found: pass the yale-faces folder from ../shared/datasets")
    from moodtape.vision.classifier import load_classifier

    analyzer = Analyzer(classifier=load_classifier(args.model))
    settings = shipped_settings(analyzer)
    model_id = analyzer.classifier.model_id
    fer = fer_publictest(args.fer, analyzer) if args.fer is not None else None
    read = {}
    for name, degrade in PHOTO_CONDITIONS.items():
        read[name] = read_degraded(args.yale, analyzer, degrade)
        print(f"read Yale under {name}", file=sys.stderr)
    result: dict[str, Any] = {
        "settings": dataclasses.asdict(settings),
        "views": list(VIEWS),
        "conditions": {},
    }
    if fer is not None:
        result["fer2013_uncalibrated"] = float((fer[0].argmax(1) == fer[2]).mean())
    for name, (people, missed) in read.items():
        rows = condition_rows(people, read["clean"][0], model_id, settings, fer)
        result["conditions"][name] = {"photos_without_a_face": missed, **rows}
        print(summary_line(name, rows))
        for clip in rows["clips"]:
            others = clip["someone_elses_profile"]
            harm = clip.get("fer2013_publictest", {})
            print(
                f"    clip {clip['max_shift']:g}: neutral {clip['neutral']:.1%} LOO {clip['per_expression_loo']:.1%}  "
                f"at the clip {clip['people_at_the_clip']}/{len(people)}  others {others['mean_accuracy']:.1%}"
                f"/{others['worst_accuracy']:.1%}"
                + (f"  FER2013 {harm['mean']:.1%}/{harm['worst']:.1%}" if harm else "")
            )
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
