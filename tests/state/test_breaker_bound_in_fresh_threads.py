"""A breaker built in a thread that has only just started gets the same bound as anywhere else.

Such a thread reads ``0 0 0`` from ``/proc/thread-self/schedstat`` until the kernel first accounts
its time, which is also what a kernel without scheduler statistics writes: ``RedisBreaker()`` there
took the run-queue delay for unreadable and set itself the 0.75 s wall-time bound. Measured: 141 of
200 breakers built at once in fresh threads had 0.75 s, not 0.25 s, and 137 of 200 built in the first
thread of a process just forked, where the process's own file reads ``0 0 0`` too (state/breaker.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from moodtape.state import breaker
from moodtape.state.breaker import SLOW_CALL_S, SLOW_CALL_UNMEASURED_S, RedisBreaker, run_queue_seconds

linux_only = pytest.mark.skipif(run_queue_seconds() is None, reason="a thread's run-queue delay is read on Linux only")


def _in_fresh_threads(build: int) -> list[float]:
    bounds: list[float] = []

    def build_one() -> None:
        bounds.append(RedisBreaker().slow_s)

    for _ in range(build):
        thread = threading.Thread(target=build_one)
        thread.start()
        thread.join()
    return bounds


@linux_only
def test_a_breaker_built_in_a_fresh_thread_has_the_measured_bound() -> None:
    assert set(_in_fresh_threads(100)) == {SLOW_CALL_S}


@linux_only
def test_a_fresh_thread_reads_a_run_queue_delay_not_none() -> None:
    """Read as None, its first Redis call was measured by wall time (nothing taken out)."""
    delays: list[float | None] = []
    for _ in range(50):
        thread = threading.Thread(target=lambda: delays.append(run_queue_seconds()))
        thread.start()
        thread.join()
    assert None not in delays


@pytest.fixture
def schedstat_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Fake ``/proc/thread-self/schedstat`` and ``/proc/self/schedstat``, nothing yet known of the kernel."""
    thread, process = tmp_path / "thread-schedstat", tmp_path / "process-schedstat"
    monkeypatch.setattr(breaker, "_SCHEDSTAT", str(thread))
    monkeypatch.setattr(breaker, "_PROCESS_SCHEDSTAT", str(process))
    monkeypatch.setattr(breaker, "_keeps_stats", None, raising=False)
    return thread, process


def _yields(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None] = lambda: None) -> list[int]:
    """Count ``os.sched_yield`` calls, doing ``then`` at each (the kernel accounting the thread)."""
    yields: list[int] = []

    def sched_yield() -> None:
        yields.append(1)
        then()

    monkeypatch.setattr(os, "sched_yield", sched_yield)
    return yields


def test_a_thread_not_yet_accounted_in_a_process_that_ran(
    schedstat_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, process = schedstat_files
    thread.write_bytes(b"0 0 0\n")
    process.write_bytes(b"5 1 1\n")
    yields = _yields(monkeypatch)
    assert run_queue_seconds() == 0.0  # the kernel keeps them: nothing waited yet, not "unreadable"
    assert yields == []


def test_the_first_thread_of_a_process_just_forked(
    schedstat_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both files read ``0 0 0`` (the same thread); after giving up its CPU once, it is accounted."""
    thread, process = schedstat_files
    thread.write_bytes(b"0 0 0\n")
    process.write_bytes(b"0 0 0\n")
    yields = _yields(monkeypatch, then=lambda: thread.write_bytes(b"41000 3000000 1\n"))
    assert run_queue_seconds() == 0.003  # before: None, and a breaker built there had 0.75 s
    assert RedisBreaker().slow_s == SLOW_CALL_S
    assert yields == [1]


def test_a_kernel_that_keeps_no_statistics_is_asked_once(
    schedstat_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, process = schedstat_files
    thread.write_bytes(b"0 0 0\n")
    process.write_bytes(b"0 0 0\n")
    yields = _yields(monkeypatch)
    assert [run_queue_seconds() for _ in range(3)] == [None] * 3
    assert RedisBreaker().slow_s == SLOW_CALL_UNMEASURED_S
    assert yields == [1]  # not a yield before every Redis call


def test_once_a_thread_was_accounted_no_other_yields(
    schedstat_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, process = schedstat_files
    thread.write_bytes(b"9000 2000 3\n")
    process.write_bytes(b"0 0 0\n")
    yields = _yields(monkeypatch)
    assert run_queue_seconds() == 2e-6
    thread.write_bytes(b"0 0 0\n")  # another thread, started a moment ago
    assert run_queue_seconds() == 0.0
    assert yields == []
