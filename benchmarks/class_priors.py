"""Would shifting the bundled model's class scores help on faces that are not FER2013's?

    python -m benchmarks.class_priors ../shared/datasets/fer2013 --yale ../shared/datasets/yale-faces \
        --json docs/benchmark-class-priors.json

FER2013's training faces are a quarter happy and 1.5 % disgusted; posed-expression sets show each
expression equally often, and the model reads their subtle anger and sadness as neutral. Two cheap
corrections a reader would try before retraining, both a fixed vector added to the log-probabilities:

- *logit adjustment* (Menon et al., ICLR 2021): subtract ``tau × log(training prior)``, which is
  Bayes-optimal when the test set's classes are balanced (``tau`` = 1);
- *fitted biases*: seven offsets chosen on half of PublicTest by coordinate ascent, for accuracy or
  for balanced accuracy (the mean of the per-class recalls), scored on the other half (five random
  halvings, both ways).

Both are scored on PublicTest (crops) and on Yale's real photos through the whole pipeline (largest
face); Yale's ``expressions`` group (happy, sad, surprised, normal; 15 each) is balanced.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.vision.classifier import load_classifier
from moodtape.vision.evaluate import predict_dataset
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.robustness import YALE_GROUPS, yale_photos

Scores = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]
Objective = Callable[[Scores, Labels, Scores], float]

TAUS = (0.25, 0.5, 1.0)
BIAS_GRID = np.linspace(-1.5, 1.5, 61)


def accuracy(log_p: Scores, labels: Labels, bias: Scores) -> float:
    return float(((log_p + bias).argmax(axis=1) == labels).mean())


def balanced_accuracy(log_p: Scores, labels: Labels, bias: Scores) -> float:
    predicted = (log_p + bias).argmax(axis=1)
    recalls = [(predicted[labels == k] == k).mean() for k in range(len(EMOTIONS)) if (labels == k).any()]
    return float(np.mean(recalls))


def fitted_bias(log_p: Scores, labels: Labels, objective: Objective, sweeps: int = 4) -> Scores:
    """Seven offsets, one class at a time over a grid, kept only where the objective rises."""
    bias = np.zeros(len(EMOTIONS))
    for _ in range(sweeps):
        for k in range(len(EMOTIONS)):
            best_score, best_value = objective(log_p, labels, bias), bias[k]
            for value in BIAS_GRID:
                trial = bias.copy()
                trial[k] = value
                score = objective(log_p, labels, trial)
                if score > best_score + 1e-9:
                    best_score, best_value = score, value
            bias[k] = best_value
        bias -= bias.mean()
    return bias


def held_out_gain(log_p: Scores, labels: Labels, objective: Objective, halvings: int = 5) -> dict[str, float]:
    """Accuracy and balanced accuracy gained on one half of PublicTest by biases fitted on the other."""
    rng = np.random.default_rng(0)
    gains = []
    zero = np.zeros(len(EMOTIONS))
    for _ in range(halvings):
        order = rng.permutation(len(labels))
        halves = order[: len(labels) // 2], order[len(labels) // 2 :]
        for fit, test in (halves, halves[::-1]):
            bias = fitted_bias(log_p[fit], labels[fit], objective)
            gains.append(
                [
                    accuracy(log_p[test], labels[test], bias) - accuracy(log_p[test], labels[test], zero),
                    balanced_accuracy(log_p[test], labels[test], bias)
                    - balanced_accuracy(log_p[test], labels[test], zero),
                ]
            )
    mean, spread = np.mean(gains, axis=0), np.std(gains, axis=0)
    return {"accuracy": mean[0], "accuracy_sd": spread[0], "balanced": mean[1], "balanced_sd": spread[1]}


def yale_scores(folder: Path) -> tuple[list[str], Scores, Labels]:
    """Each Yale photo's condition, the largest face's log-probabilities and its label index."""
    analyzer = Analyzer()
    conditions, rows, labels = [], [], []
    for photo in yale_photos(folder):
        faces = analyzer.analyze(str(photo.path))
        if not faces:
            raise SystemExit(f"no face found in {photo.path}: this benchmark expects every Yale photo to have one")
        face = max(faces, key=lambda f: f.box.w * f.box.h)
        conditions.append(photo.condition)
        rows.append([face.probabilities[e] for e in EMOTIONS])
        labels.append(EMOTIONS.index(photo.label))
    return conditions, np.log(np.clip(np.array(rows), 1e-9, 1.0)), np.array(labels)


def yale_accuracy(conditions: list[str], log_p: Scores, labels: Labels, bias: Scores) -> dict[str, float]:
    groups = {"all": None, "expressions": set(YALE_GROUPS["expressions"])}
    result = {}
    for name, members in groups.items():
        keep = np.array([members is None or c in members for c in conditions])
        result[name] = accuracy(log_p[keep], labels[keep], bias)
    return result


def corrections(train_counts: npt.NDArray[np.int64], log_p: Scores, labels: Labels) -> dict[str, Scores]:
    prior = train_counts / train_counts.sum()
    named = {"none": np.zeros(len(EMOTIONS))}
    for tau in TAUS:
        named[f"logit adjustment tau {tau}"] = -tau * np.log(prior)
    named["fitted for accuracy"] = fitted_bias(log_p, labels, accuracy)
    named["fitted for balanced accuracy"] = fitted_bias(log_p, labels, balanced_accuracy)
    return named


def run(fer_root: Path, yale: Path | None) -> dict[str, Any]:
    public = load_dataset(fer_root / "publictest")
    train_counts = np.array([sum(1 for _ in (fer_root / "train" / label).iterdir()) for label in EMOTIONS])
    log_p = np.log(np.clip(predict_dataset(load_classifier(), public).astype(np.float64), 1e-9, 1.0))
    labels = public.labels
    yale_data = yale_scores(yale) if yale else None
    rows = []
    for name, bias in corrections(train_counts, log_p, labels).items():
        row: dict[str, Any] = {
            "correction": name,
            "bias": dict(zip(EMOTIONS, np.round(bias - bias.mean(), 3).tolist(), strict=True)),
            "publictest": accuracy(log_p, labels, bias),
            "publictest_balanced": balanced_accuracy(log_p, labels, bias),
        }
        if yale_data:
            row["yale"] = yale_accuracy(*yale_data, bias)
        rows.append(row)
    return {
        "rows": rows,
        "held_out_gain": {
            "fitted for accuracy": held_out_gain(log_p, labels, accuracy),
            "fitted for balanced accuracy": held_out_gain(log_p, labels, balanced_accuracy),
        },
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| correction | PublicTest | PublicTest, balanced | Yale all | Yale expressions |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        yale = row.get("yale", {})
        cells = [row["publictest"], row["publictest_balanced"], yale.get("all"), yale.get("expressions")]
        lines.append(
            f"| {row['correction']} | " + " | ".join("—" if c is None else f"{100 * c:.1f} %" for c in cells) + " |"
        )
    for name, gain in result["held_out_gain"].items():
        lines.append(
            f"\n{name}, fitted on half of PublicTest and scored on the other: accuracy "
            f"{100 * gain['accuracy']:+.1f} ± {100 * gain['accuracy_sd']:.1f}, balanced "
            f"{100 * gain['balanced']:+.1f} ± {100 * gain['balanced_sd']:.1f} points"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fer2013", type=Path, help="the FER2013 folder holding train/ and publictest/")
    parser.add_argument("--yale", type=Path, help="the Yale faces folder, for real photos")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    result = run(args.fer2013, args.yale)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
