"""Offline evaluation of learning from feedback: share of liked items before and after 5, 10, 20 signals.

    .venv/bin/python benchmarks/taste_learning.py [--size 3000] [--seeds 8] [--write]

Five simulated listeners (``benchmarks/listeners.py``) use moodtape on the features catalog
(``benchmarks/feature_catalog.py``, imported as a user catalog). A session: lists of 5 tracks for
a random emotion (its default strategy); the listener rates every item (Like, Skip or Dislike) and
each rating is one signal. After 0, 5, 10 and 20 signals we measure the share of liked items in
fresh lists of 10, one per emotion (mean Like probability), for:

- **bandit** — the taste model (linear Thompson sampling, ``recommender/taste.py``), updated by
  every signal;
- **v0.1 affinities** — artist and genre affinity sums (the rule before the taste model);
- **no learning** — the same ranking with no feedback;
- **random** — 10 random tracks from the catalog (no mood, no taste): the chance level.

Every method avoids items already shown in the session, as the real service does. With
``--write`` the table replaces the part of ``docs/recommendations.md`` between the
``taste-learning`` markers and a plot goes to ``docs/images/taste-learning.png``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.doc_sections import replace_between
from benchmarks.feature_catalog import Row, feature_rows, write_csv
from benchmarks.listeners import Listener, listeners
from moodtape.emotions import EMOTIONS
from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.ranking import Preferences, artist_of, genre_of
from moodtape.recommender.taste import Taste
from moodtape.types import Track

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recommendations.md"
PLOT = ROOT / "docs" / "images" / "taste-learning.png"
CHECKPOINTS = (0, 5, 10, 20)
METHODS = ("bandit", "v0.1 affinities", "no learning", "random")
FEEDBACK_LIST = 5
EVAL_LIST = 10
#: v0.1's affinity change per action (artist, genre).
#: method → every evaluated item's distance to its slot's target (the price of taste in mood fit).
DISTANCES: dict[str, list[float]] = defaultdict(list)
V01_WEIGHTS = {"like": (1.0, 0.5), "skip": (-0.5, -0.25), "dislike": (-1.5, -0.75)}


class Session:
    """One listener's session under one method: what it learned and what it was shown."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.taste = Taste()
        self.artists: dict[str, float] = defaultdict(float)
        self.genres: dict[str, float] = defaultdict(float)
        self.seen: set[str] = set()
        self.disliked: set[str] = set()

    def preferences(self) -> Preferences:
        seen, disliked = frozenset(self.seen), frozenset(self.disliked)
        if self.method == "bandit":
            return Preferences(seen=seen, disliked=disliked, taste=self.taste)
        if self.method == "v0.1 affinities":
            return Preferences(dict(self.artists), dict(self.genres), seen, disliked)
        return Preferences(seen=seen)

    def learn(self, track: Track, action: str) -> None:
        if self.method == "bandit":
            self.taste = self.taste.learn_item(track, action)
        elif self.method == "v0.1 affinities":
            artist_weight, genre_weight = V01_WEIGHTS[action]
            self.artists[artist_of(track)] += artist_weight
            if genre_of(track):
                self.genres[str(genre_of(track))] += genre_weight
        if action == "dislike" and self.method != "no learning":
            self.disliked.add(track.key)


def run_session(
    engine: Recommender,
    tracks: tuple[Track, ...],
    rows: dict[str, Row],
    listener: Listener,
    method: str,
    seed: int,
) -> dict[int, float]:
    """Checkpoint → the share of liked items in fresh lists, for one listener, method and seed."""
    rng = np.random.default_rng(seed)
    session = Session(method)
    shares: dict[int, float] = {}
    signals = 0
    list_number = 0
    while True:
        if signals in CHECKPOINTS:
            shares[signals] = _evaluate(engine, tracks, rows, listener, session, rng, seed * 1000 + signals)
        if signals >= CHECKPOINTS[-1]:
            return shares
        emotion = EMOTIONS[int(rng.integers(len(EMOTIONS)))]
        list_number += 1
        if method == "random":
            shown = [tracks[int(i)] for i in rng.choice(len(tracks), size=FEEDBACK_LIST, replace=False)]
        else:
            result = engine.recommend(
                mood_from_emotion(emotion),
                n=FEEDBACK_LIST,
                seed=seed * 100 + list_number,
                preferences=session.preferences(),
            )
            shown = [entry.item for entry in result.items if isinstance(entry.item, Track)]
        for track in shown:
            session.seen.add(track.key)
            session.learn(track, listener.answer(rows[track.title], rng))
            signals += 1


