"""The JSON shapes of the web API (documented in ``web/openapi.yaml``).

Built from the same dataclasses the CLI prints, plus what only a page needs: a player
``embed_url`` per item, the playlist's ``path`` on the mood plane, and whether only the offline
catalog answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from moodtape.recommender.result import Recommendation
from moodtape.store import SavedList
from moodtape.store.write_budget import NOT_KEPT_FIELD
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


def item_json(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One list item from the serialiser's dictionary; contract fields it lacks (lists from 0.1) are null."""
    return {**dict.fromkeys(ITEM_FIELDS), **raw}


def mood_json(mood: Mood) -> dict[str, Any]:
    return {
        "valence": round(mood.valence, 4),
        "arousal": round(mood.arousal, 4),
        "emotion": mood.emotion,
        "source": mood.source,
    }


def recommendation_json(result: Recommendation) -> dict[str, Any]:
    """``GET /api/recommendations``: items, mood, strategy, path, sources and fallbacks (not saved).

    The reasons go as the result holds them: its one-line ``fallback_reason`` cannot be split back,
    since a provider's sentence may itself hold ``"; "`` ("… (HTTP 503); try again in a few minutes.").
    """
    return _list_json({**result.to_dict(), "fallback_reasons": list(result.fallback_reasons)}, None)


def list_json(saved: SavedList, undo: int = 0) -> dict[str, Any]:
    """A saved list as the page shows it: the same fields plus its ``list_id`` and undo steps.

    A list made while its address's daily history budget was spent is shown as any other, for
    this visit; ``kept`` (false) and ``kept_note`` say that history did not keep it, and why.
    """
    shown = {**_list_json(saved.document, saved.id), "undo": undo}
    note = saved.document.get(NOT_KEPT_FIELD)
    return shown if note is None else {**shown, "kept": False, "kept_note": str(note)}


def _list_json(document: Mapping[str, Any], list_id: str | None) -> dict[str, Any]:
    sources = list(document.get("sources", ()))
    mood = document.get("mood") or {}
    return {
        "list_id": list_id,
        "items": [item_json(item) for item in document.get("items", ())],
        "kind": document.get("kind"),
        "strategy": document.get("strategy"),
        "mood": {name: mood.get(name) for name in ("valence", "arousal", "emotion", "source")},
        "path": document.get("targets", []),
        "sources": sources,
        "fallback_reasons": _fallbacks(document),
        "notes": list(document.get("notes", ())),
        # Nothing came from a live provider: the page says the offline catalog is in use.
        "offline": all(source == "catalog" for source in sources),
    }


def _fallbacks(document: Mapping[str, Any]) -> list[str]:
    """The failed services' reasons; lists saved before ``fallback_reasons`` hold one joined line."""
    if "fallback_reasons" in document:
        return list(document["fallback_reasons"])
    joined = document.get("fallback_reason")
    return joined.split("; ") if joined else []


def faces_json(faces: Sequence[Face]) -> list[dict[str, object]]:
    return [face.to_dict() for face in faces]


def history_json(lists: Sequence[tuple[SavedList, bool]]) -> list[dict[str, Any]]:
    """The session's lists, newest first: one summary per list, ``kept`` when it is in history."""
    summaries: list[dict[str, Any]] = []
    for saved, kept in lists:
        items = saved.items
        summaries.append(
            {
                "list_id": saved.id,
                "at": datetime.fromtimestamp(saved.created_at, UTC).isoformat(timespec="seconds"),
                "kind": saved.kind,
                "strategy": saved.strategy,
                "mood": {"emotion": saved.emotion},
                "kept": kept,
                "titles": [str(item.get("title", "")) for item in items],
                "items": [{name: item.get(name) for name in ("key", "title", "artist", "source")} for item in items],
            }
        )
    return summaries
