"""Sessions ended by "Delete everything": their ids are remembered, so that they stay ended.

Deleting forgets a session and moves the visit to a new one (``web/session.py``'s
``renew_session``), but a copy of the old cookie stays validly signed, and a request of the old
session may still be in flight: a list being saved, the history choice being set, or, during a
key rotation, an answer about to sign the old id again. Each of those finished after the forget
and brought the old session back (written under the old id, or its cookie sent to the browser).

So the deletion first marks the old id *retired*, in the state every process and instance shares
(this process's memory, the store's ``short_lived`` table, or Redis), and then:

- a request whose cookie names a retired id is treated as having no cookie: a fresh session,
  a new cookie, nothing to see (``web/session.py``);
- an answer never sends a retired id's cookie, even one re-signed during a key rotation;
- a state-changing request of a session retired while it ran forgets that session again once it
  is done (``web/lists_api.py``). The marker is written before the forget and checked after the
  write, so whichever finishes last, nothing written under the old id stays.

A marker is kept as long as anything written under the old id could be kept and read: the
history's retention period (``MOODTAPE_HISTORY_DAYS``, 30 days by default), at least a day (a
calibration's lifetime). A marker is a few bytes of id, and each costs a confirmed deletion (a
CSRF token and a rate-limited request), so at most :data:`MAX_RETIRED` are kept: in this process
fairly by client address (``web/owners.py``: one address deleting in a loop evicts its own markers
first); in Redis and the store the soonest to expire or least recently written go first, whoever
wrote them. A marker ended early by such a flood only lets an old cookie name an empty session
again: what the old session wrote during its deletion was forgotten by then (the late-write check).
While the shared state is away, a cookie's session is taken as not retired, so pages still load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol

from moodtape.state.retired import MAX_RETIRED
from moodtape.web.lru import BoundedLRU
from moodtape.web.owners import client_owner

#: The shortest a marker is kept: a calibration's lifetime (``web/profiles.py``), a day.
MIN_RETIRED_SECONDS: Final[float] = 24 * 3600.0


def retired_seconds(history_days: float) -> float:
    """How long a marker is kept for a history retention of ``history_days`` days (see the module docstring)."""
    return max(history_days * 24 * 3600.0, MIN_RETIRED_SECONDS)


class RetiredSessions(Protocol):
    """The ids of sessions ended by "Delete everything"."""

    def retire(self, session_id: str) -> None:
        """Remember that ``session_id`` was ended; it never comes back."""
        ...

    def is_retired(self, session_id: str) -> bool:
        """Whether ``session_id`` was ended (and its marker not yet expired)."""
        ...

    def restore(self, session_id: str) -> None:
        """Take the marker back: the deletion that set it failed, and the session lives on."""
        ...


class MemoryRetiredSessions:
    """:class:`RetiredSessions` in this process: bounded, fair by client address, expiring."""

    def __init__(
        self, keep_seconds: float, max_size: int = MAX_RETIRED, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ids: BoundedLRU[str, bool] = BoundedLRU(
            max_size, keep_seconds, clock, renew_on_read=False, owner=client_owner
        )

    def retire(self, session_id: str) -> None:
        self._ids.put(session_id, True)

    def is_retired(self, session_id: str) -> bool:
        return self._ids.get(session_id) is not None

    def restore(self, session_id: str) -> None:
        self._ids.pop(session_id)
