"""One lock for the threads of every process forked after it was made, even one killed holding it.

The tables that ``serve --processes N``'s workers share in anonymous memory (the rate limit's counts,
``web/ratelimit_processes.py``; live services' pauses, ``state/process_pauses.py``) change under it.
It is a POSIX record lock on a temporary file (``lockf``), which the kernel gives up when its
process dies (``kill -9`` included), so a worker killed mid-change never blocks the others, taken
after a thread lock that orders the threads of one process (a record lock does not: it belongs to
the process). A fork copies that thread lock as it was, maybe taken by a thread the child does not
have, so each child renews the thread locks of every live :class:`ProcessLock`: one at-fork hook
for the module over a weak set (before, each lock registered a hook of its own, which Python
never removes: they piled up, and every fork ran them all).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager


class ProcessLock:
    """Held by one thread of one process at a time, among the processes forked after it was made."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (held open for the lock's life)
        self._threads = threading.Lock()
        _LIVE.add(self)  # its thread lock renewed in each child (_renew_thread_locks)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fcntl.lockf(self._file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._file, fcntl.LOCK_UN)


#: Every ProcessLock still in use; one gone is dropped by the set itself.
_LIVE: weakref.WeakSet[ProcessLock] = weakref.WeakSet()


def _renew_thread_locks() -> None:
    """In a child just forked: a fresh thread lock for each live ProcessLock (the record lock is
    not copied by a fork, so only the thread lock needs it)."""
    for lock in list(_LIVE):
        lock._threads = threading.Lock()


os.register_at_fork(after_in_child=_renew_thread_locks)
