"""Strategies: where a playlist should lead, as one target point per slot.

A strategy turns a mood into a *target path* through the unit plane of (valence, energy), both in
[0, 1] (see :mod:`moodtape.recommender.features`). All four start at the person's mood, following the
iso principle from music therapy: meet the listener where they are, then move.

- ``match``: stay at the mood for the whole list (mood-congruent listening).
- ``uplift``: hold near the mood for the first slots, then step toward positive valence
  (at least 0.8) with moderate energy (0.6).
- ``calm``: step toward low energy (0.2) and mid-to-high valence (0.6–0.8).
- ``energize``: step toward high energy (0.85), valence at least 0.6.

Defaults per emotion (:data:`DEFAULT_STRATEGY`), always overridable: sad → uplift (lift gently,
rather than dwell), angry / fear / disgust → calm (settle the arousal first), happy and surprise →
match (nothing to fix), neutral → uplift (a pleasant nudge).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from moodtape.errors import DataError
from moodtape.recommender.features import mood_to_unit
from moodtape.recommender.mood import nearest_emotion
from moodtape.types import Mood

Point = tuple[float, float]

STRATEGIES: Final[tuple[str, ...]] = ("match", "uplift", "calm", "energize")

DEFAULT_STRATEGY: Final[dict[str, str]] = {
    "angry": "calm",
    "disgust": "calm",
    "fear": "calm",
    "happy": "match",
    "sad": "uplift",
    "surprise": "match",
    "neutral": "uplift",
}

#: Share of the list that stays at the mood before a moving strategy starts to move.
HOLD_FRACTION: Final[float] = 0.15


@dataclass(frozen=True)
class Goal:
    """Where a moving strategy ends, given where it starts (unit plane)."""

    valence: float
    energy: float


def strategy_goal(strategy: str, start: Point) -> Goal:
    """The end point of ``strategy`` from ``start``; for ``match`` the start itself."""
    valence, energy = start
    if strategy == "match":
        return Goal(valence, energy)
    if strategy == "uplift":
        return Goal(max(valence, 0.8), 0.6)
    if strategy == "calm":
        return Goal(min(0.8, max(valence, 0.6)), min(energy, 0.2))
    if strategy == "energize":
        return Goal(max(valence, 0.6), max(energy, 0.85))
    raise unknown_strategy(strategy)


def unknown_strategy(name: str) -> DataError:
    return DataError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")


def resolve_strategy(name: str | None, mood: Mood) -> str:
    """``name`` checked and lower-cased, or the documented default for the mood's emotion."""
    if name is None or not name.strip():
        emotion = mood.emotion or nearest_emotion(mood.valence, mood.arousal)
        return DEFAULT_STRATEGY[emotion]
    key = name.strip().lower()
    if key not in STRATEGIES:
        raise unknown_strategy(name)
    return key


def progress(slot: int, n: int) -> float:
    """How far along the path slot ``slot`` of ``n`` is, in [0, 1]: flat, then a smooth S-curve.

    The first :data:`HOLD_FRACTION` of slots stay at 0 (meet the mood); the S-curve (smoothstep)
    avoids a sudden jump at either end. A one-item list sits halfway.
    """
    if n == 1:
        return 0.5
    t = slot / (n - 1)
    if t <= HOLD_FRACTION:
        return 0.0
    u = (t - HOLD_FRACTION) / (1.0 - HOLD_FRACTION)
    return u * u * (3.0 - 2.0 * u)


def target_path(mood: Mood, strategy: str, n: int) -> tuple[Point, ...]:
    """One ``(valence, energy)`` point in [0, 1]² per slot, from the mood toward the strategy's goal."""
    if n <= 0:
        raise DataError(f"a list needs at least one slot, got n={n}")
    start = mood_to_unit(mood.valence, mood.arousal)
    goal = strategy_goal(strategy, start)
    path = []
    for slot in range(n):
        p = progress(slot, n)
        path.append(((1.0 - p) * start[0] + p * goal.valence, (1.0 - p) * start[1] + p * goal.energy))
    return tuple(path)
