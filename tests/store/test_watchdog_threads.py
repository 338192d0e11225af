"""The PostgreSQL connection watchdog's own threading: one watcher per process, nothing lost.

A review found that threads arming a fresh watchdog at the same moment could each start a watcher
and each replace its lock and table: arms were lost, two watchers ran, ``arm`` raised
``RuntimeError: cannot notify on un-acquired lock`` (inside the pool's checkout: a 500), and a
watcher could die of "dictionary changed size during iteration", leaving the process unwatched.
No database is needed: the watchdog sees connections as objects.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from moodtape.store.database import ConnectionWatchdog

WATCHER = "moodtape-db-watchdog"


def watchers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == WATCHER}


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so that races show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def stop(watchdog: ConnectionWatchdog) -> None:
    watchdog._pid = -2  # its watcher's loop ends at the next wake
    with watchdog._changed:
        watchdog._changed.notify_all()


def test_threads_arming_a_fresh_watchdog_at_once_start_one_watcher_and_lose_nothing(busy_switching: None) -> None:
    failures: list[BaseException] = []
    for _ in range(60):
        watchdog = ConnectionWatchdog()
        connections = [object() for _ in range(8)]
        barrier = threading.Barrier(len(connections))

        def arm(
            connection: object, watchdog: ConnectionWatchdog = watchdog, barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            try:
                watchdog.arm(connection, 100.0)
            except BaseException as error:  # any error here is the finding
                failures.append(error)

        before = watchers()
        threads = [threading.Thread(target=arm, args=(connection,)) for connection in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert not failures, failures
            assert len(watchdog._armed) == len(connections), "an arm was lost"
            assert len(watchers() - before) == 1, "not one watcher started"
        finally:
            stop(watchdog)


def test_a_late_connection_is_shut_once_and_the_watcher_lives_on() -> None:
    shut: list[object] = []

    class Connection:
        closed = False

    watchdog = ConnectionWatchdog()
    watchdog._close = lambda connection, seconds: shut.append(connection)  # type: ignore[method-assign]
    try:
        first, second = Connection(), Connection()
        watchdog.arm(first, 0.05)
        deadline = threading.Event()
        deadline.wait(0.5)
        assert shut == [first]
        watchdog.arm(second, 0.05)
        watchdog.disarm(second)  # finished in time: never shut
        deadline.wait(0.3)
        assert shut == [first]
        assert watchers()
    finally:
        stop(watchdog)
