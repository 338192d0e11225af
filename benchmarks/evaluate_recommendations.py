"""Offline evaluation: does each strategy do what it says, on the built-in catalog?

    .venv/bin/python benchmarks/evaluate_recommendations.py [--seeds 10] [--n 20] [--write]

For every emotion × strategy it makes ``--seeds`` lists of ``--n`` tracks (seeds 0…) and measures:

- ``dist``: mean distance of each item's point (valence, effective energy) to its slot's target,
  in the unit plane (its diagonal is 1.41); ``random``: the same for random lists from the whole
  catalog, the chance level;
- ``Δv`` and ``Δe``: how far the list moves, mean of its last quarter minus mean of its first
  quarter, next to how far the target path moves (``path Δv``, ``path Δe``);
- ``artists`` and ``genres``: distinct artists and (known) genres per list;
- ``to goal``: the first slot from which every item lies within 0.1 of the strategy's goal (the
  list's last target), averaged over the lists: how soon a list gets where it promised.

Then coverage (the share of the catalog that appears in any list), the same for videos, and the
acousticness of calm versus energize lists where the catalog knows it. With ``--write`` the tables
replace the part of ``docs/recommendations.md`` between the evaluation markers, and the uplift plot
is written to ``docs/images/uplift-path.png``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moodtape.emotions import EMOTIONS
from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.features import item_point
from moodtape.recommender.mood import EMOTION_POINTS, mood_from_emotion
from moodtape.recommender.ranking import Item, artist_of, genre_of
from moodtape.recommender.result import Recommendation
from moodtape.recommender.strategies import STRATEGIES
from moodtape.types import Track

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recommendations.md"
PLOT = ROOT / "docs" / "images" / "uplift-path.png"
START, END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"


@dataclass
class Row:
    emotion: str
    strategy: str
    distance: float
    random_distance: float
    dv: float
    de: float
    path_dv: float
    path_de: float
    artists: float
    genres: float
    reach: float


def quarter_means(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(Δvalence, Δenergy): mean of the last quarter minus mean of the first quarter."""
    q = max(1, len(points) // 4)
    head, tail = points[:q], points[-q:]
    return (
        statistics.fmean(p[0] for p in tail) - statistics.fmean(p[0] for p in head),
        statistics.fmean(p[1] for p in tail) - statistics.fmean(p[1] for p in head),
    )


#: "In the goal region": within this distance of the strategy's goal (unit plane).
GOAL_RADIUS = 0.1


def slots_to_goal(points: Sequence[tuple[float, float]], goal: tuple[float, float]) -> int:
    """The first slot from which every item lies within :data:`GOAL_RADIUS` of ``goal`` (len if never)."""
    reach = len(points)
    for index in range(len(points) - 1, -1, -1):
        if math.dist(points[index], goal) > GOAL_RADIUS:
            break
        reach = index
    return reach


def all_items(catalog: Catalog, kind: str) -> list[Item]:
    """Every item of the catalog, for the chance level and coverage."""
    return list(catalog.all_tracks() if kind == "tracks" else catalog.all_videos())


def random_distance(pool: Sequence[Item], targets: Sequence[tuple[float, float]], rng: random.Random) -> float:
    chosen = rng.sample(list(pool), len(targets))
    return statistics.fmean(math.dist(item_point(i), t) for i, t in zip(chosen, targets, strict=True))


def evaluate(engine: Recommender, pool: list[Item], kind: str, n: int, seeds: int) -> tuple[list[Row], set[str]]:
    rows: list[Row] = []
    used: set[str] = set()
    rng = random.Random(0)
    for emotion in EMOTIONS:
        for strategy in STRATEGIES:
            lists = [engine.recommend(mood_from_emotion(emotion), strategy, kind, n, seed) for seed in range(seeds)]
            rows.append(_row(emotion, strategy, lists, pool, rng))
            used.update(entry.item.key for result in lists for entry in result.items)
    return rows, used


def _row(emotion: str, strategy: str, lists: list[Recommendation], pool: list[Item], rng: random.Random) -> Row:
    distances: list[float] = []
    moves: list[tuple[float, float]] = []
    genres: list[int] = []
    artists: list[int] = []
    randoms: list[float] = []
    reaches: list[int] = []
    for result in lists:
        points = [item_point(entry.item) for entry in result.items]
        reaches.append(slots_to_goal(points, result.targets[-1]))
        distances.extend(entry.distance for entry in result.items)
        moves.append(quarter_means(points))
        artists.append(len({artist_of(entry.item) for entry in result.items}))
        genres.append(len({g for entry in result.items if (g := genre_of(entry.item))}))
        randoms.append(random_distance(pool, result.targets, rng))
    path_dv, path_de = quarter_means(lists[0].targets)
    return Row(
        emotion,
        strategy,
        statistics.fmean(distances),
        statistics.fmean(randoms),
        statistics.fmean(m[0] for m in moves),
        statistics.fmean(m[1] for m in moves),
        path_dv,
        path_de,
        statistics.fmean(artists),
        statistics.fmean(genres),
        statistics.fmean(reaches),
    )


def table(rows: list[Row], n: int) -> str:
    lines = [
        "| emotion | strategy | dist | random | Δv list | Δv path | Δe list | Δe path | artists | genres | to goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.emotion} | {r.strategy} | {r.distance:.3f} | {r.random_distance:.3f} | {r.dv:+.2f} | "
            f"{r.path_dv:+.2f} | {r.de:+.2f} | {r.path_de:+.2f} | {r.artists:.1f}/{n} | {r.genres:.1f} | "
            f"{r.reach:.1f} |"
        )
    return "\n".join(lines)


def strategy_summary(rows: list[Row]) -> str:
    lines = [
        "| strategy | mean dist | chance | mean Δv list (path) | mean Δe list (path) | slots to goal |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for strategy in STRATEGIES:
        own = [r for r in rows if r.strategy == strategy]
        lines.append(
            f"| {strategy} | {statistics.fmean(r.distance for r in own):.3f} | "
            f"{statistics.fmean(r.random_distance for r in own):.3f} | "
            f"{statistics.fmean(r.dv for r in own):+.2f} ({statistics.fmean(r.path_dv for r in own):+.2f}) | "
            f"{statistics.fmean(r.de for r in own):+.2f} ({statistics.fmean(r.path_de for r in own):+.2f}) | "
            f"{statistics.fmean(r.reach for r in own):.1f} |"
        )
    return "\n".join(lines)


def acoustic_check(engine: Recommender, n: int, seeds: int) -> str:
    """Mean acousticness (where known) of the last half of calm vs energize lists, from angry and sad."""
    lines = ["| from | strategy | acousticness (end of list) | items with the feature |", "|---|---|---:|---:|"]
    for emotion in ("angry", "sad"):
        for strategy in ("calm", "energize"):
            values = []
            for seed in range(seeds):
                result = engine.recommend(mood_from_emotion(emotion), strategy, "tracks", n, seed)
                for entry in result.items[n // 2 :]:
                    if isinstance(entry.item, Track) and entry.item.acousticness is not None:
                        values.append(entry.item.acousticness)
            mean = f"{statistics.fmean(values):.2f}" if values else "–"
            lines.append(f"| {emotion} | {strategy} | {mean} | {len(values)} |")
    return "\n".join(lines)


def plot_uplift(engine: Recommender, pool: list[Item], n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = engine.recommend(mood_from_emotion("sad"), "uplift", "tracks", n, seed=0)
    fig, ax = plt.subplots(figsize=(7, 6.2), dpi=110)
    xs, ys = zip(*(item_point(item) for item in pool), strict=True)
    ax.scatter(xs, ys, s=4, c="#c9c9c9", label=f"catalog ({len(pool)} tracks)", zorder=1)
    for emotion, (v, a) in EMOTION_POINTS.items():
        ax.scatter((v + 1) / 2, (a + 1) / 2, marker="s", s=40, c="#555555", zorder=3)
        offset = (-28, -14) if emotion == "sad" else (5, 5)  # keep the label off the path's first points
        ax.annotate(emotion, ((v + 1) / 2, (a + 1) / 2), xytext=offset, textcoords="offset points", fontsize=9)
    tx, ty = zip(*result.targets, strict=True)
    ax.plot(tx, ty, "-", c="#1f77b4", lw=2, label="target path (uplift from sad)", zorder=2)
    points = [item_point(entry.item) for entry in result.items]
    for (px, py), (gx, gy) in zip(points, result.targets, strict=True):
        ax.plot([px, gx], [py, gy], c="#ff7f0e", lw=0.7, alpha=0.7, zorder=2)
    ix, iy = zip(*points, strict=True)
    ax.scatter(ix, iy, s=30, c=range(len(points)), cmap="viridis", zorder=4, label="chosen tracks (dark → light)")
    for number, (px, py) in enumerate(points, start=1):
        if number in (1, len(points)) or number % 5 == 0:
            ax.annotate(str(number), (px, py), xytext=(4, -10), textcoords="offset points", fontsize=8)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="valence", ylabel="energy (effective)")
    ax.set_title(f"Uplift from sad: {n} tracks from the built-in catalog (seed 0)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_aspect("equal")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update docs/recommendations.md and the plot")
    args = parser.parse_args()

    catalog = Catalog.builtin()
    engine = Recommender([], catalog)
    tracks, videos = all_items(catalog, "tracks"), all_items(catalog, "videos")
    track_rows, used_tracks = evaluate(engine, tracks, "tracks", args.n, args.seeds)
    video_rows, used_videos = evaluate(engine, videos, "videos", min(args.n, 10), args.seeds)
    command = f"`.venv/bin/python benchmarks/evaluate_recommendations.py --seeds {args.seeds} --n {args.n} --write`"
    report = "\n\n".join(
        [
            f"Measured with {command} on the built-in catalog ({len(tracks)} tracks, {len(videos)} videos); "
            f"{args.seeds} seeds per cell, lists of {args.n} tracks and {min(args.n, 10)} videos.",
            "**Per strategy, tracks** (means over all 7 emotions):",
            strategy_summary(track_rows),
            "**Per strategy, videos:**",
            strategy_summary(video_rows),
            f"**Coverage:** {len(used_tracks)} of {len(tracks)} tracks ({len(used_tracks) / len(tracks):.0%}) and "
            f"{len(used_videos)} of {len(videos)} videos ({len(used_videos) / len(videos):.0%}) appear in at least "
            "one list above.",
            "**Calm lists favour acoustic tracks** (the curated tracks carry acousticness):",
            acoustic_check(engine, args.n, args.seeds),
            "**Every emotion × strategy, tracks:**",
            table(track_rows, args.n),
        ]
    )
    print(report)
    if args.write:
        plot_uplift(engine, tracks, args.n, PLOT)
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{START}\n{report}\n{END}{tail}", encoding="utf-8")
        print(f"\nwrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
