"""The JSON shapes of the web API (``/work/notes/web-contract.md``, ``web/openapi.yaml``).

Built from the same dataclasses the CLI prints, plus what only a page needs: a player
``embed_url`` per item, the playlist's ``path`` on the mood plane, and whether only the offline
catalog answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from moodtape.recommender.result import Recommendation
from moodtape.store import HistoryEntry
from moodtape.types import Face, Mood

#: Every item field the contract names; those an item lacks are null.
ITEM_FIELDS = (
    "key",
    "title",
    "artist",
    "spotify_id",
    "youtube_id",
    "deezer_id",
    "valence",
    "energy",
    "reason",
    "source",
    "url",
    "artwork_url",
    "preview_url",
    "embed_url",
    "genre",
    "category",
)


def mood_json(mood: Mood) -> dict[str, Any]:
    return {
        "valence": round(mood.valence, 4),
        "arousal": round(mood.arousal, 4),
        "emotion": mood.emotion,
        "source": mood.source,
    }


def recommendation_json(result: Recommendation) -> dict[str, Any]:
    """``GET /api/recommendations``: items, mood, strategy, path, sources and fallbacks."""
    return {
        "items": result.to_list(),
        "list_id": result.list_id,
        "kind": result.kind,
        "strategy": result.strategy,
        "mood": mood_json(result.mood),
        "path": [[round(v, 4), round(e, 4)] for v, e in result.targets],
        "sources": list(result.sources),
        "fallback_reasons": list(result.fallback_reasons),
        "notes": list(result.notes),
        # Nothing came from a live provider: the page says the offline catalog is in use.
        "offline": all(source == "catalog" for source in result.sources),
    }


def faces_json(faces: Sequence[Face]) -> list[dict[str, object]]:
    return [face.to_dict() for face in faces]


def history_json(entries: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    """The session's lists, newest first: one object per list shown (entries share a timestamp)."""
    lists: list[dict[str, Any]] = []
    for created_at, group in groupby(entries, key=lambda e: e.created_at):
        rows = sorted(group, key=lambda e: e.position)
        first = rows[0]
        lists.append(
            {
                "at": datetime.fromtimestamp(created_at, UTC).isoformat(timespec="seconds"),
                "kind": first.kind,
                "strategy": first.strategy,
                "mood": {"emotion": first.emotion},
                "titles": [row.title for row in rows],
                "items": [
                    {"key": row.item_key, "title": row.title, "artist": row.artist, "source": row.source}
                    for row in rows
                ],
            }
        )
    return lists