def _evaluate(
    engine: Recommender,
    tracks: tuple[Track, ...],
    rows: dict[str, Row],
    listener: Listener,
    session: Session,
    rng: np.random.Generator,
    seed: int,
) -> float:
    probabilities: list[float] = []
    distances: list[float] = []
    for index, emotion in enumerate(EMOTIONS):
        if session.method == "random":
            chosen = [tracks[int(i)] for i in rng.choice(len(tracks), size=EVAL_LIST, replace=False)]
        else:
            result = engine.recommend(
                mood_from_emotion(emotion), n=EVAL_LIST, seed=seed + index, preferences=session.preferences()
            )
            chosen = [entry.item for entry in result.items if isinstance(entry.item, Track)]
            distances.extend(entry.distance for entry in result.items)
        probabilities.extend(listener.like_probability(rows[t.title]) for t in chosen)
    DISTANCES[session.method].extend(distances)
    return statistics.fmean(probabilities)


def measure(
    rows: list[Row], seeds: int, progress: Callable[[str], None] = lambda _: None
) -> dict[tuple[str, str], dict[int, float]]:
    """(listener, method) → checkpoint → mean share of liked items over ``seeds`` sessions."""
    by_title = {row.title: row for row in rows}
    results: dict[tuple[str, str], dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        catalog = Catalog.from_file(write_csv(rows, Path(folder) / "features.csv"))
        engine = Recommender([], catalog)
        tracks = catalog.all_tracks()
        for listener in listeners(rows):
            for method in METHODS:
                runs = [run_session(engine, tracks, by_title, listener, method, seed) for seed in range(seeds)]
                results[(listener.name, method)] = {k: statistics.fmean(run[k] for run in runs) for k in CHECKPOINTS}
                progress(
                    f"{listener.name:>20} · {method:<16} "
                    + " ".join(f"{results[(listener.name, method)][k]:.2f}" for k in CHECKPOINTS)
                )
        catalog.close()
    return results


def table(results: dict[tuple[str, str], dict[int, float]], rows: int, seeds: int, command: str) -> str:
    names = list(dict.fromkeys(name for name, _ in results))
    lines = [
        f"Measured with `{command}`: {len(names)} simulated listeners × {seeds} sessions on the features "
        f"catalog ({rows} tracks); share of liked items in fresh lists of {EVAL_LIST} (one per emotion) "
        "after 0, 5, 10 and 20 signals.",
        "",
        "| listener | method | 0 | 5 | 10 | 20 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (name, method), shares in results.items():
        cells = " | ".join(f"{shares[k]:.2f}" for k in CHECKPOINTS)
        lines.append(f"| {name} | {method} | {cells} |")
    lines += ["", "**Mean over the listeners:**", "", "| method | 0 | 5 | 10 | 20 |", "|---|---:|---:|---:|---:|"]
    for method in METHODS:
        means = [statistics.fmean(results[(name, method)][k] for name in names) for k in CHECKPOINTS]
        lines.append(f"| {method} | " + " | ".join(f"{m:.2f}" for m in means) + " |")
    fit = {m: statistics.fmean(DISTANCES[m]) for m in METHODS if DISTANCES[m]}
    lines += [
        "",
        "Mood fit, mean distance from each listed track to its slot's target (unit plane): "
        + ", ".join(f"{m} {d:.3f}" for m, d in fit.items())
        + ".",
    ]
    return "\n".join(lines)


def plot(results: dict[tuple[str, str], dict[int, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(name for name, _ in results))
    figure, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), sharey=True)
    styles = {"bandit": "-o", "v0.1 affinities": "-s", "no learning": "--", "random": ":"}
    for axis, name in zip(axes, names, strict=True):
        for method in METHODS:
            axis.plot(CHECKPOINTS, [results[(name, method)][k] for k in CHECKPOINTS], styles[method], label=method)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("signals given")
        axis.set_xticks(CHECKPOINTS)
    axes[0].set_ylabel("share of liked items")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = feature_rows(args.size)
    results = measure(rows, args.seeds, progress=lambda line: print(line, file=sys.stderr, flush=True))
    command = f".venv/bin/python benchmarks/taste_learning.py --size {args.size} --seeds {args.seeds} --write"
    text = table(results, len(rows), args.seeds, command)
    print(text)
    if args.write:
        DOC.write_text(
            replace_between(DOC.read_text(), "<!-- taste-learning:start -->", "<!-- taste-learning:end -->", text)
        )
        plot(results, PLOT)
        print(f"wrote {DOC} and {PLOT}")


if __name__ == "__main__":
    main()
