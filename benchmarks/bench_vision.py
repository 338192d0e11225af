"""Vision benchmark: moodtape on the same scenes as the ``fer`` library, plus throughput and start-up.

    python -m benchmarks.bench_vision SCENES_DIR [--fer-venv DIR] [--json OUT.json]

SCENES_DIR comes from ``../shared/bench/make_scenes.py``. With ``--fer-venv`` (built by
``../shared/bench/fer-env.sh``) the script also runs ``fer_scenes.py`` for fer's Keras and TFLite
models in the same session, so the timings compare. Measures, on this machine:

* recall, false positives, correctly labelled faces and ms per frame (median, p95) on all scenes,
  and ms per frame on scenes with 1 face and with 4 faces;
* classifications per second of the emotion model alone (batches of 1 and 8 crops);
* stream mode: detection every N frames with tracking in between;
* cold start (import + first result) and peak memory, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.scenes import Scene, Tally, load_scenes
from moodtape.vision.faces import DetectorSettings, FaceDetector
from moodtape.vision.framing import Framing
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.vision.yunet import YuNetDetector

WARMUP = 3
COLD_START = """
import time, resource
t = time.perf_counter()
import moodtape
faces = moodtape.analyze({path!r})
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(elapsed, peak, len(faces))
"""


def score_frames(analyzer: Analyzer, scenes: list[Scene]) -> dict[str, Any]:
    """Per-frame detection + classification on every scene, scored like fer_scenes.py."""
    for scene in scenes[:WARMUP]:
        analyzer.analyze_gray(scene.gray)
    overall, by_count = Tally(), {1: Tally(), 4: Tally()}
    for scene in scenes:
        started = time.perf_counter()
        faces = analyzer.analyze_gray(scene.gray)
        elapsed = (time.perf_counter() - started) * 1000
        boxes, emotions = [list(f.box) for f in faces], [f.emotion for f in faces]
        for tally in (overall, by_count.get(len(scene.boxes))):
            if tally is not None:
                tally.add(boxes, emotions, scene)
                tally.milliseconds.append(elapsed)
    result = overall.summary()
    for count, tally in by_count.items():
        result[f"ms_median_{count}_face"] = tally.summary()["ms_median"]
        result[f"frames_with_{count}_face"] = len(tally.milliseconds)
    return result


def classification_rate(analyzer: Analyzer, scenes: list[Scene], batch: int, seconds: float = 3.0) -> float:
    """Faces classified per second by the model alone (crops prepared beforehand)."""
    crops = [Framing().crop(s.gray, box) for s in scenes[:40] for box in analyzer.detector.detect(s.gray)]
    groups = [crops[i : i + batch] for i in range(0, len(crops) - batch + 1, batch)]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for group in groups:
            analyzer.classifier.predict(group)
            done += len(group)
    return done / (time.perf_counter() - started)


def stream_mode(
    analyzer: Analyzer, scenes: list[Scene], detect_every: int, frames_per_scene: int = 10
) -> dict[str, Any]:
    """Each scene as a still 'video' of a few frames: ms per frame with scheduled detection."""
    tally = Tally()
    for scene in scenes:
        stream = StreamAnalyzer(analyzer, detect_every=detect_every)
        for frame in range(frames_per_scene):
            started = time.perf_counter()
            faces = stream.process(scene.gray, timestamp=frame / 10)
            tally.milliseconds.append((time.perf_counter() - started) * 1000)
        tally.add([list(f.box) for f in faces], [f.emotion for f in faces], scene)
    return {"detect_every": detect_every, **tally.summary()}


def cold_start(image: Path, runs: int = 3) -> dict[str, float]:
    """Import + first analysis in a fresh interpreter; best of ``runs`` (the OS file cache warm)."""
    results = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", COLD_START.format(path=str(image))], capture_output=True, text=True, check=True
        ).stdout.split()
        results.append((float(output[0]), float(output[1])))
    return {
        "cold_start_s": round(min(r[0] for r in results), 3),
        "peak_memory_mb": round(max(r[1] for r in results), 1),
    }


def run_fer(fer_venv: Path, scenes_dir: Path, tflite: bool) -> dict[str, Any]:
    script = Path(__file__).resolve().parents[2] / "shared" / "bench" / "fer_scenes.py"
    command = [str(fer_venv / "bin" / "python"), str(script), str(scenes_dir), *(["--tflite"] if tflite else [])]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    parsed: dict[str, Any] = json.loads(completed.stdout)
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenes", type=Path)
    parser.add_argument("--fer-venv", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--detector", default="haar", choices=["haar", "yunet", "both"])
    parser.add_argument("--sample", type=Path, default=Path(__file__).parents[1] / "docs" / "sample.jpg")
    args = parser.parse_args()

    scenes = load_scenes(args.scenes)
    analyzer = Analyzer(FaceDetector(DetectorSettings()))
    results: dict[str, Any] = {}
    if args.detector in ("yunet", "both"):
        results["moodtape_yunet"] = score_frames(Analyzer(YuNetDetector()), scenes)
    if args.detector in ("haar", "both"):
        results["moodtape"] = score_frames(analyzer, scenes)
    if args.detector != "haar":  # throughput, streams and start-up with YuNet, the default
        analyzer = Analyzer(YuNetDetector())
    results["classifications_per_s"] = {
        "batch_1": round(classification_rate(analyzer, scenes, 1)),
        "batch_8": round(classification_rate(analyzer, scenes, 8)),
    }
    results["stream"] = [stream_mode(analyzer, scenes[:100], n) for n in (1, 3, 5)]
    results["start"] = cold_start(args.sample)
    if args.fer_venv:
        results["fer_keras"] = run_fer(args.fer_venv, args.scenes, tflite=False)
        results["fer_tflite"] = run_fer(args.fer_venv, args.scenes, tflite=True)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
