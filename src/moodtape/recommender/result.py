"""What a recommendation returns: items in playlist order, each with its reason, plus how it was made.

:meth:`RecommendedItem.to_dict` is the one JSON shape of a list item, used by ``moodtape recommend
--json``, the web API and every export format (they pick columns from it). Every key is present for
both kinds, null where it does not apply:

``key, kind, position, title, artist, spotify_id, youtube_id, deezer_id, valence, energy, reason,
source, url, embed_url, artwork_url, thumbnail_url, preview_url, genre, category, decade,
acousticness, target`` and, when the list was saved, ``list_id``. ``decade`` and ``acousticness``
let a saved list's rows feed the taste model (:func:`moodtape.recommender.taste.features_from_json`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from moodtape.recommender.links import embed_url, page_url
from moodtape.types import Mood, Track, Video

Item = Track | Video


def item_url(item: Item) -> str:
    """Where a person can play ``item`` (see :mod:`moodtape.recommender.links`)."""
    return page_url(item)


@dataclass(frozen=True)
class RecommendedItem:
    """One slot of the list: the item, why it is here, and how close it came to the slot's target.

    Attributes:
        item: the track or video.
        position: its slot, from 0.
        target: the slot's ``(valence, energy)`` target in the unit plane.
        distance: from the item's point to the target.
        reason: the readable line (empty until the engine explains the list).
        repeat: it had already been recommended in the session (nothing new was left).
        because: the title of a liked item whose taste brought this one in, or None.
    """

    item: Item
    position: int
    target: tuple[float, float]
    distance: float
    reason: str = ""
    repeat: bool = False
    because: str | None = None

    @property
    def source(self) -> str:
        return self.item.source

    @property
    def artist(self) -> str:
        return self.item.artist

    def with_reason(self, reason: str) -> RecommendedItem:
        return replace(self, reason=reason)

    def to_dict(self, list_id: str | None = None) -> dict[str, Any]:
        """The JSON object for one item (see the module docstring)."""
        item = self.item
        ids = item.service_ids()
        is_video = item.kind == "video"
        result: dict[str, Any] = {
            "key": item.key,
            "kind": item.kind,
            "position": self.position,
            "title": item.title,
            "artist": item.artist,
            "spotify_id": ids["spotify"],
            "youtube_id": ids["youtube"],
            "deezer_id": ids["deezer"],
            "valence": round(item.valence, 4),
            "energy": round(item.energy, 4),
            "reason": self.reason,
            "source": item.source,
            "url": page_url(item),
            "embed_url": embed_url(item),
            "artwork_url": item.artwork,
            "thumbnail_url": item.artwork if is_video else None,
            "preview_url": item.preview_url,
            "genre": None if is_video else item.genre,
            "category": item.genre if is_video else None,
            "decade": item.decade,
            "acousticness": item.audio_features().get("acousticness"),
            "target": [round(self.target[0], 4), round(self.target[1], 4)],
        }
        if list_id is not None:
            result["list_id"] = list_id
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
        fallback_reasons: one readable sentence per live provider that failed (the catalog took
            over), and per preview service that failed ("No previews or artwork: …").
        notes: other things a person should know (a short list, repeats after the catalog ran dry).
        list_id: the saved list's id, once a session service stored it (None for a list not kept).
    """

    items: tuple[RecommendedItem, ...]
    mood: Mood
    strategy: str
    kind: str
    targets: tuple[tuple[float, float], ...]
    sources: tuple[str, ...]
    fallback_reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    list_id: str | None = None

    @property
    def fallback_reason(self) -> str | None:
        """All fallback reasons in one line, or None when every service answered.

        Each reason is a sentence of its own (most end with a full stop), so they are joined with
        a space; ``"; "`` made "… (offline?).; …".
        """
        return " ".join(_as_sentence(reason) for reason in self.fallback_reasons) or None

    def to_list(self) -> list[dict[str, Any]]:
        """The items as JSON objects, in playlist order (each with ``list_id`` when the list was saved)."""
        return [entry.to_dict(self.list_id) for entry in self.items]

    def to_dict(self) -> dict[str, Any]:
        """Everything, for the web API: the items plus mood, strategy, path and sources."""
        return {
            "items": self.to_list(),
            "list_id": self.list_id,
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


def _as_sentence(text: str) -> str:
    """``text`` ending with a full stop (or its own question or exclamation mark)."""
    return text if text.endswith((".", "!", "?")) else f"{text}."
