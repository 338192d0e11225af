"""fetch_once, the single-flight helper: one call for simultaneous misses, and what happens when the
holder fails, dies or is slow. The providers using it: test_single_flight.py; across instances
(Redis claims): tests/state/test_cache_claims.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from moodtape.errors import ProviderError
from moodtape.providers.http import TTLCache, fetch_once

#: How long a fetch takes: long enough that simultaneous callers overlap.
SLOW = 0.3
#: A bound no healthy run comes near, for the waits that must end.
GENEROUS = 15.0


class Counted:
    """A fetch that takes ``SLOW`` seconds and counts its calls; ``fail_first`` makes the first raise."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            number = self.calls
        time.sleep(SLOW)
        if self.fail_first and number == 1:
            raise ProviderError("the service is having trouble")
        return f"answer {number}"


def test_simultaneous_misses_make_one_call_and_share_its_answer() -> None:
    cache: TTLCache[str] = TTLCache(60)
    fetch = Counted()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: fetch_once(cache, "k", fetch, hold=GENEROUS), range(8)))
    assert fetch.calls == 1
    assert answers == ["answer 1"] * 8
    assert cache.get("k") == "answer 1"


def test_a_holder_that_fails_lets_the_next_caller_fetch_itself() -> None:
    cache: TTLCache[str] = TTLCache(60)
    fetch = Counted(fail_first=True)

    def ask(_: int) -> str:
        try:
            return fetch_once(cache, "k", fetch, hold=GENEROUS)
        except ProviderError:
            return "failed"

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))
    assert fetch.calls == 2  # the failure is not waited on by everyone, nor repeated by everyone
    assert sorted(answers) == ["answer 2"] * 3 + ["failed"]


def test_a_claim_never_given_back_blocks_only_until_it_expires() -> None:
    """A holder whose process died: the others wait at most the claim's lifetime, then one fetches."""
    cache: TTLCache[str] = TTLCache(60)
    assert cache.claim("k", 0.5) is not None  # taken and never given back
    fetch = Counted()
    started = time.monotonic()
    assert fetch_once(cache, "k", fetch, hold=0.5) == "answer 1"
    assert fetch.calls == 1
    assert time.monotonic() - started < GENEROUS


def test_a_waiter_whose_holder_outlasts_the_claim_fetches_itself() -> None:
    """The documented choice: after ``hold`` seconds of waiting, a caller calls as before single flight."""
    cache: TTLCache[str] = TTLCache(60)
    go_on = threading.Event()
    calls: list[str] = []

    def stuck() -> str:
        calls.append("holder")
        go_on.wait(GENEROUS)
        return "late"

    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(fetch_once, cache, "k", stuck, hold=GENEROUS)
        deadline = time.monotonic() + GENEROUS
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fetch_once(cache, "k", lambda: "own", hold=0.2) == "own"
        go_on.set()
        assert holder.result(GENEROUS) == "late"


def test_claims_are_exclusive_and_a_late_release_frees_nobody_elses() -> None:
    cache: TTLCache[str] = TTLCache(60)
    first = cache.claim("k", 0.2)
    assert first is not None and cache.claim("k", 10) is None
    assert cache.claim("other", 10) is not None  # per key
    deadline = time.monotonic() + GENEROUS
    second = None
    while second is None and time.monotonic() < deadline:  # first's claim lapses
        time.sleep(0.02)
        second = cache.claim("k", 10)
    assert second is not None
    first()  # the lapsed holder gives back late: the new claim stays
    assert cache.claim("k", 10) is None
    second()
    assert cache.claim("k", 10) is not None


def test_with_nothing_cached_nobody_waits_for_anybody() -> None:
    """``MOODTAPE_CACHE_TTL=0``: the answer is not stored, so waiting for it would only queue the
    callers one behind the other; they call side by side, as before."""
    cache: TTLCache[str] = TTLCache(0)
    all_in = threading.Barrier(4, timeout=GENEROUS)  # broken if the fetches ran one at a time

    def fetch() -> str:
        all_in.wait()
        return "answer"

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: fetch_once(cache, "k", fetch, hold=GENEROUS), range(4)))
    assert answers == ["answer"] * 4
    assert cache.claim("k", 1) is not None  # no claim left behind
