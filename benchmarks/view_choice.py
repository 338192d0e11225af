"""Which second view should each network read? Judged on FER2013's crops *and* on the pipeline's.

    python -m benchmarks.view_choice runs/v1-0 runs/v1-1 --fer ../shared/datasets/fer2013/publictest \
        [--scenes DIR …] [--yale ../shared/datasets/yale-faces] [--photo-side 150] [--json OUT.json]

An exported model can run each network on more than one view of a face (the mirror image, a
zoom; ``moodtape export --passes``). On 2026-12-02 a second view that was mirrored and zoomed
gained 0.8 points on PublicTest's own crops and nothing on faces the detector had cut out, so a
view must be judged on both. For each set of faces this prints the accuracy of the networks on the
face alone (the shipped v1 passes) and with each candidate view added for every network (four
passes), from the float networks of the run folders (``best.pt``; see
``python -m moodtape.training.from_onnx`` to get them from a model file). The sets:

* ``publictest``: FER2013's crops as the data set gives them (no detection);
* ``photos``: each PublicTest face enlarged to ``--photo-side`` px and cut out by the pipeline
  (the default detector and framing); faces the detector misses are left out;
* each ``--scenes`` folder (``../shared/bench/make_scenes.py``): faces matched to the truth at IoU ≥ 0.3;
* ``yale``: the largest face of each labelled Yale photo (real photographs).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch

from benchmarks.scenes import load_scenes, match
from moodtape.emotions import EMOTIONS
from moodtape.training.datasets import load_dataset
from moodtape.training.export import load_network
from moodtape.training.views import zoom_matrix
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.robustness import YALE_LABELS

#: Candidate second views: (mirrored, zoom), by name.
VIEWS = {"mirror": (True, 1.0)} | {
    f"{'mirror' if mirrored else 'face'}@{zoom:g}": (mirrored, zoom)
    for zoom in (0.92, 0.95, 1.05, 1.08)
    for mirrored in (False, True)
}
Crops = tuple[list[npt.NDArray[np.uint8]], npt.NDArray[np.int64]]


def pipeline_crops(analyzer: Analyzer, gray: npt.NDArray[np.uint8]) -> list[tuple[list[int], npt.NDArray[np.uint8]]]:
    """Each face the pipeline finds, as ``(box, crop)``, cut as ``Analyzer.classify`` cuts it."""
    located = analyzer.locate(gray)
    return [(list(box), crop) for (box, _), crop in zip(located, analyzer.crops(gray, located), strict=True)]


def face_sets(
    analyzer: Analyzer, fer: Path, scenes: list[Path], yale: Path | None, side: int
) -> Iterator[tuple[str, Crops]]:
    """The labelled crop sets described in the module docstring, by name."""
    data = load_dataset(fer)
    yield "publictest", (list(data.images), data.labels.astype(np.int64))
    photos, labels = [], []
    for face, label in zip(data.images, data.labels, strict=True):
        found = pipeline_crops(
            analyzer, np.ascontiguousarray(cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC))
        )
        if found:
            photos.append(found[0][1])
            labels.append(int(label))
    yield f"photos ({side} px)", (photos, np.array(labels))
    for folder in scenes:
        crops, labels = [], []
        for scene in load_scenes(folder):
            found = pipeline_crops(analyzer, scene.gray)
            for i, j in match([box for box, _ in found], scene.boxes):
                crops.append(found[i][1])
                labels.append(EMOTIONS.index(scene.emotions[j]))
        yield f"scenes ({folder.name})", (crops, np.array(labels))
    if yale is not None:
        crops, labels = [], []
        for path in sorted((yale / "images").glob("*.png")):
            condition = path.name.split(".")[1]
            found = (
                pipeline_crops(analyzer, cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
                if condition in YALE_LABELS
                else []
            )
            if found:
                crops.append(found[0][1])
                labels.append(EMOTIONS.index(YALE_LABELS[condition]))
        yield "yale", (crops, np.array(labels))


def view_logits(
    networks: list[torch.nn.Module], batch: torch.Tensor, mirrored: bool, zoom: float
) -> list[npt.NDArray[np.float32]]:
    """Each network's logits on one view of ``batch`` (resampled as the exported graph does)."""
    view = torch.flip(batch, dims=[3]) if mirrored else batch
    if zoom != 1.0:
        matrix = torch.from_numpy(zoom_matrix(batch.shape[-1], zoom))
        view = matrix @ view @ matrix.T
    with torch.no_grad():
        return [network(view).numpy() for network in networks]


def score(analyzer: Analyzer, networks: list[torch.nn.Module], crops: Crops) -> dict[str, float]:
    """Accuracy of the face-only passes, then with each candidate view added for every network."""
    images, labels = crops
    batch = torch.from_numpy(analyzer.classifier.preprocess(images))
    plain = view_logits(networks, batch, False, 1.0)

    def accuracy(logits: list[npt.NDArray[np.float32]]) -> float:
        return float((np.mean(logits, axis=0).argmax(1) == labels).mean())

    result = {"faces": float(len(labels)), "face only": accuracy(plain)}
    for name, (mirrored, zoom) in VIEWS.items():
        result[f"+ {name}"] = accuracy(plain + view_logits(networks, batch, mirrored, zoom))
    return result


def runs_and_face_sets(description: str) -> tuple[argparse.Namespace, list[torch.nn.Module], Analyzer]:
    """The command line shared with :mod:`benchmarks.ensemble_choice`: the arguments, the runs'
    float networks and the pipeline that cuts the faces (see :func:`face_sets`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with best.pt")
    parser.add_argument("--fer", type=Path, required=True, help="a folder-layout split, e.g. fer2013/publictest")
    parser.add_argument("--scenes", type=Path, action="append", default=[])
    parser.add_argument("--yale", type=Path, default=None)
    parser.add_argument("--photo-side", type=int, default=150)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    return args, [load_network(run)[0] for run in args.runs], Analyzer()


def main() -> None:
    args, networks, analyzer = runs_and_face_sets(__doc__.split("\n\n")[0])
    report = {
        name: score(analyzer, networks, crops)
        for name, crops in face_sets(analyzer, args.fer, args.scenes, args.yale, args.photo_side)
    }
    columns = ["face only", *(f"+ {name}" for name in VIEWS)]
    print("| faces | n | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    for name, row in report.items():
        print(f"| {name} | {int(row['faces'])} | " + " | ".join(f"{100 * row[c]:.2f} %" for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
