"""A small thread-safe map with a size bound and idle expiry, for per-process web state.

The web app keeps three kinds of short-lived state per process: rate-limit buckets per client
address, smoothing state per webcam stream, and each session's latest list (for export). Each must
stay bounded however many clients come and go, so each lives in a :class:`BoundedLRU`: entries are
kept in order of last use, the least recently used one goes when the map is full, and entries
unused for ``max_idle`` seconds are dropped. Every operation is O(1) amortized, except that a
write past the weight bound with owners (below) looks over the owners once. An entry whose
size varies a lot (a session's lists) can also be weighed, and the map kept under a total weight:
a count alone bounds nothing when one entry can be a thousand times another.

A map shared by every visitor must also be fair: evicting the least recently used entry lets one
client that makes thousands of sessions push everybody else's calibration or lists out. So an
entry can record its *owner* (the client address that wrote it, :func:`moodtape.web.owners.
client_owner`), and when the map is full the entry to go is the least recently used one *of the
owner holding the most* (entries, or weight when weighed). Among equals that is plain LRU; a
flood from one address evicts only its own entries while any other owner holds fewer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: An entry's owner when no owner function is given, or it gives None (outside a request).
NOBODY: Hashable = None


class BoundedLRU(Generic[K, V]):
    """At most ``max_size`` entries, each dropped after ``max_idle`` seconds without use.

    Args:
        max_size: the most entries kept; the least recently used one is evicted beyond it.
        max_idle: seconds an entry may go unused before it expires (``0``: never).
        clock: seconds, monotonic; tests pass a fake.
        renew_on_read: whether :meth:`get` counts as use. False makes entries expire ``max_idle``
            after their last *write*, the rule of state that Redis or the database also keep
            (they renew a key's expiry only when it is written), so one process and many agree.
        weigh: an entry's weight (e.g. its approximate bytes), taken when it is stored.
        max_weight: the most total weight kept (``0``: no bound); least recently used entries go
            first, but the entry just stored always stays.
        owner: who is writing (called at each write); when the map is full, the owner holding the
            most gives up its least recently used entry (see the module docstring).
    """

    def __init__(
        self,
        max_size: int,
        max_idle: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        renew_on_read: bool = True,
        weigh: Callable[[V], int] | None = None,
        max_weight: int = 0,
        owner: Callable[[], Hashable] | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self.max_idle = max_idle
        self.max_weight = max_weight
        self._clock = clock
        self._renew_on_read = renew_on_read
        self._weigh = weigh
        self._owner = owner
        self._entries: OrderedDict[K, tuple[V, float, int, Hashable]] = OrderedDict()
        self._weight = 0
        #: Each owner's keys, least recently used first (its oldest entry in O(1); their number is
        #: what the owner holds for the count bound).
        self._owned: dict[Hashable, OrderedDict[K, None]] = {}
        #: Each owner's total weight, for the weight bound.
        self._owner_weight: dict[Hashable, int] = {}
        #: Owners by how many entries they hold, and the most any holds: the count bound's victim
        #: is found without looking over every owner (counts change by one, so this stays O(1)).
        self._by_count: dict[int, dict[Hashable, None]] = {}
        self._top_count = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (marking it used), or None when absent or expired."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            found = self._entries.get(key)
            if found is None:
                return None
            if self._renew_on_read:
                self._entries[key] = (found[0], now, found[2], found[3])
                self._entries.move_to_end(key)
                self._owned[found[3]].move_to_end(key)
            return found[0]

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        """The value for ``key``, made by ``create()`` (under the lock, so only once) when absent."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            found = self._entries.get(key)
            value = create() if found is None else found[0]
            self._store(key, value, now)
            return value

    def update(self, key: K, change: Callable[[V | None], V]) -> V:
        """Set ``key`` to ``change(old value or None)`` under the lock (atomic read-modify-write)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            found = self._entries.get(key)
            value = change(None if found is None else found[0])
            self._store(key, value, now)
            return value

    def put(self, key: K, value: V) -> None:
        """Set ``key`` to ``value`` and mark it used."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            self._store(key, value, now)

    def pop(self, key: K) -> V | None:
        """Remove ``key``; its value, or None when absent or expired."""
        with self._lock:
            self._expire(self._clock())
            if key not in self._entries:
                return None
            return self._drop(key)

    def pop_where(self, match: Callable[[K], bool]) -> int:
        """Remove every entry whose key ``match``es; how many went. Looks over every entry."""
        with self._lock:
            self._expire(self._clock())
            keys = [key for key in self._entries if match(key)]
            for key in keys:
                self._drop(key)
            return len(keys)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._entries)

    @property
    def weight(self) -> int:
        """The total weight of the entries kept (0 without ``weigh``)."""
        with self._lock:
            self._expire(self._clock())
            return self._weight

    def _store(self, key: K, value: V, now: float) -> None:
        weight = self._weigh(value) if self._weigh is not None else 0
        owner = self._owner() if self._owner is not None else NOBODY
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (value, now, weight, owner)
        self._weight += weight
        keys = self._owned.setdefault(owner, OrderedDict())
        keys[key] = None
        self._recount(owner, len(keys) - 1, len(keys))
        self._owner_weight[owner] = self._owner_weight.get(owner, 0) + weight
        while True:
            if len(self._entries) > self.max_size:
                self._drop(self._victim(spare=key, by_weight=False))
            elif self.max_weight and self._weight > self.max_weight and len(self._entries) > 1:
                self._drop(self._victim(spare=key, by_weight=True))
            else:
                break

    def _victim(self, spare: K, *, by_weight: bool) -> K:
        """The least recently used entry of the owner holding the most (entries, or weight for the
        weight bound), never ``spare``, the entry just stored."""
        top: Collection[Hashable]
        if by_weight:  # weights vary freely: look over the owners (only ever past the weight bound)
            spare_owner = self._entries[spare][3]
            weights = {
                o: weight for o, weight in self._owner_weight.items() if o != spare_owner or len(self._owned[o]) > 1
            }
            most = max(weights.values())
            top = {owner for owner, weight in weights.items() if weight == most}
        else:
            top = self._by_count[self._top_count]  # kept up to date: no owner is looked over
        if len(top) == 1:  # a flood: its owner's oldest entry, without walking everyone else's
            (owner,) = top
            found = next((key for key in self._owned[owner] if key != spare), None)
            if found is not None:
                return found
        # Owners holding as much: plain LRU among them (the oldest entry is usually theirs).
        found = next((key for key, entry in self._entries.items() if key != spare and entry[3] in top), None)
        return found if found is not None else next(key for key in self._entries if key != spare)

    def _recount(self, owner: Hashable, old: int, new: int) -> None:
        """Move ``owner`` from the owners holding ``old`` entries to those holding ``new``."""
        if old:
            bucket = self._by_count[old]
            del bucket[owner]
            if not bucket:
                del self._by_count[old]
        if new:
            self._by_count.setdefault(new, {})[owner] = None
        self._top_count = max(self._top_count, new)
        while self._top_count and self._top_count not in self._by_count:
            self._top_count -= 1

    def _drop(self, key: K) -> V:
        value, _, weight, owner = self._entries.pop(key)
        self._weight -= weight
        keys = self._owned[owner]
        del keys[key]
        self._recount(owner, len(keys) + 1, len(keys))
        self._owner_weight[owner] -= weight
        if not keys:
            del self._owned[owner], self._owner_weight[owner]
        return value

    def _expire(self, now: float) -> None:
        # Entries are in order of last use, so the expired ones are all at the front.
        if self.max_idle <= 0:
            return
        while self._entries:
            key, (_, last_used, _, _) = next(iter(self._entries.items()))
            if now - last_used <= self.max_idle:
                break
            self._drop(key)
