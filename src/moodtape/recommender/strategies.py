"""Strategies: where a playlist should lead, as one target point per slot.

A strategy turns a mood into a *target path* through the unit plane of (valence, energy), both in
[0, 1] (see :mod:`moodtape.recommender.features`). Every path starts at the person's mood; how it
leaves depends on what the strategy promises:

- ``match``: stay at the mood for the whole list (mood-congruent listening).
- ``uplift``: the iso principle from music therapy — meet the listener where they are, hold there
  for the first :data:`HOLD_FRACTION` of the list, then step gently (a smoothstep S-curve) toward
  positive valence (at least 0.8) with moderate energy (0.6). Slow on purpose: a sad person is
  lifted, not jolted.
- ``calm``: toward low energy (0.2) and mid-to-high valence (0.6–0.8), *quickly*: one slot at the
  mood, then an ease-out curve that reaches the goal by :data:`REACH_FRACTION` of the list and stays
  there. A person who presses "calm" wants calm soon, not after five mid-loud songs.
- ``energize``: toward high energy (0.85), valence at least 0.6, as quickly as calm.

Defaults per emotion (:data:`DEFAULT_STRATEGY`), always overridable: sad → uplift (lift gently,
rather than dwell), angry / fear / disgust → calm (settle the arousal first), happy and surprise →
match (nothing to fix), neutral → uplift (a pleasant nudge).
"""

from __future__ import annotations

import math
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

#: Share of an uplift list that stays at the mood before it starts to move.
HOLD_FRACTION: Final[float] = 0.15
#: Calm and energize reach their goal by this share of the list (after one slot at the mood).
REACH_FRACTION: Final[float] = 0.3
#: Strategies that promise a change soon: one slot at the mood, then fast.
FAST_STRATEGIES: Final[frozenset[str]] = frozenset({"calm", "energize"})


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


def progress(slot: int, n: int, strategy: str = "uplift") -> float:
    """How far along the path slot ``slot`` of ``n`` is, in [0, 1], for ``strategy``.

    Uplift (and match, whose path does not move): the first :data:`HOLD_FRACTION` of slots stay at 0
    (meet the mood), then a smoothstep S-curve avoids a sudden jump at either end. Calm and energize:
    slot 0 at the mood, then an ease-out ``1 − (1 − u)²`` that reaches 1 by :data:`REACH_FRACTION`
    of the list (spread over at least three slots when the list has them, so the first step is
    not a jump) and stays there. A one-item list sits
    halfway.
    """
    if n == 1:
        return 0.5
    if strategy in FAST_STRATEGIES:
        if slot == 0:
            return 0.0
        reach = max(1, min(3, n - 1), math.ceil(REACH_FRACTION * (n - 1)))
        u = min(1.0, slot / reach)
        return 1.0 - (1.0 - u) ** 2
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
        p = progress(slot, n, strategy)
        path.append(((1.0 - p) * start[0] + p * goal.valence, (1.0 - p) * start[1] + p * goal.energy))
    return tuple(path)
