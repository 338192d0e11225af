"""Which networks should an exported model average? Judged on FER2013's crops *and* on the pipeline's.

    python -m benchmarks.ensemble_choice runs/v1-0 runs/v1-1 runs/s2 runs/s3 \
        --fer ../shared/datasets/fer2013/publictest [--scenes DIR …] [--yale ../shared/datasets/yale-faces] \
        [--json OUT.json]

Each network is run once per set of faces (its float ``best.pt``, on the face alone, as the bundled
model runs its networks); then every group of two or more networks is scored by the accuracy of
their averaged logits. The sets are those of :mod:`benchmarks.view_choice`: PublicTest's own crops,
the same faces as photos cut out by the pipeline, each ``--scenes`` folder, and Yale's real photos.
A network that only helps on FER2013's framing is not worth its cost per face (see the model card).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import numpy.typing as npt
import torch

from benchmarks.view_choice import face_sets, runs_and_face_sets, view_logits


def groups(count: int) -> list[tuple[int, ...]]:
    """Every group of two or more of ``count`` networks, smallest first (and each network alone)."""
    singles = [(i,) for i in range(count)]
    return singles + [group for size in range(2, count + 1) for group in itertools.combinations(range(count), size)]


def group_accuracy(
    logits: list[npt.NDArray[np.float32]], labels: npt.NDArray[np.int64], group: tuple[int, ...]
) -> float:
    """Accuracy of the networks in ``group``, their logits averaged as the exported graph does."""
    averaged = np.mean([logits[i] for i in group], axis=0)
    return float((averaged.argmax(1) == labels).mean())


def main() -> None:
    args, networks, analyzer = runs_and_face_sets(__doc__.split("\n\n")[0])
    names = ["+".join(str(i) for i in group) for group in groups(len(networks))]
    report: dict[str, dict[str, float]] = {}
    for set_name, (images, labels) in face_sets(analyzer, args.fer, args.scenes, args.yale, args.photo_side):
        batch = torch.from_numpy(analyzer.classifier.preprocess(images))
        logits = view_logits(networks, batch, False, 1.0)
        report[set_name] = {"faces": float(len(labels))} | {
            name: group_accuracy(logits, labels, group)
            for name, group in zip(names, groups(len(networks)), strict=True)
        }
    print("networks: " + ", ".join(f"{i} = {run}" for i, run in enumerate(args.runs)))
    print("| faces | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for set_name, row in report.items():
        print(f"| {set_name} | {int(row['faces'])} | " + " | ".join(f"{100 * row[n]:.2f} %" for n in names) + " |")
    if args.json:
        args.json.write_text(json.dumps({"runs": [str(run) for run in args.runs], "sets": report}, indent=1) + "\n")


if __name__ == "__main__":
    main()
