"""``moodtape serve --processes N`` without Redis: one rate limit for all the workers, not one each.

Measured before (``--processes 3``, ``MOODTAPE_RATE_LIMIT=30``, 90 requests from one address, 8 at
a time): 65 of the 90 answered within 0.9 s, each worker counting its own window; with Redis, 30.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from moodtape.web.ratelimit_processes import LocalStorage, SharedWindowCounts
from services import free_port, start_serve, wait_ready

NOW = 1_000.25  # a quarter into a one-second window
#: The window of MOODTAPE_RATE_LIMIT=0.1: one request per 10 s (Flask-Limiter's windows start at multiples of it).
WINDOW_S = 10


def _hit_three_times(counts: SharedWindowCounts) -> None:
    for _ in range(3):
        assert counts.acquire("moodtape/127.0.0.1", 5, 1)


@pytest.mark.skipif(sys.platform == "win32", reason="fork and lockf are POSIX")
def test_a_forked_process_counts_in_the_same_window() -> None:
    storage = LocalStorage()
    storage.share_between_processes(SharedWindowCounts(slots=64, clock=lambda: NOW))
    assert storage.shared
    child = multiprocessing.get_context("fork").Process(target=_hit_three_times, args=(storage._shared,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    allowed = [storage.acquire_sliding_window_entry("moodtape/127.0.0.1", 5, 1) for _ in range(4)]
    assert allowed == [True, True, False, False]  # 3 counted by the child, 2 left of 5
    previous, _, current, _ = storage.get_sliding_window("moodtape/127.0.0.1", 1)
    assert (previous, current) == (0, 5)


def test_the_previous_window_weighs_as_flask_limiters_memory_does() -> None:
    now = [NOW]
    counts = SharedWindowCounts(slots=64, clock=lambda: now[0])
    assert all(counts.acquire("k", 4, 1) for _ in range(4))
    now[0] += 1.0  # the next window, a quarter in: 3 of the 4 earlier hits still count
    assert [counts.acquire("k", 4, 1) for _ in range(2)] == [True, False]
    counts.clear("k", 1)
    assert counts.acquire("k", 4, 1)


def test_one_process_counts_in_its_own_memory_as_before() -> None:
    storage = LocalStorage()
    assert not storage.shared
    assert [storage.acquire_sliding_window_entry("k", 1, 10) for _ in range(2)] == [True, False]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs only on POSIX")
def test_three_processes_give_a_client_the_limit_once(tmp_path: Path) -> None:
    port = free_port()
    # One request per 10 s: every request below lands within one window, whichever worker takes it.
    settings = {"MOODTAPE_THREADS": "1", "MOODTAPE_RATE_LIMIT": "0.1"}
    process = start_serve(tmp_path, port, "--processes", "3", settings=settings, log=tmp_path / "serve.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, 90)
        if time.time() % WINDOW_S > 2:  # start early in a window: one that ends lets a hit through again
            time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.05)
        window = time.time() // WINDOW_S

        def ask(_: int) -> int:  # a connection of its own each time: any worker may take it
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                return client.get("/api/openapi.yaml").status_code

        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(ask, range(18)))
        if time.time() // WINDOW_S != window:
            pytest.skip("18 requests outlasted a 10 s window: this machine is too busy to judge it")
        assert sorted(statuses) == [200] + [429] * 17, statuses
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
