"""Turning points of the (valence, energy) plane into words a text search understands.

Spotify and YouTube search by text only (Spotify's audio features and recommendations are closed
to new apps), so the target path is cut into a 3 × 3 grid of mood regions, each with a few plain
search words. A path that crosses regions (an uplift from sad to happy) becomes one search per
region, and each item found is given the mean target point of the region it was searched for.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_LOW = 1 / 3
_HIGH = 2 / 3

# (valence band, energy band) → search words. Bands: 0 low, 1 middle, 2 high.
_WORDS: dict[tuple[int, int], tuple[str, ...]] = {
    (0, 0): ("sad", "slow"),
    (0, 1): ("melancholy",),
    (0, 2): ("angry", "intense"),
    (1, 0): ("calm", "ambient"),
    (1, 1): ("chill",),
    (1, 2): ("energetic",),
    (2, 0): ("peaceful", "acoustic"),
    (2, 1): ("feel good",),
    (2, 2): ("happy", "upbeat"),
}


def _band(value: float) -> int:
    return 0 if value < _LOW else 2 if value > _HIGH else 1


def clamp_point(point: tuple[float, float]) -> tuple[float, float]:
    """``point`` with both coordinates clamped into [0, 1]."""
    valence, energy = point
    return (min(1.0, max(0.0, valence)), min(1.0, max(0.0, energy)))


@dataclass(frozen=True)
class Region:
    """One cell of the 3 × 3 grid: its bands, its search words and where the path meets it.

    Attributes:
        bands: (valence band, energy band), each 0 low, 1 middle, 2 high.
        point: the mean of the path's targets that fall in this cell, in [0, 1]².
        count: how many targets fall in it (its share of the list).
    """

    bands: tuple[int, int]
    point: tuple[float, float]
    count: int

    @property
    def words(self) -> tuple[str, ...]:
        return _WORDS[self.bands]

    @property
    def upbeat(self) -> bool:
        """High energy and not low valence: the place of charts and party music."""
        return self.bands[1] == 2 and self.bands[0] >= 1


def region_of(point: tuple[float, float]) -> tuple[int, int]:
    """The (valence band, energy band) cell holding ``point``."""
    valence, energy = clamp_point(point)
    return (_band(valence), _band(energy))


def regions(targets: Sequence[tuple[float, float]], max_regions: int = 3) -> list[Region]:
    """The cells the path crosses, in path order, keeping the ``max_regions`` it spends most slots in."""
    members: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for target in targets:
        members.setdefault(region_of(target), []).append(clamp_point(target))
    order = list(members)  # dicts keep first-appearance order
    kept = sorted(order, key=lambda cell: (-len(members[cell]), order.index(cell)))[:max_regions]
    result = []
    for cell in order:
        if cell in kept:
            points = members[cell]
            mean = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
            result.append(Region(bands=cell, point=mean, count=len(points)))
    return result


def mean_point(targets: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The mean of ``targets``, clamped into [0, 1]²."""
    points = [clamp_point(t) for t in targets]
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def interleave(lists: Sequence[Sequence[T]], key: Callable[[T], Hashable]) -> list[T]:
    """Round-robin over one result list per search, dropping items whose ``key`` was already taken.

    A list cut to the query's limit then still holds every region of the path (and every kind of
    video), not just the first search's results.
    """
    merged: list[T] = []
    seen: set[Hashable] = set()
    for rank in range(max((len(items) for items in lists), default=0)):
        for items in lists:
            if rank < len(items) and key(items[rank]) not in seen:
                seen.add(key(items[rank]))
                merged.append(items[rank])
    return merged


def targets_in(targets: Sequence[tuple[float, float]], bands: tuple[int, int]) -> tuple[tuple[float, float], ...]:
    """The targets of ``targets`` that fall in the cell ``bands``: the slots a region's search is for."""
    return tuple(target for target in targets if region_of(target) == bands)
