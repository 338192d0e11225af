"""What a recommendation returns: items in playlist order, each with its reason, plus how it was made.

:meth:`Recommendation.to_list` is the JSON shape shared by ``moodtape recommend --json`` and the web
API: one object per item with ``title``, ``artist``, ``spotify_id``, ``youtube_id``, ``deezer_id``
(each or null), ``valence``, ``energy``, ``reason``, ``source`` and ``url``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from moodtape.types import Mood, Track, Video

Item = Track | Video


def item_url(item: Item) -> str:
    """Where a person can play ``item``: its own link, a player page by ID, or a search for it.

    Without a verified ID we link to a search for "artist title" rather than guess an ID.
    """
    if item.url:
        return item.url
    if isinstance(item, Track):
        if item.spotify_id:
            return f"https://open.spotify.com/track/{item.spotify_id}"
        if item.deezer_id:
            return f"https://www.deezer.com/track/{item.deezer_id}"
        if item.youtube_id:
            return f"https://www.youtube.com/watch?v={item.youtube_id}"
        return f"https://www.youtube.com/results?search_query={quote_plus(f'{item.artist} {item.title}')}"
    if item.youtube_id:
        return f"https://www.youtube.com/watch?v={item.youtube_id}"
    return f"https://www.youtube.com/results?search_query={quote_plus(f'{item.channel} {item.title}')}"


@dataclass(frozen=True)
class RecommendedItem:
    """One slot of the list: the item, why it is here, and how close it came to the slot's target."""

    item: Item
    position: int
    target: tuple[float, float]
    distance: float
    reason: str
    repeat: bool = False

    @property
    def source(self) -> str:
        return self.item.source

    @property
    def artist(self) -> str:
        return self.item.artist if isinstance(self.item, Track) else self.item.channel

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for one item (see the module docstring)."""
        item = self.item
        is_track = isinstance(item, Track)
        result: dict[str, Any] = {
            "title": item.title,
            "artist": self.artist,
            "spotify_id": item.spotify_id if isinstance(item, Track) else None,
            "youtube_id": item.youtube_id,
            "deezer_id": item.deezer_id if isinstance(item, Track) else None,
            "valence": round(item.valence, 4),
            "energy": round(item.energy, 4),
            "reason": self.reason,
            "source": item.source,
            "url": item_url(item),
            "kind": "track" if is_track else "video",
            "key": item.key,
            "target": [round(self.target[0], 4), round(self.target[1], 4)],
        }
        if isinstance(item, Track):
            result.update(genre=item.genre, artwork_url=item.artwork_url, preview_url=item.preview_url)
        else:
            result.update(category=item.category, thumbnail_url=item.thumbnail_url)
        return result


@dataclass(frozen=True)
class Recommendation:
    """A whole list and how it was made.

    Attributes:
        items: in playlist order.
        mood: the mood the list was made for (after any "not my mood" correction).
        strategy: the strategy used (the default for the mood unless one was asked for).
        kind: ``"tracks"`` or ``"videos"``.
        targets: the target path, one ``(valence, energy)`` point in [0, 1]² per slot asked for.
        sources: the providers whose items made it into the list, in order of first appearance.
        fallback_reasons: one readable line per live provider that failed (the catalog took over).
        notes: other things a person should know (a short list, repeats after the catalog ran dry).
    """

    items: tuple[RecommendedItem, ...]
    mood: Mood
    strategy: str
    kind: str
    targets: tuple[tuple[float, float], ...]
    sources: tuple[str, ...]
    fallback_reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def fallback_reason(self) -> str | None:
        """All fallback reasons in one line, or None when every live provider answered."""
        return "; ".join(self.fallback_reasons) or None

    def to_list(self) -> list[dict[str, Any]]:
        """The items as JSON objects, in playlist order."""
        return [entry.to_dict() for entry in self.items]

    def to_dict(self) -> dict[str, Any]:
        """Everything, for the web API: the items plus mood, strategy, path and sources."""
        return {
            "items": self.to_list(),
            "mood": {
                "valence": round(self.mood.valence, 4),
                "arousal": round(self.mood.arousal, 4),
                "emotion": self.mood.emotion,
                "source": self.mood.source,
            },
            "strategy": self.strategy,
            "kind": self.kind,
            "targets": [[round(v, 4), round(e, 4)] for v, e in self.targets],
            "sources": list(self.sources),
            "fallback_reason": self.fallback_reason,
            "notes": list(self.notes),
        }
