"""How one :meth:`~moodtape.providers.spotify.SpotifyProvider.tracks` call's search pages are
ordered, read and accounted for.

Kept apart from :mod:`moodtape.providers.spotify` (which talks to Spotify: token, calls, errors):
the order pages go in when time is short (the path's ends first), what a page adds, and what a
search cut short by its time budget went without (:class:`~moodtape.providers.base.Shortfall`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moodtape.errors import ProviderError
from moodtape.providers.base import Shortfall
from moodtape.providers.http import shortfall_reason
from moodtape.providers.moodwords import interleave
from moodtape.providers.spotify_items import track_from_spotify
from moodtape.types import Track

#: The most a development-mode app may ask for per page since February 2026 (more → 400).
PAGE_LIMIT = 10


@dataclass(frozen=True)
class Search:
    """One text search of a call: its words, the point its tracks are given, how many pages it may
    read, and the path's targets it searches for (those the catalog is asked for if it gets none)."""

    q: str
    point: tuple[float, float]
    pages: int
    targets: tuple[tuple[float, float], ...] = ()  # the path's slots it searches for


@dataclass
class Progress:
    """How far each search of one ``SpotifyProvider.tracks`` call got: pages read, and which
    searches ended because Spotify had no more (the others that read fewer pages than planned
    were cut short)."""

    plan: list[Search]
    pages: list[int]
    exhausted: set[int]

    def shortfall(self, budget: float, error: ProviderError | None) -> Shortfall | None:
        """What the call went without, or None when every search read what it planned."""
        cut = [i for i, search in enumerate(self.plan) if i not in self.exhausted and self.pages[i] < search.pages]
        if not cut:
            return None
        came = sum(self.pages)
        planned = came + sum(self.plan[i].pages - self.pages[i] for i in cut)
        missed = tuple(target for i in cut if self.pages[i] == 0 for target in self.plan[i].targets)
        return Shortfall("Spotify", "search pages", came, planned, budget, shortfall_reason(error), missed)


def ends_first(count: int) -> list[int]:
    """Indexes of ``count`` searches in path order, reordered ends first: ``[0, 2, 1]`` for three.
    A search cut short after two pages then has where the path starts and where it leads; in path
    order it lost the end (a sad/calm → happy/energetic list's last third: mean distance 0.57 from
    its targets, against 0.11 with every page)."""
    order: list[int] = []
    low, high = 0, count - 1
    while low <= high:
        order.extend([low, high] if low < high else [low])
        low, high = low + 1, high - 1
    return order


def read_page(body: Mapping[str, Any], point: tuple[float, float], tracks: list[Track]) -> bool:
    """Add the tracks of a search page made for ``point`` to ``tracks``; True when Spotify has a next page."""
    section = body.get("tracks")
    items = section.get("items") if isinstance(section, dict) else None
    for item in items if isinstance(items, list) else []:
        if (track := track_from_spotify(item, point)) is not None:
            tracks.append(track)
    return isinstance(section, dict) and bool(section.get("next"))


def merged(found: list[list[Track]], limit: int) -> list[Track]:
    """The searches' tracks interleaved (each region of the path with what it got), cut to ``limit``."""
    return interleave(found, key=lambda track: track.spotify_id)[:limit]


def one_page(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with at most :data:`PAGE_LIMIT` tracks and playlists, the most a page holds: a reply
    listing thousands (under the size cap) was cached whole and read again on every visit."""
    for kind in ("tracks", "playlists"):
        section = body.get(kind)
        if isinstance(section, dict) and isinstance(section.get("items"), list):
            body[kind] = {**section, "items": section["items"][:PAGE_LIMIT]}
    return body
