"""Each ProcessLock renews its thread lock in a forked child through one hook for the module.

Before (a review of session 36), every ProcessLock registered an ``os.register_at_fork`` hook of
its own, which Python never removes: 2000 locks made, 2000 hooks run at every later fork, though
the locks were long gone. Now there is one hook, over a weak set of the locks still alive.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

import pytest

from moodtape.state import process_lock
from moodtape.state.process_lock import ProcessLock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")


def test_a_new_lock_registers_no_hook_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks: list[object] = []
    monkeypatch.setattr(os, "register_at_fork", lambda **hook: hooks.append(hook))
    locks = [ProcessLock() for _ in range(50)]
    assert hooks == []  # before: 50, one per lock, for the process's life
    assert all(lock in process_lock._LIVE for lock in locks)


def test_a_lock_gone_is_not_renewed_in_children() -> None:
    gc.collect()  # other tests' locks gone first
    before = len(process_lock._LIVE)
    lock = ProcessLock()
    assert len(process_lock._LIVE) == before + 1
    del lock
    gc.collect()
    assert len(process_lock._LIVE) == before


def test_a_child_forked_while_a_thread_held_the_lock_can_take_it() -> None:
    lock, held, release = ProcessLock(), threading.Event(), threading.Event()

    def holder() -> None:
        with lock.held():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    try:
        child = os.fork()
        if child == 0:  # the thread lock copied taken, by a thread this child does not have
            os._exit(0 if lock._threads.acquire(blocking=False) else 1)
        _, status = os.waitpid(child, 0)
    finally:
        release.set()
        thread.join()
    assert os.waitstatus_to_exitcode(status) == 0
