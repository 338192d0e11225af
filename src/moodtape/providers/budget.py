"""Counting YouTube search calls per UTC day, so moodtape stays inside the small search allowance.

YouTube's search.list has its own allowance (100 calls a day since 2026-06-01, see docs/providers.md).
:class:`MemoryBudgetStore` counts within one process; :class:`FileBudgetStore` keeps the count in a
small JSON file so that several workers on one machine share it (the registry uses it).

A call is counted once YouTube has answered it (a failed connection costs nothing), so threads
racing past the check may overshoot the budget by a call or two: the default budget (90) leaves
YouTube's 100 a margin for that.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


def utc_day(timestamp: float) -> str:
    """The UTC calendar day of a Unix timestamp, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


class BudgetStore(Protocol):
    """Where the day's count of search calls lives."""

    def used(self, day: str) -> int:
        """Calls counted on ``day``."""
        ...

    def spend(self, day: str) -> None:
        """Count one call on ``day``."""
        ...

    def exhaust(self, day: str, limit: int) -> None:
        """Mark ``day`` as spent (YouTube said the allowance is used up)."""
        ...


class MemoryBudgetStore:
    """Counts in memory: right for one process, and for tests."""

    def __init__(self) -> None:
        self._day = ""
        self._used = 0
        self._lock = threading.Lock()

    def used(self, day: str) -> int:
        with self._lock:
            return self._used if day == self._day else 0

    def spend(self, day: str) -> None:
        with self._lock:
            if day != self._day:
                self._day, self._used = day, 0
            self._used += 1

    def exhaust(self, day: str, limit: int) -> None:
        with self._lock:
            self._day, self._used = day, max(limit, self._used if day == self._day else 0)


class FileBudgetStore:
    """Counts in a JSON file ``{"day": "YYYY-MM-DD", "used": n}``, shared by processes on one machine.

    The file is created on the first spend, not before. Writes go through a temporary file and
    ``os.replace`` so a crash never leaves half a file; on POSIX an ``flock`` serialises processes.
    An unreadable file counts as zero for the day rather than blocking YouTube for good.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> tuple[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return str(data["day"]), int(data["used"])
        except (OSError, ValueError, KeyError, TypeError):
            return "", 0

    def _write(self, day: str, used: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"day": day, "used": used}), encoding="utf-8")
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

    def used(self, day: str) -> int:
        stored_day, used = self._read()
        return used if stored_day == day else 0

    def spend(self, day: str) -> None:
        with self._locked():
            self._write(day, self.used(day) + 1)

    def exhaust(self, day: str, limit: int) -> None:
        with self._locked():
            self._write(day, max(limit, self.used(day)))
