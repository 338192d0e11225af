"""Counting YouTube search calls per quota day, so moodtape stays inside the small search allowance.

YouTube's quota day runs from midnight to midnight Pacific time, which is where its counters reset
(Google's quota documentation): counting per UTC day instead spent up to twice the day's searches
(the budget again from 00:00 UTC, seven or eight hours before YouTube's reset) and, after a
``quotaExceeded``, blocked YouTube until the next UTC midnight, most of YouTube's next day.

YouTube's search.list has its own allowance (100 calls a day since 2026-06-01, see docs/providers.md).
:class:`MemoryBudgetStore` counts within one process; :class:`FileBudgetStore` keeps the count in a
small JSON file so that several workers on one machine share it (the registry uses it);
``moodtape.state.budget.RedisBudgetStore`` shares it between machines.

A search is *reserved* before it is sent: the check and the count are one atomic step, so threads
and instances racing for the last searches of the day cannot overshoot the budget. A reservation
is *released* again when the call never reached YouTube (a failed connection costs nothing).

The store also remembers a day on which YouTube said the whole project's units are spent
(``close_day``): from then on every instance stops calling, charts too, until the next quota day,
instead of each process finding out with a failing call of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol
from zoneinfo import ZoneInfo

#: Where YouTube's quota day begins and ends (its counters reset at midnight Pacific time). The
#: ``tzdata`` dependency supplies the zone where the system has no time-zone database.
QUOTA_ZONE: Final = ZoneInfo("America/Los_Angeles")


def quota_day(timestamp: float) -> str:
    """YouTube's quota day of a Unix timestamp (the Pacific-time calendar day), as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(timestamp, tz=QUOTA_ZONE).strftime("%Y-%m-%d")


class BudgetStore(Protocol):
    """Where the day's count of search calls lives, and whether YouTube closed the day."""

    def used(self, day: str) -> int:
        """Calls counted on ``day``."""
        ...

    def reserve(self, day: str, limit: int) -> bool:
        """Count one call on ``day`` if fewer than ``limit`` are counted; whether it was counted."""
        ...

    def release(self, day: str) -> None:
        """Take back one call reserved on ``day`` that never reached YouTube."""
        ...

    def exhaust(self, day: str, limit: int) -> None:
        """Mark ``day``'s searches as spent (YouTube said the search allowance is used up)."""
        ...

    def close_day(self, day: str) -> None:
        """Remember that YouTube said the project's units are spent on ``day``: no call until the next."""
        ...

    def closed(self, day: str) -> bool:
        """Whether ``close_day(day)`` was called, by this instance or another."""
        ...


@dataclass
class _Day:
    """One quota day's standing: searches counted, and whether the project's units are spent."""

    day: str = ""
    used: int = 0
    closed: bool = False

    def on(self, day: str) -> _Day:
        """This standing if it is ``day``'s, else a fresh one for ``day`` (a new day starts at 0)."""
        return self if self.day == day else _Day(day)

    def reserve(self, limit: int) -> bool:
        if self.used >= limit:
            return False
        self.used += 1
        return True

    def release(self) -> None:
        self.used = max(0, self.used - 1)


class _DayStandingStore:
    """``reserve``, ``exhaust`` and ``close_day`` written once, over ``_today``: one quota day's
    standing read and written back under the store's lock (a read-modify-write)."""

    def _today(self, day: str) -> contextlib.AbstractContextManager[_Day]:
        raise NotImplementedError

    def reserve(self, day: str, limit: int) -> bool:
        with self._today(day) as state:
            return state.reserve(limit)

    def exhaust(self, day: str, limit: int) -> None:
        with self._today(day) as state:
            state.used = max(limit, state.used)

    def close_day(self, day: str) -> None:
        with self._today(day) as state:
            state.closed = True


class MemoryBudgetStore(_DayStandingStore):
    """Counts in memory: right for one process, and for tests."""

    def __init__(self) -> None:
        self._state = _Day()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _today(self, day: str) -> Iterator[_Day]:
        with self._lock:
            self._state = self._state.on(day)
            yield self._state

    def used(self, day: str) -> int:
        with self._lock:
            return self._state.on(day).used

    def release(self, day: str) -> None:
        with self._lock:
            if self._state.day == day:  # a reservation from a day gone by has nothing left to give back
                self._state.release()

    def closed(self, day: str) -> bool:
        with self._lock:
            return self._state.on(day).closed


class FileBudgetStore(_DayStandingStore):
    """Counts in a JSON file ``{"day": "YYYY-MM-DD", "used": n, "closed": bool}``, shared by processes on one machine.

    The file is created on the first reservation, not before. Writes go through a temporary file and
    ``os.replace`` so a crash never leaves half a file; on POSIX an ``flock`` serialises processes.
    An unreadable file counts as zero for the day rather than blocking YouTube for good.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> _Day:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return _Day(str(data["day"]), int(data["used"]), bool(data.get("closed", False)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return _Day()

    def _write(self, state: _Day) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"day": state.day, "used": state.used, "closed": state.closed}), encoding="utf-8")
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path.with_suffix(".lock"), "a+") as handle:
            try:
                import fcntl  # POSIX only; elsewhere the thread lock alone guards one process.

                fcntl.flock(handle, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows
                pass
            yield

    @contextlib.contextmanager
    def _today(self, day: str) -> Iterator[_Day]:
        """``day``'s standing, read and written back under the locks (one read-modify-write)."""
        with self._locked():
            state = self._read().on(day)
            yield state
            self._write(state)

    def used(self, day: str) -> int:
        return self._read().on(day).used

    def release(self, day: str) -> None:
        with self._locked():
            state = self._read()
            if state.day == day:  # a reservation from a day gone by has nothing left to give back
                state.release()
                self._write(state)

    def closed(self, day: str) -> bool:
        return self._read().on(day).closed
