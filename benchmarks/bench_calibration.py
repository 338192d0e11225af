"""Personal calibration on the Yale faces: what one neutral photo, and one photo per expression, add.

    python -m benchmarks.bench_calibration ../shared/datasets/yale-faces [--fer ../shared/datasets/fer2013] \
        [--json OUT.json] [--plot OUT.png]

Yale has 15 people, each photographed once per expression (happy, sad, surprised) and several
times with a resting face (``normal``, ``centerlight``, ``glasses``, ``noglasses``, and side-lit
``leftlight``/``rightlight``). Every photo goes through the whole pipeline (Haar, largest face).
Nothing is trained on a test photo; flips or crops of a photo are never used as "new" photos.

Test photos per person: the three expressions and three resting faces in frontal light
(``centerlight``, ``glasses``, ``noglasses``); the side-lit ones are scored in a separate row.

Protocols:

* **uncalibrated** — the generic model.
* **one neutral photo** — calibrate with ``normal`` only.
* **one photo per expression (leave-one-out)** — calibrate with ``normal`` and the person's
  expression photos *except the one being tested*: a test expression never has an example of its
  own in the profile (Yale holds only one photo of it). This measures a harder task than a user
  who calibrates each expression and later shows it again, so it is a lower bound for that case
  (:mod:`benchmarks.calibration_proxy` measures an optimistic proxy for it); resting-face test
  photos do see a profile with all three expressions.
* **someone else's profile** — every person's full profile applied to every *other* person's test
  photos: a profile must not wreck the predictions for a face it was not made for.
* with ``--fer``: each person's full profile applied to FER2013 PublicTest (3,589 other people),
  to check that no profile collapses predictions.

A small grid over the hyper-parameters (the baseline's target, its clip, the prototype weight)
shows how sensitive the gains are; the shipped values are :class:`moodtape.vision.calibration.Settings`'s
with the model's neutral reference as the target (:func:`shipped_settings`). The even targets
(neutral at 0.4–0.8, the rest spread evenly) are what a model without a reference gets, and what
every model got before 2026-12-05.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibrate import Example, read_example
from moodtape.vision.calibration import Profile, Settings, fit_profile
from moodtape.vision.pipeline import Analyzer

LABELS = {"happy": "happy", "sad": "sad", "surprised": "surprise", "normal": "neutral"}
EXPRESSIONS = ("happy", "sad", "surprised")
FRONTAL_RESTING = ("centerlight", "glasses", "noglasses")
SIDE_LIT = ("leftlight", "rightlight")
GRID = {
    "neutral_target": (0.4, 0.5, 0.6, 0.7, 0.8),
    "max_shift": (0.5, 1.0, 2.0, 10.0),
    "prototype_weight": (0.0, 2.0, 4.0, 6.0, 8.0),
}

Person = dict[str, Example]


def read_people(folder: Path, analyzer: Analyzer) -> tuple[dict[str, Person], list[str]]:
    """Each person's photos read once: condition → example; photos without a face are listed."""
    people: dict[str, Person] = {}
    missed: list[str] = []
    paths = sorted((folder / "images").glob("subject*.png"))
    for number, path in enumerate(paths, 1):
        subject, condition = path.stem.split(".")[:2]
        if condition in {"sleepy", "wink"}:
            continue
        try:
            people.setdefault(subject, {})[condition] = read_example(analyzer, path, path.name)
        except Exception:  # no face: counted as a miss, like any other pipeline failure
            missed.append(path.name)
        if number % 20 == 0 or number == len(paths):
            print(f"read {number}/{len(paths)} Yale photos", file=sys.stderr)
    return people, missed


