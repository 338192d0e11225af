"""Live services' pauses shared by the workers of ``moodtape serve --processes N``, without Redis.

A service that said "not so often" (a 429) or "not with this key" (refused credentials) said it to
the instance, not to the worker process that happened to ask: before, worker 2 of ``--processes
3`` asked Spotify again while worker 1 knew it was paused, and so did worker 3 (one more call per
worker, each meeting its own 429). ``serve --processes N`` makes a :class:`PauseTable` before it
forks (``web/multiprocess.py``); each worker's providers keep their pauses in it as well as in their
own breaker (:class:`~moodtape.providers.http.ServiceClient`), and read it before each call. The
rules are those of the pauses shared through Redis (``state/pauses.py``): only the kinds in
:data:`~moodtape.state.pauses.SHARED_KINDS` (a connection failure or a 5xx stays the process's
own), and a shorter pause never replaces a longer one; a refusal of the caller (a key's IP
address restriction: :data:`~moodtape.state.pauses.MACHINE_KINDS`) is kept here though Redis never
holds it, as the workers of one machine share its address. Keyed by service only: the workers of one
``serve`` hold the same settings, so the same credentials.

The table is a few slots of anonymous shared memory, each changed under a
:class:`~moodtape.state.process_lock.ProcessLock`. Its times are ``time.monotonic``, one clock for
every process of the machine, so a wall clock stepped back does not stretch a pause.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
import time
from collections.abc import Callable
from typing import Final

from moodtape.errors import ProviderError
from moodtape.state.pauses import SHARED_KINDS, SharedPause, shared_kind_name
from moodtape.state.process_lock import ProcessLock

#: Services paused at once: four live services, with room to spare.
SLOTS: Final = 16
#: The visitor's reason is kept up to this many bytes of UTF-8 (moodtape's sentences are far shorter).
REASON_BYTES: Final = 480
#: One slot: the service's hash (0: empty), when its pause ends (monotonic seconds), the kind's
#: number in :data:`SHARED_KINDS` (from 1), the reason's length and its bytes.
_SLOT: Final = struct.Struct(f"<QdBH{REASON_BYTES}s")
_KINDS: Final = tuple(SHARED_KINDS)


def _digest(service: str) -> int:
    """A stable 64-bit name for ``service`` (never 0, the empty slot's mark), the same in every process."""
    value = int.from_bytes(hashlib.blake2b(service.lower().encode(), digest_size=8).digest(), "little")
    return value or 1


def _reason_bytes(reason: str) -> bytes:
    """``reason`` in UTF-8, cut to :data:`REASON_BYTES` at a character's boundary."""
    return reason.encode()[:REASON_BYTES].decode(errors="ignore").encode()


class PauseTable:
    """The pauses of live services, in memory shared by the processes forked after it was made.

    Has the ``get``/``put`` of :class:`~moodtape.providers.http.SharedPauses`; neither raises.
    """

    def __init__(self, slots: int = SLOTS, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = slots
        self._memory = mmap.mmap(-1, slots * _SLOT.size)  # anonymous and MAP_SHARED: one table for every fork
        self._clock = clock
        self._lock = ProcessLock()

    def _unpack(self, index: int) -> tuple[int, float, int, int, bytes]:
        found, until, kind, length, reason = _SLOT.unpack_from(self._memory, index * _SLOT.size)
        return found, until, kind, length, reason

    def _slot(self, digest: int) -> int:
        """The slot of ``digest``: its own, else the one whose pause ends soonest (an empty or ended one first)."""
        soonest, soonest_until = 0, float("inf")
        for index in range(self._slots):
            found, until, _, _, _ = self._unpack(index)
            if found == digest:
                return index
            if until < soonest_until:
                soonest, soonest_until = index, until
        return soonest  # an empty slot ends at 0.0, before any pause

    def get(self, service: str) -> SharedPause | None:
        """The pause of ``service`` in force now, or None."""
        digest, now = _digest(service), self._clock()
        with self._lock.held():
            found, until, kind, length, reason = self._unpack(self._slot(digest))
        if found != digest or until <= now or not 0 < kind <= len(_KINDS):
            return None
        return SharedPause(reason[:length].decode(errors="replace"), SHARED_KINDS[_KINDS[kind - 1]], until - now)

    def put(self, service: str, reason: str, kind: type[ProviderError], seconds: float) -> None:
        """Pause ``service`` for ``seconds`` in every process, unless a pause at least as long is in
        force (it stays); kinds not in :data:`SHARED_KINDS` stay the calling process's own."""
        name = shared_kind_name(kind)
        if name is None or seconds <= 0:
            return
        digest, now = _digest(service), self._clock()
        text = _reason_bytes(reason)
        with self._lock.held():
            index = self._slot(digest)
            found, until, _, _, _ = self._unpack(index)
            if found == digest and until >= now + seconds:
                return
            _SLOT.pack_into(
                self._memory, index * _SLOT.size, digest, now + seconds, _KINDS.index(name) + 1, len(text), text
            )
