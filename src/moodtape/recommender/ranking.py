"""Ranking: fill each slot of the target path with the closest fitting candidate.

Slots are filled in playlist order. For each slot the score of a candidate is its distance to the
slot's target in the unit plane (see :func:`moodtape.recommender.features.item_point`), minus a bonus
for artists and genres the person liked in this session (a penalty for those they skipped or
disliked), plus a small seeded jitter that breaks near-ties, so a seed gives the same list every time and
another seed a different one among equally good items. Rules:

- no artist (or video channel) twice in one list;
- items disliked in this session never come back;
- items already recommended in this session come back only when nothing unseen is left
  (a large penalty, not a ban, so a long session does not end in an empty list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from moodtape.recommender.features import item_point
from moodtape.recommender.result import RecommendedItem
from moodtape.recommender.taste import Taste, TasteModel, item_features
from moodtape.types import Track, Video

Item = Track | Video

#: Distance bonus per point of artist / genre affinity (unit-plane units; its diagonal is 1.41).
ARTIST_AFFINITY_WEIGHT: Final[float] = 0.08
GENRE_AFFINITY_WEIGHT: Final[float] = 0.04
#: Affinity is clipped to ±this, so one enthusiastic session cannot drown the mood.
MAX_AFFINITY: Final[float] = 3.0
#: Added to the score of an item already recommended in the session: it loses to any unseen one.
SEEN_PENALTY: Final[float] = 10.0
#: Distance bonus per unit of sampled taste utility (about −1…1; a liked artist is near +1): a strong
#: taste wins between items up to about 0.25 apart in the unit plane, never across the plane.
#: Picked on ``benchmarks/taste_learning.py`` from 0.15, 0.25 and 0.35 (see docs/recommendations.md).
TASTE_WEIGHT: Final[float] = 0.25
#: Utility above which an item counts as chosen for a taste ("because you liked …").
BECAUSE_THRESHOLD: Final[float] = 0.3
#: Size of the seeded jitter, in unit-plane distance. The catalog's coordinates come from listeners'
#: tags and are noisy for single tracks, so items closer than this to each other are near-ties: the
#: seed picks among them, which makes "another list" (another seed) differ without leaving the path.
JITTER: Final[float] = 0.02


def artist_of(item: Item) -> str:
    """The artist (track) or channel (video), normalised for comparisons."""
    return item.artist.casefold().strip()


def genre_of(item: Item) -> str | None:
    """The genre (track) or category (video), normalised; None when unknown."""
    return item.genre.casefold().strip() if item.genre else None


@dataclass(frozen=True)
class Preferences:
    """What this session has taught us: items to avoid and, in ``taste``, what the person likes.

    ``taste`` (:class:`~moodtape.recommender.taste.Taste`) is the learned preference model. The
    ``artists`` and ``genres`` affinities (the v0.1 rule, keys normalised as :func:`artist_of` and
    :func:`genre_of` do, clipped to ±MAX) are used only when no taste is given.
    """

    artists: Mapping[str, float] = field(default_factory=dict)
    genres: Mapping[str, float] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()
    disliked: frozenset[str] = frozenset()
    taste: Taste | None = None


def _affinity(value: float) -> float:
    return max(-MAX_AFFINITY, min(MAX_AFFINITY, value))


def _unique(candidates: Iterable[Item], disliked: frozenset[str]) -> list[Item]:
    """Drop disliked items and duplicates (the same song from two sources: the first one wins)."""
    result: list[Item] = []
    keys: set[str] = set()
    for item in candidates:
        if item.key in keys or item.key in disliked:
            continue
        keys.add(item.key)
        result.append(item)
    return result


def rank(
    candidates: Sequence[Item],
    targets: Sequence[tuple[float, float]],
    preferences: Preferences | None = None,
    seed: int | None = None,
) -> list[RecommendedItem]:
    """Choose one item per target, in order; fewer when the candidates run out of distinct artists.

    The entries carry no reason yet: the engine explains the whole list once it is chosen.
    """
    prefs = preferences or Preferences()
    items = _unique(candidates, prefs.disliked)
    if not items or not targets:
        return []
    points = np.array([item_point(item) for item in items], dtype=np.float64)
    goals = np.array(targets, dtype=np.float64)
    distances = np.linalg.norm(points[None, :, :] - goals[:, None, :], axis=2)  # (slots, items)

    artists = [artist_of(item) for item in items]
    artist_bonus = np.array([_affinity(prefs.artists.get(a, 0.0)) for a in artists]) * ARTIST_AFFINITY_WEIGHT
    genre_bonus = np.array(
        [_affinity(prefs.genres.get(g, 0.0)) if g else 0.0 for g in (genre_of(item) for item in items)]
    )
    seen = np.array([item.key in prefs.seen for item in items])
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(0.0, JITTER, size=distances.shape)
    if prefs.taste is not None and prefs.taste.events:
        # One Thompson draw per list (after the jitter, so a list without taste is unchanged).
        utility = TasteModel(prefs.taste).sample([item_features(item) for item in items], rng)
        bonus = utility * TASTE_WEIGHT
    else:
        utility = np.zeros(len(items))
        bonus = artist_bonus + genre_bonus * GENRE_AFFINITY_WEIGHT
    base = -bonus + seen * SEEN_PENALTY
    scores = distances + base[None, :] + jitter
    because = _because(items, utility, artist_bonus, prefs)

    available = np.ones(len(items), dtype=bool)
    artist_ids = _artist_ids(artists)
    chosen: list[RecommendedItem] = []
    for slot in range(len(goals)):
        row = np.where(available, scores[slot], np.inf)
        best = int(np.argmin(row))
        if not np.isfinite(row[best]):
            break
        available &= artist_ids != artist_ids[best]
        chosen.append(
            RecommendedItem(
                item=items[best],
                position=slot,
                target=(float(goals[slot][0]), float(goals[slot][1])),
                distance=float(distances[slot, best]),
                repeat=bool(seen[best]),
                because=because[best],
            )
        )
    return chosen


def _artist_ids(artists: list[str]) -> np.ndarray:
    """Each artist name → a small integer, so "remove this artist" is one vectorised comparison."""
    index: dict[str, int] = {}
    return np.array([index.setdefault(a, len(index)) for a in artists], dtype=np.int64)


def _because(items: list[Item], utility: np.ndarray, artist_bonus: np.ndarray, prefs: Preferences) -> list[str | None]:
    """Per item, the liked title that explains its place: same artist first, then same genre."""
    if prefs.taste is None or not prefs.taste.events:
        return [item.artist if bonus > 0 else None for item, bonus in zip(items, artist_bonus, strict=True)]
    liked = prefs.taste.liked()
    result: list[str | None] = []
    for item, value in zip(items, utility, strict=True):
        found = None
        if value > BECAUSE_THRESHOLD and liked:
            features = item_features(item)
            for prefix in ("artist:", "genre:"):
                names = {name for name in features if name.startswith(prefix)}
                found = next((e.title for e in liked if e.title and names & set(e.features)), None)
                if found:
                    break
        result.append(found)
    return result