def yale_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of both Yale benchmarks (this one and :mod:`benchmarks.calibration_proxy`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("yale", type=Path, help="the yale-faces folder (with images/)")
    parser.add_argument("--fer", type=Path, default=None, help="the fer2013 folder, for the PublicTest check")
    parser.add_argument("--model", default=None, help="an .onnx model (default: the bundled one)")
    parser.add_argument("--json", dest="json_out", type=Path, default=None, help="write the results here")
    return parser


def open_yale(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Analyzer, dict[str, Person], list[str]]:
    """The model ``--model`` names, and every person's photos read through it once (a usage error
    when the yale folder has no images/)."""
    if not (args.yale / "images").is_dir():
        parser.error(f"{args.yale}/images not found: pass the yale-faces folder from ../shared/datasets")
    from moodtape.vision.classifier import load_classifier

    analyzer = Analyzer(classifier=load_classifier(args.model))
    people, missed = read_people(args.yale, analyzer)
    return analyzer, people, missed


def label_of(condition: str) -> str:
    return LABELS.get(condition, "neutral")


def profile_for(person: Person, conditions: Iterable[str], model_id: str, settings: Settings) -> Profile:
    """A profile from the named photos of ``person`` (those that were read)."""
    chosen = [c for c in conditions if c in person]
    probabilities = {label_of(c): person[c].probabilities[None] for c in chosen}
    embeddings = {label_of(c): person[c].embedding[None] for c in chosen if person[c].embedding is not None}
    return fit_profile(model_id, probabilities, embeddings if len(embeddings) == len(chosen) else None, settings)


def predict(profile: Profile | None, example: Example) -> np.ndarray[Any, Any]:
    probabilities = example.probabilities[None]
    if profile is None:
        return probabilities[0]
    embedding = None if example.embedding is None else example.embedding[None]
    return profile.apply(probabilities, embedding)[0]


def calibration_for(protocol: str, person: Person, test: str, model_id: str, settings: Settings) -> Profile | None:
    if protocol == "uncalibrated" or "normal" not in person:
        return None
    if protocol == "neutral":
        return profile_for(person, ["normal"], model_id, settings)
    return profile_for(person, ["normal", *(e for e in EXPRESSIONS if e != test)], model_id, settings)


class Score:
    """Correct counts per true label, and the log-likelihood of the true label."""

    def __init__(self) -> None:
        self.correct: dict[str, list[bool]] = {}
        self.log_likelihood: list[float] = []

    def add(self, truth: str, probabilities: np.ndarray[Any, Any]) -> None:
        self.correct.setdefault(truth, []).append(EMOTIONS[int(np.argmax(probabilities))] == truth)
        self.log_likelihood.append(float(np.log(max(float(probabilities[EMOTIONS.index(truth)]), 1e-7))))

    def summary(self) -> dict[str, Any]:
        every = [c for values in self.correct.values() for c in values]
        return {
            "accuracy": float(np.mean(every)),
            "per_class": {label: float(np.mean(v)) for label, v in sorted(self.correct.items())},
            "faces": len(every),
            "nll": -float(np.mean(self.log_likelihood)),
        }


def run_protocol(
    people: dict[str, Person], protocol: str, conditions: Iterable[str], model_id: str, settings: Settings
) -> dict[str, Any]:
    score = Score()
    for person in people.values():
        for condition in conditions:
            if condition in person:
                profile = calibration_for(protocol, person, condition, model_id, settings)
                score.add(label_of(condition), predict(profile, person[condition]))
    return score.summary()


def someone_else(people: dict[str, Person], model_id: str, settings: Settings) -> dict[str, Any]:
    """Every full profile on every other person's frontal test photos."""
    full = {
        name: profile_for(person, ["normal", *EXPRESSIONS], model_id, settings)
        for name, person in people.items()
        if "normal" in person
    }
    per_profile = []
    for owner, profile in full.items():
        score = Score()
        for name, person in people.items():
            if name != owner:
                for condition in (*EXPRESSIONS, *FRONTAL_RESTING):
                    if condition in person:
                        score.add(label_of(condition), predict(profile, person[condition]))
        per_profile.append(score.summary()["accuracy"])
    return {"mean_accuracy": float(np.mean(per_profile)), "worst_accuracy": float(np.min(per_profile))}


def prototype_margin(profile: Profile, embedding: np.ndarray[Any, Any], own: str) -> float:
    """How much nearer (cosine, centred as the profile centres) ``embedding`` lies to the prototype
    of ``own`` than to the nearest other one: above 0 when its own prototype is the nearest."""
    labels = list(profile.prototypes)
    matrix = np.asarray([profile.prototypes[label] for label in labels])
    face = embedding.astype(np.float64)
    face = face / np.linalg.norm(face) - np.asarray(profile.center)
    similarity = matrix @ (face / np.linalg.norm(face))
    index = labels.index(own)
    return float(similarity[index] - np.delete(similarity, index).max())


def nearest_prototype(people: dict[str, Person], model_id: str, settings: Settings) -> dict[str, Any]:
    """The one check of the prototypes Yale allows: is a held-out resting photo nearest the neutral one?

    Each person's full profile (``normal`` and the three expressions); the resting photos other than
    ``normal`` (frontal and side-lit) are a different photo of a calibrated class.
    """
    hits, margins = [], []
    for person in people.values():
        if "normal" not in person or person["normal"].embedding is None:
            continue
        profile = profile_for(person, ["normal", *EXPRESSIONS], model_id, settings)
        for condition in (*FRONTAL_RESTING, *SIDE_LIT):
            embedding = person[condition].embedding if condition in person else None
            if embedding is None:
                continue
            margin = prototype_margin(profile, embedding, "neutral")
            hits.append(margin > 0)
            margins.append(margin)
    return {"photos": len(hits), "nearest_is_neutral": float(np.mean(hits)), "median_margin": float(np.median(margins))}


#: FER2013 faces scored by the generic model: its probabilities, its embeddings (None when the
#: model has none) and the true labels.
FerFaces = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None, np.ndarray[Any, Any]]


