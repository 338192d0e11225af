"""Each session's lists and calibration in the store, when several processes serve without Redis.

The same two interfaces as :mod:`moodtape.state.sessions` and :mod:`moodtape.state.profiles`
(Redis) and as their in-process defaults, over :class:`moodtape.store.short_lived.ShortLived`:
one JSON document per session, with the same idle lifetimes and the same atomic ``update``.
What is stored is what Redis would hold: :meth:`SessionState.to_json` (lists as shown, undo
steps, recent feedback) and :meth:`Calibration.to_dict` (sums of numbers the model read; never
a frame or a pixel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from moodtape.session_state import IDLE_SECONDS, MAX_SESSION_BYTES, SessionState
from moodtape.store.database import Database
from moodtape.store.short_lived import ShortLived
from moodtape.web.profiles import MAX_STORED_PROFILE_BYTES, PROFILE_IDLE_SECONDS, Calibration

if TYPE_CHECKING:
    from moodtape.vision.pipeline import Analyzer


#: A calibration read this long after its last write is kept another idle period (one small write).
PROFILE_TOUCH_AFTER_S: Final[float] = 3600.0


class StoreSessionMemory:
    """:class:`~moodtape.session_state.SessionMemory` in the store's ``short_lived`` table."""

    def __init__(
        self, database: Database, idle_seconds: float = IDLE_SECONDS, clock: Callable[[], float] | None = None
    ) -> None:
        # The bound one process's memory keeps (the JSON is smaller than the objects it stands for).
        self.documents = ShortLived(database, "session", idle_seconds, clock=clock, max_bytes=MAX_SESSION_BYTES)

    def get(self, session_id: str) -> SessionState:
        return SessionState.from_stored(self.documents.get(session_id))

    def update(self, session_id: str, change: Callable[[SessionState], SessionState]) -> SessionState:
        result: list[SessionState] = []

        def apply(raw: str | None) -> str:
            new = change(SessionState.from_stored(raw))
            result[:] = [new]
            return new.to_json()

        self.documents.update(session_id, apply)
        return result[0]

    def delete(self, session_id: str) -> None:
        self.documents.delete(session_id)

    def __len__(self) -> int:
        return self.documents.count()


class StoreProfileStore:
    """:class:`~moodtape.web.profiles.ProfileStore` in the store's ``short_lived`` table.

    Args:
        database: the store's database.
        analyzer: gives this process's analyzer (the profile is refitted with it on reading).
    """

    def __init__(
        self,
        database: Database,
        analyzer: Callable[[], Analyzer],
        idle_seconds: float = PROFILE_IDLE_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.documents = ShortLived(database, "profile", idle_seconds, clock=clock, max_bytes=MAX_STORED_PROFILE_BYTES)
        self._analyzer = analyzer

    def get(self, session_id: str) -> Calibration | None:
        raw = self.documents.get(session_id, renew_after=PROFILE_TOUCH_AFTER_S)
        return None if raw is None else Calibration.from_text(raw, self._analyzer())

    def update(self, session_id: str, change: Callable[[Calibration | None], Calibration]) -> Calibration:
        analyzer = self._analyzer()
        result: list[Calibration] = []

        def changed(raw: str | None) -> str:  # in one transaction holding the row (ShortLived.update)
            new = change(None if raw is None else Calibration.from_text(raw, analyzer))
            result[:] = [new]
            return new.to_text()

        self.documents.update(session_id, changed)
        return result[0]

    def __len__(self) -> int:
        return self.documents.count()
