"""The interface every source of tracks and videos implements.

The recommendation engine asks each provider for candidates near a target path through the
(valence, energy) plane; it ranks and explains them itself. A provider that cannot answer raises a
:class:`moodtape.errors.ProviderError` subclass whose message a person can read; the engine then
falls back to the built-in catalog and shows that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from moodtape.types import Track, Video


@dataclass(frozen=True)
class Query:
    """What the engine asks a provider for.

    Attributes:
        targets: one ``(valence, energy)`` point in [0, 1]² per slot of the list, in order.
        keywords: mood words for providers that search by text (e.g. ``("calm", "acoustic")``).
        genres: genres the person prefers; empty means any.
        limit: how many candidates the engine would like (providers may return fewer).
    """

    targets: tuple[tuple[float, float], ...]
    keywords: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    limit: int = 50

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("a query needs at least one target point")
        if self.limit <= 0:
            raise ValueError("limit must be positive")


@dataclass(frozen=True)
class Shortfall:
    """A live answer cut short: the search's time budget ran out, or a call after its first failed.

    Not an error (what came is used), but the person should know why the list is thinner: the
    engine turns it into a ``fallback_reason`` and asks the catalog for the path's missed targets.

    Attributes:
        service: the service's name as people read it (``"Spotify"``).
        unit: what was counted, plural (``"search pages"``, ``"requests"``).
        came: how many of them came (answered, or read from the cache).
        planned: how many the search meant to read (``came`` plus those it went without).
        budget: the search's time budget in seconds.
        error: the readable failure that ended it, or None when only time ran out.
        missed: the target points no answer came for at all (the catalog is asked for those).
    """

    service: str
    unit: str
    came: int
    planned: int
    budget: float
    error: str | None = None
    missed: tuple[tuple[float, float], ...] = ()


def shortfall_of(provider: object) -> Shortfall | None:
    """What ``provider``'s last call in this thread went without (``last_shortfall``, as Spotify and
    YouTube keep it), or None: a provider that keeps none is taken at its word."""
    shortfall = getattr(provider, "last_shortfall", None)
    return shortfall if isinstance(shortfall, Shortfall) else None


@runtime_checkable
class Provider(Protocol):
    """A source of candidate tracks and videos."""

    #: Short label shown beside each item (``catalog``, ``spotify``, ``youtube``).
    name: str

    def tracks(self, query: Query) -> list[Track]:
        """Candidate tracks for ``query``; ``[]`` when there are none."""
        ...

    def videos(self, query: Query) -> list[Video]:
        """Candidate videos for ``query``; ``[]`` when there are none."""
        ...


@runtime_checkable
class Enricher(Protocol):
    """Adds artwork, previews and player IDs to tracks it did not find (Deezer, iTunes)."""

    name: str

    def enrich(self, tracks: list[Track]) -> list[Track]:
        """Return ``tracks`` in the same order, with what this service knows filled in."""
        ...
