"""The values the store keeps: a saved list (one record, items in order) and one feedback.

A :class:`SavedList` is what a person saw, as JSON-ready data: the items are the serialiser's
dictionaries (:meth:`moodtape.recommender.result.RecommendedItem.to_dict`), so the store and the
session service never look inside an item, and export writes exactly the dictionaries shown.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

from moodtape.errors import DataError
from moodtape.types import Mood

#: The feedback a person can give on one item.
ACTIONS: Final[tuple[str, ...]] = ("like", "skip", "dislike", "play")
_SESSION_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is 1–64 letters, digits, ``-`` or ``_``; else raise DataError."""
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise DataError("a session id must be 1–64 letters, digits, '-' or '_'")
    return session_id


def new_id() -> str:
    """A random id for a list or a row: 32 hex digits, made here so every database accepts it."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SavedList:
    """One list as shown, stored as one record.

    Attributes:
        id: 32 hex digits, the ``list`` of ``/api/export?list=ID`` and of feedback.
        kind: ``"tracks"`` or ``"videos"``.
        strategy: the strategy the list was made with.
        document: ``mood`` (valence, arousal, emotion, source), ``items`` (dicts, in order),
            ``path``, ``sources``, ``fallback_reasons``, ``notes`` and ``request`` (what was asked).
        created_at: seconds since the epoch.
    """

    id: str
    kind: str
    strategy: str
    document: Mapping[str, Any]
    created_at: float = 0.0

    @property
    def items(self) -> list[dict[str, Any]]:
        return [dict(item) for item in self.document.get("items", ())]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(str(item.get("key")) for item in self.document.get("items", ()))

    @property
    def emotion(self) -> str | None:
        value = self.mood_fields.get("emotion")
        return str(value) if value else None

    @property
    def mood_fields(self) -> dict[str, Any]:
        return dict(self.document.get("mood") or {})

    @property
    def mood(self) -> Mood:
        """The mood the list was made for (lists from moodtape 0.1 only know the emotion)."""
        fields = self.mood_fields
        return Mood(
            float(fields.get("valence") or 0.0),
            float(fields.get("arousal") or 0.0),
            self.emotion,
            str(fields.get("source") or "point"),
        )

    @property
    def request(self) -> dict[str, Any]:
        return dict(self.document.get("request") or {})

    def to_list(self) -> list[dict[str, Any]]:
        """The items in order: what the exporters write."""
        return self.items

    @property
    def revision(self) -> int:
        """How many times the items changed since the list was made (0 at first); see :meth:`with_item`."""
        value = self.document.get("revision", 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def with_item(self, position: int, item: Mapping[str, Any]) -> SavedList:
        """A copy with the item at ``position`` (0-based) replaced, one revision newer."""
        items = self.items
        items[position] = dict(item)
        return self.with_items(items)

    def with_items(self, items: Sequence[Mapping[str, Any]]) -> SavedList:
        """A copy with these items, one revision newer.

        The revision lets a change made from an old copy be noticed: the session state applies a
        replaced row only to the revision it was ranked against, and the store never lets an
        older revision overwrite a newer one.
        """
        document = {**self.document, "items": [dict(item) for item in items], "revision": self.revision + 1}
        return replace(self, document=document)


@dataclass(frozen=True)
class Feedback:
    """A like, skip or dislike on one item; ``artist`` and ``genre`` drive the re-ranking.

    ``list_id`` and ``position`` (0-based) name where the item was shown, when known.
    """

    item_key: str
    artist: str
    action: str
    genre: str | None = None
    created_at: float = 0.0
    list_id: str | None = None
    position: int | None = None
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise DataError(f"unknown feedback {self.action!r}; choose one of: {', '.join(ACTIONS)}")


class Visit(NamedTuple):
    """What history keeps of a visit when the person turns it on: its lists, feedback and corrections."""

    lists: Sequence[SavedList]
    feedback: Sequence[Feedback]
    corrections: Mapping[str, str]
