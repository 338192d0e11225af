"""Live streams with real faces: latency, flicker, bystanders, faces leaving and coming back.

    python -m benchmarks.stream_behaviour ../shared/datasets/yale-faces [--fps 10] [--json OUT.json]

Each Yale subject's photos are pasted into 640×480 frames as a person in front of a webcam would
be seen, and the frames go through :class:`~moodtape.vision.stream.StreamAnalyzer` as the web app
runs it (full detection every ``STREAM_DETECT_EVERY`` frames, timestamps at ``--fps``). What is
scored is what the page shows: the live mood's label (``group_mood`` of the frame's faces) and the
face tracks' ids. Scenes, per subject:

- ``steady``: the resting face for 20 s, swaying a few pixels, scaling ±3 %, turning ±3°, light
  ±6 %, sensor noise. Label changes per minute of the live mood and, for comparison, of the
  unsmoothed per-frame reading.
- ``latency``: 2 s neutral, then happy, at once or blended over 10 frames. Frames from the start
  of the change until the live mood shows the label the model gives the happy photo and keeps it
  (subjects whose happy photo the model does not read apart from their neutral one are left out).
- ``bystander``: the subject in front (1.3×) and, for 2 s, another subject (happy) further back at
  the side, at 0.8× and at 1.0× of the front face's scale, behind the front person (their photo never
  covers the front face). Share of frames whose live mood differs from the front person's own
  reading; and the same for 6 of those frames (two spells of 0.3 s) in which the front face is
  covered, so that no search finds it (``main_person_covered``).
- ``leave``: the face gone for 0.3, 0.8 or 1.5 s and back 40 px aside. Whether its track id is kept.
- ``still``: the same frame 9 times. The largest change of the face box's side from one frame to
  the next (the stream alternates full detection and searches near the last box), which
  ``vision.calibrate.CLEARLY_LARGER`` must stay above.
- ``edge``: the face slides out of the left edge until half of it is out. Frames in which it is found.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.recommender.mood import group_mood
from moodtape.types import Box, Face
from moodtape.vision.classifier import load_classifier
from moodtape.vision.pipeline import Analyzer
from moodtape.vision.stream import StreamAnalyzer
from moodtape.web.streams import STREAM_DETECT_EVERY

Gray = npt.NDArray[np.uint8]
WIDTH, HEIGHT = 640, 480
BACKGROUND = 100


def paste(
    frame: Gray, photo: Gray, centre: tuple[float, float], scale: float = 1.0, angle: float = 0.0, gain: float = 1.0
) -> Gray:
    """``photo`` resized, turned and lit as asked, pasted centred at ``centre`` (cut by the frame's edges)."""
    image = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if angle:
        h, w = image.shape
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        image = cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    image = np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    h, w = image.shape
    x0, y0 = round(centre[0] - w / 2), round(centre[1] - h / 2)
    x1, y1, x2, y2 = max(0, x0), max(0, y0), min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if x2 > x1 and y2 > y1:
        frame[y1:y2, x1:x2] = image[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0]
    return frame


def blank() -> Gray:
    return np.full((HEIGHT, WIDTH), BACKGROUND, np.uint8)


def steady_frames(photo: Gray, count: int, seed: int) -> Iterator[Gray]:
    """A resting face swaying slowly as a person sitting still does, with sensor noise."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        phase = i / 15
        frame = paste(
            blank(),
            photo,
            (320 + 4 * np.sin(phase), 240 + 3 * np.cos(phase * 1.3)),
            1.25 * (1 + 0.03 * np.sin(phase * 0.7)),
            3 * np.sin(phase * 0.5),
            1 + 0.06 * np.sin(phase * 0.3),
        )
        noise = rng.normal(0, 3, frame.shape)
        yield np.clip(frame + noise, 0, 255).astype(np.uint8)


def change_frames(neutral: Gray, happy: Gray, before: int, ramp: int, after: int) -> Iterator[Gray]:
    """Neutral for ``before`` frames, then blended into happy over ``ramp`` frames (0: at once)."""
    for i in range(before + ramp + after):
        share = 1.0 if ramp == 0 and i >= before else min(1.0, max(0.0, (i - before + 1) / max(ramp, 1)))
        blended = np.asarray(cv2.addWeighted(neutral, 1 - share, happy, share, 0), dtype=np.uint8)
        yield paste(blank(), blended, (320, 240), 1.25)


def run(analyzer: Analyzer, frames: Iterator[Gray], fps: float) -> list[list[Face]]:
    stream = StreamAnalyzer(analyzer, detect_every=STREAM_DETECT_EVERY)
    return [stream.process(frame, i / fps) for i, frame in enumerate(frames)]


def live_label(faces: list[Face]) -> str | None:
    """What the page shows as "Live mood": the group mood's label, or nothing without a face."""
    return group_mood(faces).emotion if faces else None


def changes_per_minute(labels: list[str | None], fps: float) -> float:
    shown = [label for label in labels if label is not None]
    flips = sum(a != b for a, b in itertools.pairwise(shown))
    return flips / (len(labels) / fps) * 60


def settle_frame(labels: list[str | None], target: str, start: int) -> int | None:
    """Frames after ``start`` until ``labels`` shows ``target`` for good (None: never)."""
    for i in range(start, len(labels)):
        if all(label == target for label in labels[i:]):
            return i - start
    return None


def steady(analyzer: Analyzer, photos: dict[str, Gray], subject: int, fps: float) -> dict[str, float]:
    frames = list(steady_frames(photos["normal"], round(20 * fps), subject))
    smoothed = [live_label(faces) for faces in run(analyzer, iter(frames), fps)]
    raw = [live_label(analyzer.analyze_gray(frame)) for frame in frames]
    return {"live": changes_per_minute(smoothed, fps), "unsmoothed": changes_per_minute(raw, fps)}


def latency(analyzer: Analyzer, photos: dict[str, Gray], fps: float) -> dict[str, int | None] | None:
    end = live_label(analyzer.analyze_gray(paste(blank(), photos["happy"], (320, 240), 1.25)))
    start = live_label(analyzer.analyze_gray(paste(blank(), photos["normal"], (320, 240), 1.25)))
    if end is None or end == start:
        return None
    before = round(2 * fps)
    result: dict[str, int | None] = {}
    for ramp in (0, 10):
        frames = list(change_frames(photos["normal"], photos["happy"], before, ramp, round(3 * fps)))
        result[f"ramp{ramp}_live"] = settle_frame(
            [live_label(f) for f in run(analyzer, iter(frames), fps)], end, before
        )
        result[f"ramp{ramp}_unsmoothed"] = settle_frame(
            [live_label(analyzer.analyze_gray(f)) for f in frames], end, before
        )
    return result


def main_label(faces: list[Face]) -> str | None:
    """The live mood's label, as the web app reads it: the first face's, the main person's."""
    return group_mood(faces[:1]).emotion if faces else None


def behind(frame: Gray, other: Gray, centre: tuple[float, float], scale: float, keep: Box | None) -> Gray:
    """``other`` pasted at ``centre`` behind the person in ``frame``: the pixels of ``keep`` (the
    front face's box, widened by a quarter of its side) stay the front face's, so the bystander is
    beside or behind them, never over their face."""
    front = frame.copy()
    frame = paste(frame, other, centre, scale)
    if keep is not None:
        margin = keep.w // 4
        x0, y0 = max(0, keep.x - margin), max(0, keep.y - margin)
        x1, y1 = keep.x + keep.w + margin, keep.y + keep.h + margin
        frame[y0:y1, x0:x1] = front[y0:y1, x0:x1]
    return frame


def covered(frame: Gray, keep: Box | None) -> Gray:
    """``frame`` with the front face's box filled with the background: a hand over the face, or a
    turn away, that no search finds."""
    if keep is not None:
        frame[keep.y : keep.y + keep.h, keep.x : keep.x + keep.w] = BACKGROUND
    return frame


#: Frames (of the bystander's 10–29) in which the front face is covered: two spells of 0.3 s.
COVERED = frozenset({15, 16, 17, 24, 25, 26})


def bystander(analyzer: Analyzer, front: Gray, other: Gray, scale: float, fps: float) -> dict[str, float]:
    """Share of the bystander's frames whose mood (of all faces; of the main person) is not the
    front person's own; and of the frames among them in which the front face is covered.

    The bystander (from frame 10 to 29) stands further back at the side, behind the front person:
    their photo never covers the front face (:func:`behind`)."""
    alone_frame = paste(blank(), front, (280, 250), 1.3)
    found = analyzer.analyze_gray(alone_frame)
    keep = found[0].box if found else None
    alone = run(analyzer, (alone_frame.copy() for _ in range(40)), fps)
    frames, hidden = [], []
    for i in range(40):
        frame = alone_frame.copy()
        if 10 <= i < 30:
            frame = behind(frame, other, (560, 170), scale * 1.3, keep)
        frames.append(frame)
        hidden.append(covered(frame.copy(), keep) if i in COVERED else frame)
    with_other, with_hidden = run(analyzer, iter(frames), fps), run(analyzer, iter(hidden), fps)

    def share(results: list[list[Face]], label: Any, indices: Any) -> float:
        return float(np.mean([label(alone[i]) != label(results[i]) for i in indices]))

    return {
        "all_faces": share(with_other, live_label, range(10, 30)),
        "main_person": share(with_other, main_label, range(10, 30)),
        "main_person_covered": share(with_hidden, main_label, sorted(COVERED)),
    }


def leave(analyzer: Analyzer, photo: Gray, gap_seconds: float, fps: float) -> bool:
    """Whether a face gone for ``gap_seconds`` and back 40 px aside keeps its track id."""
    frames = [paste(blank(), photo, (320, 240), 1.2) for _ in range(10)]
    frames += [blank() for _ in range(round(gap_seconds * fps))]
    frames += [paste(blank(), photo, (360, 250), 1.2) for _ in range(10)]
    results = run(analyzer, iter(frames), fps)
    return bool(results[0] and results[-1] and results[0][0].track_id == results[-1][0].track_id)


def still_box_change(analyzer: Analyzer, photo: Gray, fps: float) -> float:
    """The largest frame-to-frame change of a still face's box side, as a share of the smaller side."""
    frame = paste(blank(), photo, (320, 240), 1.25)
    sides = [faces[0].box.w for faces in run(analyzer, (frame for _ in range(9)), fps) if faces]
    return max((max(a, b) / min(a, b) - 1 for a, b in itertools.pairwise(sides)), default=0.0)


def edge(analyzer: Analyzer, photo: Gray, fps: float) -> float:
    """Share of frames in which a face sliding half out of the left edge is found."""
    frames = (paste(blank(), photo, (320 - i * 16, 240), 1.2) for i in range(20))
    return float(np.mean([bool(faces) for faces in run(analyzer, frames, fps)]))


def subjects(yale: Path) -> Iterator[tuple[int, dict[str, Gray]]]:
    """Each subject with both a resting and a happy photo, by number."""
    for number in range(1, 16):
        photos: dict[str, Gray] = {}
        for condition in ("normal", "happy"):
            read = cv2.imread(str(yale / "images" / f"subject{number:02d}.{condition}.png"), cv2.IMREAD_GRAYSCALE)
            if read is not None:
                photos[condition] = np.asarray(read, dtype=np.uint8)
        if len(photos) == 2:
            yield number, photos


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 2), "max": round(float(np.max(values)), 2)} if values else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("yale", type=Path)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    analyzer = Analyzer(classifier=load_classifier(threads=1))
    people = list(subjects(args.yale))
    report: dict[str, Any] = {"subjects": len(people), "fps": args.fps}
    measures: dict[str, list[Any]] = {}

    def add(key: str, value: Any) -> None:
        measures.setdefault(key, []).append(value)

    for index, (number, photos) in enumerate(people):
        other = people[(index + 1) % len(people)][1]["happy"]
        flicker = steady(analyzer, photos, number, args.fps)
        add("steady_live", flicker["live"])
        add("steady_unsmoothed", flicker["unsmoothed"])
        add("latency", latency(analyzer, photos, args.fps))
        for scale in (0.8, 1.0):
            add(f"bystander_{scale}", bystander(analyzer, photos["normal"], other, scale, args.fps))
        for gap in (0.3, 0.8, 1.5):
            add(f"leave_{gap}", leave(analyzer, photos["normal"], gap, args.fps))
        add("edge", edge(analyzer, photos["normal"], args.fps))
        add("still", still_box_change(analyzer, photos["normal"], args.fps))
        print(number, {key: values[-1] for key, values in measures.items()}, flush=True)
    report["label_changes_per_minute"] = {
        "live": summary(measures["steady_live"]),
        "unsmoothed": summary(measures["steady_unsmoothed"]),
    }
    changes = [m for m in measures["latency"] if m is not None]
    report["latency_frames"] = {"subjects": len(changes)}
    for key in ("ramp0_live", "ramp0_unsmoothed", "ramp10_live", "ramp10_unsmoothed"):
        settled = [m[key] for m in changes if m[key] is not None]
        report["latency_frames"][key] = {**summary(settled), "never": len(changes) - len(settled)}
    report["bystander_changes_live_mood"] = {
        f"{s}_{mood}": summary([m[mood] for m in measures[f"bystander_{s}"]])
        for s in (0.8, 1.0)
        for mood in ("all_faces", "main_person", "main_person_covered")
    }
    report["same_track_after_gap"] = {g: sum(measures[f"leave_{g}"]) for g in (0.3, 0.8, 1.5)}
    report["edge_found"] = summary(measures["edge"])
    report["still_box_side_change"] = summary(measures["still"])
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
