"""The rate limit's counts without Redis: in this process, or shared by ``serve --processes N``'s workers.

gunicorn hands each connection to any worker, so counts kept in each worker's memory let a client
through N times the limit (measured with ``--processes 3`` and a limit of 30 a second: 65 of 90
requests answered within 0.9 s, against 30 with Redis). :class:`LocalStorage` is what
Flask-Limiter is given when there is no ``MOODTAPE_REDIS_URL``: Flask-Limiter's
``MemoryStorage``, as before, until ``serve --processes N`` calls
:meth:`LocalStorage.share_between_processes` before forking; from then on the counts live in one
table of anonymous shared memory (:class:`SharedWindowCounts`) that every worker inherits, so a
client gets ``MOODTAPE_RATE_LIMIT`` requests a second from all the workers together, as with Redis.

The table is bounded (:data:`SLOTS` clients at once, a few probes each): a client whose slot is
taken over by another, after every nearby slot was used within the window, starts its count
afresh, as a client that Redis evicted would. Each change takes a
:class:`~moodtape.state.process_lock.ProcessLock`, which a worker killed mid-count (``kill -9``
included) does not keep.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import struct
import time
from collections.abc import Callable
from typing import Final

from limits.storage import MemoryStorage, SlidingWindowCounterSupport, Storage

from moodtape.state.process_lock import ProcessLock

#: Clients counted at once; the table takes ``SLOTS`` × 40 bytes (1.3 MiB), allocated only by
#: ``serve --processes N``.
SLOTS: Final[int] = 32768
#: Slots looked at for a key before the oldest of them is taken over.
PROBES: Final[int] = 16
#: One slot: the key's hash (0: empty), the window's length (s), its index, the counts of that
#: window and the one before it.
_SLOT: Final = struct.Struct("<Qqqqq")


def _digest(key: str, expiry: int) -> int:
    """A stable 64-bit hash of a key and its window (never 0, the empty slot's mark); the same in
    every process, unlike :func:`hash` under another seed."""
    value = int.from_bytes(hashlib.blake2b(f"{expiry}:{key}".encode(), digest_size=8).digest(), "little")
    return value or 1


class SharedWindowCounts:
    """Sliding-window counts in memory shared by the processes forked after it was made."""

    def __init__(self, slots: int = SLOTS, clock: Callable[[], float] = time.time) -> None:
        self._slots = slots
        self._memory = mmap.mmap(-1, slots * _SLOT.size)  # anonymous and MAP_SHARED: one table for every fork
        self._clock = clock
        self._lock = ProcessLock()

    def _slot(self, digest: int) -> int:
        """The slot of ``digest``: its own, else an empty one, else the one least recently counted."""
        start = digest % self._slots
        oldest, oldest_window = start, math.inf
        for step in range(PROBES):
            index = (start + step) % self._slots
            found, _, window, _, _ = _SLOT.unpack_from(self._memory, index * _SLOT.size)
            if found in (digest, 0):
                return index
            if window < oldest_window:
                oldest, oldest_window = index, window
        return oldest

    def _read(self, key: str, expiry: int, now: float) -> tuple[int, int, int, int]:
        """The slot of ``key`` and its (window, previous, current) counts, moved on to ``now``'s window."""
        digest, window = _digest(key, expiry), int(now // expiry)
        index = self._slot(digest)
        found, _, at, current, previous = _SLOT.unpack_from(self._memory, index * _SLOT.size)
        if found != digest or at < window - 1:
            previous = current = 0
        elif at == window - 1:
            previous, current = current, 0
        return index, window, previous, current

    def _write(self, index: int, key: str, expiry: int, window: int, previous: int, current: int) -> None:
        _SLOT.pack_into(self._memory, index * _SLOT.size, _digest(key, expiry), expiry, window, current, previous)

    def acquire(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """One hit of ``key`` unless it would pass ``limit`` in the sliding window of ``expiry``
        seconds (Flask-Limiter's weighting: the previous window counts for the part of it still
        inside the last ``expiry`` seconds)."""
        if amount > limit:
            return False
        now = self._clock()
        with self._lock.held():
            index, window, previous, current = self._read(key, expiry, now)
            weight = 1 - (now / expiry) % 1
            if math.floor(previous * weight + current) + amount > limit:
                return False
            self._write(index, key, expiry, window, previous, current + amount)
        return True

    def window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """``(previous count, its ttl, current count, its ttl)`` as Flask-Limiter's storages say it."""
        now = self._clock()
        with self._lock.held():
            _, _, previous, current = self._read(key, expiry, now)
        left = 1 - (now / expiry) % 1
        return previous, (left * expiry if previous else 0.0), current, left * expiry + expiry

    def clear(self, key: str, expiry: int) -> None:
        now = self._clock()
        with self._lock.held():
            index, window, _, _ = self._read(key, expiry, now)
            self._write(index, key, expiry, window, 0, 0)

    def reset(self) -> None:
        with self._lock.held():
            self._memory[:] = bytes(len(self._memory))


class LocalStorage(Storage, SlidingWindowCounterSupport):
    """The limit's counts without Redis: Flask-Limiter's ``MemoryStorage`` until
    :meth:`share_between_processes`, then :class:`SharedWindowCounts` (the sliding window counter,
    the strategy moodtape uses; the other calls stay in memory, as nothing here makes them)."""

    STORAGE_SCHEME = ["moodtape-local"]  # noqa: RUF012 (limits' own annotation)

    def __init__(self, uri: str = "moodtape-local://", wrap_exceptions: bool = False, **_: object) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._memory = MemoryStorage()
        self._shared: SharedWindowCounts | None = None

    def share_between_processes(self, counts: SharedWindowCounts | None = None) -> None:
        """Count in memory every process forked from now on shares: call it before forking."""
        self._shared = counts or SharedWindowCounts()

    @property
    def shared(self) -> bool:
        return self._shared is not None

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if self._shared is None:
            return self._memory.acquire_sliding_window_entry(key, limit, expiry, amount)
        return self._shared.acquire(key, limit, expiry, amount)

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        if self._shared is None:
            return self._memory.get_sliding_window(key, expiry)
        return self._shared.window(key, expiry)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        if self._shared is None:
            self._memory.clear_sliding_window(key, expiry)
        else:
            self._shared.clear(key, expiry)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._memory.incr(key, expiry, amount)

    def get(self, key: str) -> int:
        return self._memory.get(key)

    def get_expiry(self, key: str) -> float:
        return self._memory.get_expiry(key)

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        if self._shared is not None:
            self._shared.reset()
        return self._memory.reset()

    def clear(self, key: str) -> None:
        self._memory.clear(key)


def share_limit_between_processes(limiters: object) -> bool:
    """Have the rate limit of an app (its ``app.extensions["limiter"]``) count for every process
    forked from now on; False when it is not counted here (Redis, or no limit at all)."""
    shared = False
    for limiter in limiters if isinstance(limiters, set) else ():
        storage = getattr(limiter, "storage", None)
        if isinstance(storage, LocalStorage):
            storage.share_between_processes()
            shared = True
    return shared