def fer_publictest(fer: Path, analyzer: Analyzer, stride: int = 1) -> FerFaces:
    """Every ``stride``-th FER2013 PublicTest face (already cropped 48×48), through the generic model."""
    from moodtape.training.datasets import load_dataset

    data = load_dataset(fer / "publictest")
    crops = list(data.images)[::stride]
    probabilities, embeddings = [], []
    for start in range(0, len(crops), 256):
        p, e = analyzer.classifier.predict_with_embedding(crops[start : start + 256])
        probabilities.append(p)
        if e is not None:
            embeddings.append(e)
    features = np.concatenate(embeddings) if len(embeddings) == len(probabilities) else None
    return np.concatenate(probabilities), features, np.asarray(data.labels)[::stride]


def fer_harm(faces: FerFaces, people: dict[str, Person], model_id: str, settings: Settings) -> dict[str, float]:
    """Each person's full profile applied to the FER2013 faces: mean and worst accuracy."""
    generic, features, labels = faces
    accuracies = []
    for person in people.values():
        if "normal" in person:
            profile = profile_for(person, ["normal", *EXPRESSIONS], model_id, settings)
            accuracies.append(float((profile.apply(generic, features).argmax(1) == labels).mean()))
    return {"mean": float(np.mean(accuracies)), "worst": float(np.min(accuracies))}


def fer_check(
    fer: Path, analyzer: Analyzer, people: dict[str, Person], model_id: str, settings: Settings
) -> dict[str, Any]:
    """Each person's full profile applied to all of FER2013 PublicTest (3,589 faces)."""
    faces = fer_publictest(fer, analyzer)
    harm = fer_harm(faces, people, model_id, settings)
    return {
        "uncalibrated": float((faces[0].argmax(1) == faces[2]).mean()),
        "with_a_yale_profile_mean": harm["mean"],
        "with_a_yale_profile_worst": harm["worst"],
    }


def table(people: dict[str, Person], model_id: str, settings: Settings) -> dict[str, Any]:
    frontal = (*EXPRESSIONS, *FRONTAL_RESTING)
    return {
        protocol: {
            "frontal": run_protocol(people, protocol, frontal, model_id, settings),
            "side_lit_resting": run_protocol(people, protocol, SIDE_LIT, model_id, settings),
        }
        for protocol in ("uncalibrated", "neutral", "per_expression_loo")
    }


def shipped_settings(analyzer: Analyzer) -> Settings:
    """What ``moodtape.calibrate`` uses with this model: the defaults, aimed at the model's reference."""
    return Settings(neutral_reference=analyzer.classifier.neutral_reference)


def target_name(settings: Settings) -> str | float:
    """How a row names its baseline target: the model's reference, or the even target's neutral share."""
    return "reference" if settings.neutral_reference is not None else settings.neutral_target


def grid_settings(reference: tuple[float, ...] | None) -> list[Settings]:
    """Every even target × clip × weight, and the model's reference × clip × weight."""
    settings = [
        Settings(neutral_target=target, max_shift=clip, prototype_weight=weight)
        for target, clip, weight in itertools.product(*GRID.values())
    ]
    if reference is not None:
        settings += [
            Settings(max_shift=clip, prototype_weight=weight, neutral_reference=reference)
            for clip, weight in itertools.product(GRID["max_shift"], GRID["prototype_weight"])
        ]
    return settings


def sensitivity(people: dict[str, Person], model_id: str, reference: tuple[float, ...] | None) -> list[dict[str, Any]]:
    """Frontal accuracy per protocol over the hyper-parameter grid."""
    rows = []
    for settings in grid_settings(reference):
        result = table(people, model_id, settings)
        rows.append(
            {
                "target": target_name(settings),
                "max_shift": settings.max_shift,
                "prototype_weight": settings.prototype_weight,
                "neutral": result["neutral"]["frontal"]["accuracy"],
                "per_expression_loo": result["per_expression_loo"]["frontal"]["accuracy"],
                "side_lit_neutral": result["neutral"]["side_lit_resting"]["accuracy"],
            }
        )
    return rows


