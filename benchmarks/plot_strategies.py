"""Plot every strategy's target path from every emotion, and how fast each moves along it.

    .venv/bin/python benchmarks/plot_strategies.py [--n 12]

Writes ``docs/images/strategy-paths.png``: one panel per strategy in the unit plane (valence,
energy), a path per emotion with a dot per slot (the square marks slot 0, the mood), and a last
panel with the share of the way travelled per slot (uplift's slow S-curve against calm and
energize's one held slot and fast approach).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moodtape.emotions import EMOTIONS
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.strategies import STRATEGIES, progress, target_path

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "strategy-paths.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=12)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(STRATEGIES) + 1, figsize=(17, 3.8))
    colours = plt.get_cmap("tab10")
    for axis, strategy in zip(axes, STRATEGIES, strict=False):
        for index, emotion in enumerate(EMOTIONS):
            path = target_path(mood_from_emotion(emotion), strategy, args.n)
            xs, ys = [p[0] for p in path], [p[1] for p in path]
            axis.plot(xs, ys, "-o", markersize=3, color=colours(index), label=emotion, alpha=0.85)
            axis.plot(xs[0], ys[0], "s", markersize=7, color=colours(index))
        axis.set_title(f"{strategy} ({args.n} slots)")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.set_xlabel("valence")
        axis.set_aspect("equal")
    axes[0].set_ylabel("energy")
    axes[0].legend(fontsize=7, loc="lower right")
    last = axes[-1]
    slots = list(range(args.n))
    for strategy, style in (("uplift", "-o"), ("calm", "-s"), ("energize", "--^")):
        last.plot(slots, [progress(s, args.n, strategy) for s in slots], style, markersize=4, label=strategy)
    last.set_title("share of the way to the goal")
    last.set_xlabel("slot")
    last.set_ylim(-0.05, 1.05)
    last.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(OUT, dpi=100)
    plt.close(figure)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
