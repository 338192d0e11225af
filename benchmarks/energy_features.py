"""What loudness, tempo and acousticness add to calm and energize lists, measured on an imported catalog.

    .venv/bin/python benchmarks/energy_features.py [--size 3000] [--seeds 5] [--n 20] [--write]

Builds the features catalog of ``benchmarks/feature_catalog.py`` (every track has loudness, tempo,
acousticness and danceability), imports it as a user catalog, and makes calm and energize lists from
every emotion, twice: ranked by the blended effective energy (``features.ENERGY_WEIGHTS``), and by
valence and energy alone (the same tracks with the other features removed). For each it reports
the mean loudness (dB), tempo (BPM) and acousticness of the list after its first slot (where calm
and energize have reached or nearly reached their goal), and the tracks' hidden felt arousal.

With ``--write`` the table replaces the part of ``docs/recommendations.md`` between the
``energy-features`` markers and a bar plot goes to ``docs/images/energy-features.png``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.doc_sections import replace_between
from benchmarks.feature_catalog import Row, feature_rows, write_csv
from moodtape.emotions import EMOTIONS
from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "recommendations.md"
PLOT = ROOT / "docs" / "images" / "energy-features.png"
MEASURES = ("loudness_db", "tempo_bpm", "acousticness", "felt_arousal")
STRATEGIES = ("calm", "energize")
RANKINGS = ("blend", "energy only")


@dataclass(frozen=True)
class ListMeans:
    """Mean features of the tracks chosen (after slot 0), over all lists of one strategy and ranking."""

    loudness_db: float
    tempo_bpm: float
    acousticness: float
    felt_arousal: float
    lists: int


def measure(rows: list[Row], seeds: int = 5, n: int = 20) -> dict[tuple[str, str], ListMeans]:
    """(strategy, ranking) → the mean features of its lists, over every emotion and ``seeds`` seeds."""
    by_title = {row.title: row for row in rows}
    with tempfile.TemporaryDirectory() as folder:
        blended = Catalog.from_file(write_csv(rows, Path(folder) / "features.csv"))
        tracks = blended.all_tracks()
        plain = Catalog.from_items(
            [replace(t, loudness=None, tempo=None, acousticness=None, danceability=None) for t in tracks]
        )
        engines = {"blend": Recommender([], blended), "energy only": Recommender([], plain)}
        results: dict[tuple[str, str], ListMeans] = {}
        for strategy in STRATEGIES:
            for ranking, engine in engines.items():
                chosen: list[Row] = []
                lists = 0
                for emotion in EMOTIONS:
                    for seed in range(seeds):
                        result = engine.recommend(mood_from_emotion(emotion), strategy=strategy, n=n, seed=seed)
                        chosen.extend(by_title[entry.item.title] for entry in result.items[1:])
                        lists += 1
                results[(strategy, ranking)] = ListMeans(
                    *(statistics.fmean(getattr(row, name) for row in chosen) for name in MEASURES), lists=lists
                )
        blended.close()
        plain.close()
    return results


def table(results: dict[tuple[str, str], ListMeans], rows: int, seeds: int, n: int, command: str) -> str:
    lines = [
        f"Measured with `{command}` on the generated features catalog ({rows} tracks, imported as a user "
        f"catalog); {len(EMOTIONS)} emotions × {seeds} seeds, lists of {n}, every slot after the first.",
        "",
        "| strategy | ranked by | loudness (dB) | tempo (BPM) | acousticness | felt arousal |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (strategy, ranking), m in results.items():
        lines.append(
            f"| {strategy} | {ranking} | {m.loudness_db:.1f} | {m.tempo_bpm:.0f} | {m.acousticness:.2f} | "
            f"{m.felt_arousal:.2f} |"
        )
    lines.append("")
    lines.append("**What the blend adds** (blend minus energy only):")
    lines.append("")
    lines.append("| strategy | Δ loudness (dB) | Δ tempo (BPM) | Δ acousticness | Δ felt arousal |")
    lines.append("|---|---:|---:|---:|---:|")
    for strategy in STRATEGIES:
        b, p = results[(strategy, "blend")], results[(strategy, "energy only")]
        lines.append(
            f"| {strategy} | {b.loudness_db - p.loudness_db:+.1f} | {b.tempo_bpm - p.tempo_bpm:+.0f} | "
            f"{b.acousticness - p.acousticness:+.2f} | {b.felt_arousal - p.felt_arousal:+.2f} |"
        )
    return "\n".join(lines)


def plot(results: dict[tuple[str, str], ListMeans], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [("loudness_db", "loudness (dB)"), ("tempo_bpm", "tempo (BPM)"), ("acousticness", "acousticness")]
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    colours = {"blend": "#2b6cb0", "energy only": "#a0aec0"}
    for axis, (name, title) in zip(axes, labels, strict=True):
        for offset, ranking in ((-0.2, "energy only"), (0.2, "blend")):
            values = [getattr(results[(s, ranking)], name) for s in STRATEGIES]
            axis.bar(
                [i + offset for i in range(len(STRATEGIES))], values, width=0.4, label=ranking, color=colours[ranking]
            )
        axis.set_xticks(range(len(STRATEGIES)), STRATEGIES)
        axis.set_title(title)
        if name == "loudness_db":
            axis.set_ylim(-25, -3)
        elif name == "tempo_bpm":
            axis.set_ylim(60, 180)
        else:
            axis.set_ylim(0, 1)
    axes[0].legend(loc="upper left", fontsize=8)
    figure.suptitle("Calm and energize lists: blended effective energy vs valence and energy alone")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = feature_rows(args.size)
    results = measure(rows, seeds=args.seeds, n=args.n)
    command = (
        f".venv/bin/python benchmarks/energy_features.py --size {args.size} --seeds {args.seeds} --n {args.n} --write"
    )
    text = table(results, len(rows), args.seeds, args.n, command)
    print(text)
    if args.write:
        DOC.write_text(
            replace_between(DOC.read_text(), "<!-- energy-features:start -->", "<!-- energy-features:end -->", text)
        )
        plot(results, PLOT)
        print(f"wrote {DOC} and {PLOT}")


if __name__ == "__main__":
    main()
