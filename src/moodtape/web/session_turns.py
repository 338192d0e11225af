"""One list-making request at a time per session, across processes and instances.

``POST /api/lists`` returns the session's current list when the request has not really changed and
makes a new one otherwise. Two copies of one request at once (a double click, a client that retries
before the first answer came) each found no current list and each made one: six at once made four
lists in 8 of 10 rounds, all kept in history, where one was asked for. A browser sends a second copy on a second
connection (HTTP/1.1 cannot send it on the first while that one waits for its answer), so under
``serve --processes N`` or behind a balancer the copies reach different processes, and a lock in
one process cannot make them wait for each other.

So the turn is a mark that every process and instance sees (:class:`TurnMarks`: this process's
memory by default, the store's ``short_lived`` table under ``serve --processes N`` without Redis,
Redis when it is set; ``state/turns.py``), kept apart from the session's lists so that taking and
dropping it writes a few bytes, not the session's whole state. The first copy takes it with its own
token, in one atomic step; the others try again every :data:`POLL_S` (a look that writes nothing
while the mark is held) and take it in turn, and so find the first copy's list (200, the same
``list_id``). Copies with ``fresh=true`` still make one list each, in turn: they ask for a new one.

The wait is bounded by :data:`TURN_WAIT_S`, and a mark lapses that long after it was taken: a
worker that crashed holding it, or a first copy stuck on a frozen database, holds the others at
most that long, and they then go on as they would without a turn (perhaps making a second list). A
copy that goes on may then wait on the frozen database itself (``STORE_WAIT_S``,
store/database.py) before its 503: about 10 s in all.

Clocks: a waiter counts its wait on this process's monotonic clock, which no clock step moves; a
mark lapses by the clock of the place that keeps it (this process's monotonic clock in memory,
Redis's for a key's ``PX``, the database's in the table), so instances whose own clocks disagree
still agree on when a mark lapsed.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, Protocol

from moodtape.errors import MoodtapeError

log = logging.getLogger(__name__)

#: Seconds a request waits for its session's turn before it goes on without it, and seconds a mark
#: holds the turn: one kept longer is a holder that is gone or stuck, and lapses.
TURN_WAIT_S: Final[float] = 5.0
#: Seconds between two tries at a turn held by another request.
POLL_S: Final[float] = 0.05


class TurnMarks(Protocol):
    """Where each session's turn mark lives: who holds it (a request's random token) until when,
    timed by the keeper's own clock."""

    def claim(self, session_id: str, token: str, hold_s: float) -> bool:
        """Give the turn to ``token`` for ``hold_s`` seconds if nobody holds it (one atomic step);
        whether ``token`` holds it now. Writes nothing while another token holds it."""
        ...

    def holder(self, session_id: str) -> str | None:
        """The token holding the session's turn now, or None (for tests and diagnostics)."""
        ...

    def release(self, session_id: str, token: str) -> None:
        """Drop the mark if ``token`` still holds it (one taken over since stays its new holder's)."""
        ...


class LocalTurnMarks:
    """:class:`TurnMarks` in this process, timed by a monotonic clock; a mark is forgotten as soon as
    it is dropped, and a lapsed one when it is taken over (no growth)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._marks: dict[str, tuple[str, float]] = {}  # session → (token, lapses at)

    def claim(self, session_id: str, token: str, hold_s: float) -> bool:
        with self._lock:
            now = self._clock()
            if self._live(session_id, now) not in (None, token):
                return False
            self._marks[session_id] = (token, now + hold_s)
            return True

    def holder(self, session_id: str) -> str | None:
        with self._lock:
            return self._live(session_id, self._clock())

    def release(self, session_id: str, token: str) -> None:
        with self._lock:
            if self._marks.get(session_id, ("", 0.0))[0] == token:
                del self._marks[session_id]

    def _live(self, session_id: str, now: float) -> str | None:
        token, lapses = self._marks.get(session_id, ("", 0.0))
        return token if token and now < lapses else None

    def __len__(self) -> int:
        return len(self._marks)


@contextmanager
def session_turn(
    marks: TurnMarks,
    session: str,
    *,
    wait_s: float = TURN_WAIT_S,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bool]:
    """Run the block after any other turn of ``session`` (waiting at most ``wait_s``).

    Yields whether the turn was had (False: the wait ran out and the block runs anyway). ``clock``
    counts the wait: monotonic, so a wall clock stepped back cannot stretch it.
    """
    token = secrets.token_hex(8)
    deadline = clock() + wait_s
    held = marks.claim(session, token, wait_s)
    while not held and clock() < deadline:
        sleep(poll_s)
        held = marks.claim(session, token, wait_s)
    try:
        yield held
    finally:
        if held:
            _release(marks, session, token)


def _release(marks: TurnMarks, session: str, token: str) -> None:
    """Drop this request's mark. A shared store that fails now leaves it to lapse after the bound,
    rather than turning an answered request (or its own error) into another error."""
    try:
        marks.release(session, token)
    except MoodtapeError as exc:
        log.warning("a session's list-making turn is left to lapse (%s)", exc)
