"""Which gunicorn workers of this instance serve with their model loaded: one shared byte per worker.

A replacement worker (gunicorn forks one when a worker dies) reads it to decide whether it may take
connections while its model loads (``web/gunicorn_worker.py``); the master keeps the slots
(``web/multiprocess.py``).
"""

from __future__ import annotations

import mmap
from typing import Final


class WorkerBoard:
    """Which workers of this instance serve with their model loaded: one byte per worker, shared by all.

    An anonymous ``mmap`` made by the master before it forks is shared (not copied) with every
    worker, replacements included, like the drain mark (``web/draining.py``). Each worker owns one
    slot: the master hands it out before the fork (:meth:`claim`) and takes it back once the worker
    has exited (:meth:`release`, from gunicorn's ``child_exit``: so a worker killed with SIGKILL,
    which cannot say anything, is no longer counted); in between only that worker writes it. So no
    lock is needed, and none can be left held by a killed process.
    """

    FREE: Final = 0
    #: Claimed by a worker that does not serve with its model (yet, or any more).
    WAITING: Final = 1
    READY: Final = 2
    SLOTS: Final = mmap.PAGESIZE  # far more workers than a machine runs (TTIN adds some)

    def __init__(self) -> None:
        self._bytes = mmap.mmap(-1, self.SLOTS)

    def claim(self) -> int | None:
        """In the master, before a fork: a free slot for the new worker (None if all are taken)."""
        for slot in range(self.SLOTS):
            if self._bytes[slot] == self.FREE:
                self._bytes[slot] = self.WAITING
                return slot
        return None

    def release(self, slot: int | None) -> None:
        """In the master, once the worker of ``slot`` has exited."""
        if slot is not None:
            self._bytes[slot] = self.FREE

    def mark(self, slot: int | None, *, ready: bool) -> None:
        """In the worker of ``slot``: it serves with its model now, or it stopped serving."""
        if slot is not None:
            self._bytes[slot] = self.READY if ready else self.WAITING

    def another_ready(self, slot: int | None) -> bool:
        """Whether a worker other than the one of ``slot`` serves with its model loaded."""
        found = self._bytes.find(bytes([self.READY]))
        if found == slot and slot is not None:
            found = self._bytes.find(bytes([self.READY]), slot + 1)
        return found >= 0
