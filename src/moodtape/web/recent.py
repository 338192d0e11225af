"""Each session's latest lists, so that "export" writes exactly the list the page showed.

:class:`MemoryRecent` keeps them in this process (the default); :class:`RedisRecent` keeps them in
Redis (``MOODTAPE_REDIS_URL``) so that the export may reach another instance than the list did.
Lists are stored as JSON (:func:`to_state` and :func:`from_state`), never pickled.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

from moodtape.recommender.result import Recommendation, RecommendedItem
from moodtape.state.connection import PREFIX, redis_errors
from moodtape.types import Mood, Track, Video
from moodtape.web.lru import BoundedLRU

if TYPE_CHECKING:
    import redis

log = logging.getLogger("moodtape.web")

#: Latest lists kept per process so that "export" writes exactly the list the page shows.
MAX_RECENT_LISTS: Final[int] = 1024
#: Seconds a list is remembered for export.
RECENT_SECONDS: Final[float] = 3600.0


class RecentLists(Protocol):
    """The latest list per (session, request parameters)."""

    def get(self, session_id: str, key: str) -> Recommendation | None: ...

    def put(self, session_id: str, key: str, result: Recommendation) -> None: ...


class MemoryRecent:
    """In this process: bounded in number, each list forgotten after an hour."""

    def __init__(self, max_lists: int = MAX_RECENT_LISTS, seconds: float = RECENT_SECONDS) -> None:
        self._lists: BoundedLRU[tuple[str, str], Recommendation] = BoundedLRU(max_lists, seconds)

    def get(self, session_id: str, key: str) -> Recommendation | None:
        return self._lists.get((session_id, key))

    def put(self, session_id: str, key: str, result: Recommendation) -> None:
        self._lists.put((session_id, key), result)


class RedisRecent:
    """In Redis under ``moodtape:recent:<session>:<key>``, each list forgotten after an hour."""

    def __init__(self, client: redis.Redis, seconds: float = RECENT_SECONDS) -> None:
        self._client = client
        self._ms = max(1, round(seconds * 1000))

    def get(self, session_id: str, key: str) -> Recommendation | None:
        with redis_errors(self._client):
            raw = self._client.get(f"{PREFIX}recent:{session_id}:{key}")
        if raw is None:
            return None
        try:
            return from_state(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a stored list that cannot be read (%s)", exc)
            return None

    def put(self, session_id: str, key: str, result: Recommendation) -> None:
        data = json.dumps(to_state(result), separators=(",", ":"))
        with redis_errors(self._client):
            self._client.set(f"{PREFIX}recent:{session_id}:{key}", data, px=self._ms)


def to_state(result: Recommendation) -> dict[str, Any]:
    """``result`` as JSON-able values; :func:`from_state` gives it back equal."""
    state = dataclasses.asdict(result)
    for slot, item in zip(state["items"], result.items, strict=True):
        slot["item"]["kind"] = "track" if isinstance(item.item, Track) else "video"
    return state


def from_state(state: dict[str, Any]) -> Recommendation:
    """The :class:`Recommendation` that :func:`to_state` turned into ``state``.

    Raises:
        ValueError, KeyError, TypeError: ``state`` is not in that shape.
    """
    items = []
    for slot in state["items"]:
        fields = dict(slot["item"])
        kind = fields.pop("kind")
        item: Track | Video = Track(**fields) if kind == "track" else Video(**fields)
        target = slot["target"]
        items.append(
            RecommendedItem(
                item=item,
                position=slot["position"],
                target=(float(target[0]), float(target[1])),
                distance=slot["distance"],
                reason=slot["reason"],
                repeat=slot["repeat"],
            )
        )
    return Recommendation(
        items=tuple(items),
        mood=Mood(**state["mood"]),
        strategy=state["strategy"],
        kind=state["kind"],
        targets=tuple((float(v), float(e)) for v, e in state["targets"]),
        sources=tuple(state["sources"]),
        fallback_reasons=tuple(state["fallback_reasons"]),
        notes=tuple(state["notes"]),
    )
