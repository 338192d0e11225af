"""A session's short-lived state: its latest lists, the list shown per kind, undo steps, feedback.

This is what a visit needs whether or not the person keeps history: export the list on screen,
switch Music → Videos → Music and get the same list back, undo a dislike. It is not history: it
lives for :data:`IDLE_SECONDS` after the session's last use and is bounded per session and in
total, so clients cannot grow it without limit.

:class:`SessionMemory` is the interface; :class:`LocalSessionMemory` keeps the state in this
process (the default, one process). The shared implementations (Redis in
:mod:`moodtape.state.sessions`, the store in :mod:`moodtape.state.in_store` for ``serve
--processes N`` without Redis) keep one JSON document per session (:meth:`SessionState.to_json` /
:meth:`SessionState.from_json`), so any process or instance can answer any request of a session.

During a rolling upgrade, instances of two versions read and write the same documents. So a
document is read for what this version knows of it: a field it does not know in an entry (a
feedback event, an undo step, a list) is left out of that entry, a part it does not know is kept
as it is and written back with the next change (:attr:`SessionState.extra`), and a part that is
missing is empty. Before, a field added by a newer version made the whole document unreadable
here: the visit's lists, feedback and corrections were started afresh on the older instance, and
its next change wrote the empty state over the newer instance's. A newer version, in turn, must
read an entry without its new field as the field's default. After a rollback, the top-level parts a
newer version added live on untrimmed: this version's bounds (:data:`MAX_LISTS`, :data:`MAX_UNDO`,
:data:`MAX_FEEDBACK`) and its history limits know nothing of them, and they are written back as
they are until the state is forgotten (:data:`IDLE_SECONDS` after the session's last use).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Protocol, TypeVar

from moodtape.store.records import Feedback, SavedList

log = logging.getLogger("moodtape.state")

#: Seconds a session's state is kept after its last use.
IDLE_SECONDS: Final[float] = 3600.0
#: Sessions kept at once per process (least recently used go first).
MAX_SESSIONS: Final[int] = 4096
#: And at most this much of their state in one process's memory: 4,096 sessions of twenty
#: 100-item lists would be 13 GB, so a count alone bounds nothing (least recently used go first).
MAX_SESSION_BYTES: Final[int] = 256 * 1024 * 1024
#: What a list and each of its items take in memory: ten 100-item lists took 1,678 bytes an item and
#: ten 12-item lists 1,949 (tracemalloc, ``python -m benchmarks.session_memory``), that is about
#: 3.7 KB a list plus 1.64 KB an item; rounded up.
LIST_BYTES: Final[int] = 4_000
ITEM_BYTES: Final[int] = 1_700
#: A feedback event besides its strings (the object, its numbers); the strings are counted as they
#: are, since a client's item key, artist and genre may be 500 characters each (tracemalloc: 200
#: events of 500 emoji each took 1.3 MB, when they were counted as 400 bytes an event, 81 KB).
FEEDBACK_BYTES: Final[int] = 200
#: Per session: lists, undo steps per list, feedback events.
MAX_LISTS: Final[int] = 20
MAX_UNDO: Final[int] = 10
MAX_FEEDBACK: Final[int] = 200


def _feedback_bytes(feedback: Feedback) -> int:
    """What one feedback event takes in memory, its strings measured (see :data:`FEEDBACK_BYTES`)."""
    texts = (feedback.item_key, feedback.artist, feedback.genre, feedback.list_id, feedback.id)
    return FEEDBACK_BYTES + sum(sys.getsizeof(text) for text in texts if text is not None)


@dataclass(frozen=True)
class UndoStep:
    """What a dislike replaced: the row's position (0-based), the item before, the feedback to forget."""

    position: int
    item: Mapping[str, Any]
    feedback_id: str