def plot(result: dict[str, Any], path: Path) -> None:
    """Accuracy per protocol and class, and how it moves with the prototype weight and the clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    protocols = result["protocols"]
    names = {
        "uncalibrated": "uncalibrated",
        "neutral": "one neutral photo",
        "per_expression_loo": "per expression (LOO)",
    }
    classes = ["happy", "sad", "surprise", "neutral"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(protocols)
    for i, (key, rows) in enumerate(protocols.items()):
        frontal = rows["frontal"]
        values = [frontal["accuracy"], *(frontal["per_class"].get(c, 0.0) for c in classes)]
        positions = [j + i * width for j in range(len(values))]
        left.bar(positions, [v * 100 for v in values], width, label=f"{names[key]} ({frontal['accuracy']:.1%})")
    left.set_xticks([j + width for j in range(len(classes) + 1)], ["all frontal", *classes])
    left.set_ylabel("accuracy on Yale (%)")
    left.set_ylim(0, 105)
    left.legend(loc="lower left", fontsize=8)
    left.set_title("Yale, 15 people: accuracy per protocol")
    chosen = result["settings"]
    for clip in sorted({row["max_shift"] for row in result["sensitivity"]}):
        rows = [r for r in result["sensitivity"] if r["max_shift"] == clip and r["target"] == chosen["target"]]
        rows.sort(key=lambda r: r["prototype_weight"])
        weights = [r["prototype_weight"] for r in rows]
        right.plot(weights, [r["per_expression_loo"] * 100 for r in rows], marker="o", label=f"LOO, clip {clip:g} nats")
        right.plot(weights, [r["neutral"] * 100 for r in rows], linestyle=":", color=right.lines[-1].get_color())
    right.axvline(chosen["prototype_weight"], color="grey", linewidth=0.8)
    right.set_xlabel("prototype weight (nats, before scaling by coverage)")
    right.set_ylabel("frontal accuracy (%); one face = 1.1 points")
    right.set_title(f"sensitivity (target: {chosen['target']}; dotted: one neutral photo)")
    right.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = yale_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--plot", type=Path, default=None, help="draw the results into this PNG")
    args = parser.parse_args(argv)
    analyzer, people, missed = open_yale(parser, args)
    model_id = analyzer.classifier.model_id
    settings = shipped_settings(analyzer)
    result: dict[str, Any] = {
        "settings": {**dataclasses.asdict(settings), "target": target_name(settings)},
        "embedding": analyzer.classifier.has_embedding,
        "people": len(people),
        "photos_without_a_face": missed,
        "protocols": table(people, model_id, settings),
        "someone_elses_profile": someone_else(people, model_id, settings),
        "held_out_resting_photos": nearest_prototype(people, model_id, settings),
    }
    if args.fer is not None:
        result["fer2013_publictest"] = fer_check(args.fer, analyzer, people, model_id, settings)
    even = dataclasses.replace(settings, neutral_reference=None)
    result["even_target"] = {
        "settings": dataclasses.asdict(even),
        "protocols": table(people, model_id, even),
        "someone_elses_profile": someone_else(people, model_id, even),
    }
    if args.fer is not None:
        result["even_target"]["fer2013_publictest"] = fer_check(args.fer, analyzer, people, model_id, even)
    result["sensitivity"] = sensitivity(people, model_id, settings.neutral_reference)
    for protocol, rows in [
        *result["protocols"].items(),
        *((f"{name} (even target)", rows) for name, rows in result["even_target"]["protocols"].items()),
    ]:
        frontal = rows["frontal"]
        print(
            f"{protocol:<34} frontal {frontal['accuracy']:.1%} ({frontal['faces']} faces, NLL {frontal['nll']:.3f})  "
            f"side-lit resting {rows['side_lit_resting']['accuracy']:.1%}  per class "
            + " ".join(f"{k} {v:.0%}" for k, v in frontal["per_class"].items())
        )
    print("someone else's profile:", json.dumps(result["someone_elses_profile"]))
    print("held-out resting photos, nearest prototype:", json.dumps(result["held_out_resting_photos"]))
    print("  with the even target:", json.dumps(result["even_target"]["someone_elses_profile"]))
    if "fer2013_publictest" in result:
        print("FER2013 PublicTest:", json.dumps(result["fer2013_publictest"]))
        print("  with the even target:", json.dumps(result["even_target"]["fer2013_publictest"]))
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    if args.plot is not None:
        plot(result, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
