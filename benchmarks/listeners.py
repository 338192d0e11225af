"""Simulated listeners for the offline evaluation of learning from feedback.

Each listener has a taste we define — a utility per track from its true features in
``benchmarks/feature_catalog.py`` — and answers a track like a person with a noisy sense of it:
utility plus Gaussian noise (σ 0.3); above 0.5 a Like, below −0.5 a Dislike, between a Skip. The
share of *liked* items in a list is measured as the mean probability of a Like, Φ((u − 0.5)/σ), so
the figures are not themselves noisy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from benchmarks.feature_catalog import Row

NOISE: Final[float] = 0.3
LIKE_ABOVE: Final[float] = 0.5
DISLIKE_BELOW: Final[float] = -0.5


@dataclass(frozen=True)
class Listener:
    """A name, and the utility of a track to them (about −1.5…1.5)."""

    name: str
    utility: Callable[[Row], float]

    def like_probability(self, row: Row) -> float:
        return 0.5 * (1.0 + math.erf((self.utility(row) - LIKE_ABOVE) / (NOISE * math.sqrt(2.0))))

    def answer(self, row: Row, rng: np.random.Generator) -> str:
        """``like``, ``skip`` or ``dislike``, as this listener would press it."""
        felt = self.utility(row) + NOISE * float(rng.standard_normal())
        if felt > LIKE_ABOVE:
            return "like"
        return "dislike" if felt < DISLIKE_BELOW else "skip"


def _favourites(rows: list[Row], count: int, seed: int) -> set[str]:
    artists = sorted({row.artist for row in rows})
    rng = np.random.default_rng(seed)
    return {str(a) for a in rng.choice(artists, size=min(count, len(artists)), replace=False)}


def listeners(rows: list[Row]) -> list[Listener]:
    """The five listeners of the benchmark."""
    favourites = _favourites(rows, 40, seed=11)
    return [
        Listener("loves acoustic", lambda r: 2.4 * (r.acousticness - 0.5)),
        Listener(
            "hates metal", lambda r: -1.5 if r.genre == "metal" else (0.8 if r.genre in ("rock", "electronic") else 0.1)
        ),
        Listener("80s fan", lambda r: 1.2 if 1980 <= r.year < 1990 else -0.2),
        Listener("loyal to 40 artists", lambda r: 1.3 if r.artist in favourites else -0.1),
        Listener(
            "jazz and soul", lambda r: 1.2 if r.genre in ("jazz", "soul") else (-0.8 if r.genre == "hip hop" else 0.0)
        ),
    ]