@dataclass(frozen=True)
class SessionState:
    """Everything short-lived about one session; immutable, changed by making a new one."""

    lists: tuple[SavedList, ...] = ()
    current: Mapping[str, str] = field(default_factory=dict)
    undo: Mapping[str, tuple[UndoStep, ...]] = field(default_factory=dict)
    feedback: tuple[Feedback, ...] = ()
    corrections: Mapping[str, str] = field(default_factory=dict)
    #: Parts of the stored document this version does not know (a newer one wrote them): kept and
    #: written back as they are, so that a change made here does not erase them.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def find(self, list_id: str) -> SavedList | None:
        return next((saved for saved in self.lists if saved.id == list_id), None)

    def current_list(self, kind: str) -> SavedList | None:
        list_id = self.current.get(kind)
        return self.find(list_id) if list_id else None

    def approximate_bytes(self) -> int:
        """Roughly what this state takes in memory: counted from its parts, never serialised."""
        items = sum(len(saved.document.get("items", ())) for saved in self.lists)
        steps = sum(len(undone) for undone in self.undo.values())
        parts = len(self.lists) * LIST_BYTES + (items + steps) * ITEM_BYTES
        return 1_000 + parts + sum(map(_feedback_bytes, self.feedback)) + 200 * len(self.corrections)

    def with_list(self, saved: SavedList, *, current: bool) -> SessionState:
        """The state with ``saved`` added (or replaced), newest last, at most :data:`MAX_LISTS`."""
        lists = (*(x for x in self.lists if x.id != saved.id), saved)[-MAX_LISTS:]
        kept = {x.id for x in lists}
        chosen = {**self.current, saved.kind: saved.id} if current else dict(self.current)
        return replace(
            self,
            lists=lists,
            current={kind: list_id for kind, list_id in chosen.items() if list_id in kept},
            undo={list_id: steps for list_id, steps in self.undo.items() if list_id in kept},
        )

    def with_undo(self, list_id: str, steps: tuple[UndoStep, ...]) -> SessionState:
        return replace(self, undo={**self.undo, list_id: steps[-MAX_UNDO:]})

    def with_feedback(self, feedback: Feedback) -> SessionState:
        return replace(self, feedback=(*self.feedback, feedback)[-MAX_FEEDBACK:])

    def without_feedback(self, feedback_id: str) -> SessionState:
        return replace(self, feedback=tuple(f for f in self.feedback if f.id != feedback_id))

    def with_correction(self, detected: str, corrected: str) -> SessionState:
        return replace(self, corrections={**self.corrections, detected: corrected})

    # --- JSON, for shared implementations ---

    def to_json(self) -> str:
        return json.dumps(
            {
                **self.extra,
                "lists": [
                    {"id": x.id, "kind": x.kind, "strategy": x.strategy, "document": x.document, "at": x.created_at}
                    for x in self.lists
                ],
                "current": dict(self.current),
                "undo": {
                    k: [{"position": s.position, "item": s.item, "feedback_id": s.feedback_id} for s in steps]
                    for k, steps in self.undo.items()
                },
                "feedback": [f.__dict__ for f in self.feedback],
                "corrections": dict(self.corrections),
            }
        )

    @classmethod
    def from_stored(cls, raw: bytes | str | None) -> SessionState:
        """What a shared store kept (:meth:`to_json`); a fresh state when there is none or it is unreadable.

        An unreadable document (an older format, a damaged row) only costs the session its lists on
        screen, so it is logged and replaced rather than turned into an error on every request.
        """
        if raw is None:
            return cls()
        try:
            return cls.from_json(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("starting a session's short-lived state afresh: the stored one is unreadable (%s)", exc)
            return cls()

    @classmethod
    def from_json(cls, text: str) -> SessionState:
        """What :meth:`to_json` wrote, read for what this version knows of it (the module docstring)."""
        data = json.loads(text)
        return cls(
            lists=tuple(
                SavedList(x["id"], x["kind"], x["strategy"], x["document"], x["at"]) for x in data.get("lists", ())
            ),
            current=dict(data.get("current", {})),
            undo={k: tuple(_known_fields(UndoStep, s) for s in steps) for k, steps in data.get("undo", {}).items()},
            feedback=tuple(_known_fields(Feedback, f) for f in data.get("feedback", ())),
            corrections=dict(data.get("corrections", {})),
            extra={key: value for key, value in data.items() if key not in _PARTS},
        )


_Entry = TypeVar("_Entry", UndoStep, Feedback)
#: The parts of a stored document this version reads; any other is kept in :attr:`SessionState.extra`.
_PARTS: Final = frozenset({"lists", "current", "undo", "feedback", "corrections"})


def _known_fields(kind: type[_Entry], entry: Mapping[str, Any]) -> _Entry:
    """A ``kind`` made of ``entry``'s fields that ``kind`` has (a newer version's others left out)."""
    names = {found.name for found in fields(kind)}
    return kind(**{key: value for key, value in entry.items() if key in names})


class SessionMemory(Protocol):
    """Where short-lived session state lives; every method is atomic for one session."""

    def get(self, session_id: str) -> SessionState:
        """The session's state (empty when unknown or expired)."""
        ...

    def update(self, session_id: str, change: Callable[[SessionState], SessionState]) -> SessionState:
        """Replace the state by ``change(state)`` atomically; returns the new state."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget the session."""
        ...


class LocalSessionMemory:
    """:class:`SessionMemory` in this process: at most ``max_sessions`` and ``max_bytes`` (as
    :meth:`SessionState.approximate_bytes` counts), each expiring ``idle_seconds`` after its last
    change, as in Redis and the database (reads do not renew it). ``owner`` names who is writing
    (the web app passes the client's address) so that at the bounds the one holding the most gives
    way (web/lru.py)."""

    def __init__(
        self,
        max_sessions: int = MAX_SESSIONS,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = MAX_SESSION_BYTES,
        owner: Callable[[], Hashable] | None = None,
    ) -> None:
        from moodtape.web.lru import BoundedLRU

        self._states: BoundedLRU[str, SessionState] = BoundedLRU(
            max_sessions,
            idle_seconds,
            clock,
            renew_on_read=False,
            weigh=SessionState.approximate_bytes,
            max_weight=max_bytes,
            owner=owner,
        )

    @property
    def approximate_bytes(self) -> int:
        """What the sessions kept take, as their states count it."""
        return self._states.weight

    def get(self, session_id: str) -> SessionState:
        return self._states.get(session_id) or SessionState()

    def update(self, session_id: str, change: Callable[[SessionState], SessionState]) -> SessionState:
        return self._states.update(session_id, lambda old: change(old or SessionState()))

    def delete(self, session_id: str) -> None:
        self._states.pop(session_id)

    def __len__(self) -> int:
        return len(self._states)
