"""Upside-down photos whose faces YuNet finds as they are, and the check that turns them.

    python -m benchmarks.upside_down ../shared/datasets/yale-faces [--scenes SCENES] [--json OUT.json]

Each labelled Yale photo (134, as in :mod:`benchmarks.yale_photos`) as it is, turned by 90°, 180°
and 270° (exactly), turned by ±20° on a larger canvas, and cropped close (0.8 of the face's box,
enlarged to 960 px) as it is and turned by 180°, encoded as PNG and given to ``Analyzer.analyze``
as an upload is (a photo with no face counts as wrong). ``turned`` counts the photos whose largest
face the pipeline took from a quarter or half turn (:mod:`moodtape.vision.upside_down` or the
quarter-turn search): on the upright and rolled sets every such turn is a false one. ``--scenes``
(a folder of ``../shared/bench/make_scenes.py`` JPEGs: FER2013 faces pasted into 640 × 480 scenes) counts the scene
faces turned, in the same turns; scikit-image's astronaut is checked in each turn.

``check_ms`` is the CPU time (``time.process_time``, one thread) of the check alone,
:func:`moodtape.vision.upside_down.righted` on the faces found as they are, per photo.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.yale_photos import filled, photos, png, rolled
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.upside_down import righted
from moodtape.vision.yunet import YuNetDetector

Gray = npt.NDArray[np.uint8]
Turn = Callable[[Gray], Gray]
QUARTER_TURNS = (90.0, 180.0, 270.0)
TURNS: dict[str, Turn] = {
    "as it is": lambda g: g,
    "90": lambda g: np.ascontiguousarray(np.rot90(g, 1)),
    "180": lambda g: np.ascontiguousarray(g[::-1, ::-1]),
    "270": lambda g: np.ascontiguousarray(np.rot90(g, 3)),
    "+20": lambda g: rolled(g, 20),
    "-20": lambda g: rolled(g, -20),
}


def yale_sets(analyzer: Analyzer, yale: Path) -> Iterator[tuple[str, list[tuple[str, Gray]]]]:
    """(name, [(label, photo)]) for Yale's photos in each turn and cropped close."""
    every = [(label, gray) for _, label, gray in photos(yale)]
    for name, turn in TURNS.items():
        yield f"yale {name}", [(label, turn(gray)) for label, gray in every]
    close = [(label, filled(gray, analyzer.analyze_gray(gray)[0].box, 0.8)) for label, gray in every]
    yield "yale close-up as it is", close
    yield "yale close-up 180", [(label, TURNS["180"](gray)) for label, gray in close]


def check_ms(detector: YuNetDetector, gray: Gray) -> tuple[float, int]:
    """CPU ms of the upside-down check on ``gray``'s faces, and how many faces it turned."""
    found = detector.detect_landmarks(gray)
    started = time.process_time()
    faces = righted(detector, gray, found)
    spent = 1000 * (time.process_time() - started)
    return spent, sum(face.turned in QUARTER_TURNS for _, face in faces)


def score_labelled(analyzer: Analyzer, items: list[tuple[str, Gray]]) -> dict[str, float]:
    """Found, right and turned shares of labelled photos through the whole pipeline; check ms."""
    assert isinstance(analyzer.detector, YuNetDetector)
    found = right = turned = 0
    spent = 0.0
    for label, gray in items:
        faces = analyzer.analyze(png(gray))
        found += bool(faces)
        right += bool(faces) and faces[0].emotion == label
        located = analyzer.locate(gray)
        turned += bool(located) and located[0][1] is not None and located[0][1].turned in QUARTER_TURNS
        spent += check_ms(analyzer.detector, gray)[0]
    n = len(items)
    return {
        "photos": n,
        "found": round(found / n, 3),
        "right": round(right / n, 3),
        "turned": turned,
        "check_ms": round(spent / n, 2),
    }


def score_scenes(detector: YuNetDetector, scenes: Path) -> dict[str, dict[str, float]]:
    """Faces found as they are and faces the check turned, in the scenes in each turn."""
    report: dict[str, dict[str, float]] = {}
    files = sorted(scenes.glob("*.jpg"))
    for name, turn in TURNS.items():
        faces = turned = 0
        spent = 0.0
        for path in files:
            gray = turn(np.asarray(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), np.uint8))
            faces += len(detector.detect_landmarks(gray))
            ms, flipped = check_ms(detector, gray)
            spent += ms
            turned += flipped
        report[f"scenes {name}"] = {
            "photos": len(files),
            "faces": faces,
            "turned": turned,
            "check_ms": round(spent / len(files), 2),
        }
    return report


def astronaut(detector: YuNetDetector) -> dict[str, list[float]]:
    """The turn each face of scikit-image's astronaut is taken from, upright and turned by 180°."""
    from skimage import data

    gray = np.asarray(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), np.uint8)
    return {
        name: [face.turned for _, face in detector.detect_landmarks(turn(gray), turned=True)]
        for name, turn in TURNS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--scenes", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    assert isinstance(analyzer.detector, YuNetDetector)
    report: dict[str, Any] = {name: score_labelled(analyzer, items) for name, items in yale_sets(analyzer, args.yale)}
    if args.scenes:
        report |= score_scenes(analyzer.detector, args.scenes)
    report["astronaut"] = astronaut(analyzer.detector)
    for key, value in report.items():
        print(key, json.dumps(value), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
