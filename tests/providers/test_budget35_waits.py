"""Waits on another visitor keep to the waiter's search budget (session 35).

A visitor missing a page or search that another visitor is fetching waits for that call (single
flight, :func:`~moodtape.providers.http.fetch_once`), and every Spotify page takes the token lock,
which a thread fetching a token holds. Both waits went on as long as the other's call may take
(17.5 s), whatever was left of the waiter's 10 s: a second Spotify page begun with 5.1 s left
waited 17.5 s and its list came after 22.4 s. Now a wait ends with the waiter's budget (for a
first page, when its own attempt must start to end within the 17.5 s it may take); the search then
goes on as for any page out of time: it keeps what it has and says so, or calls itself when an
attempt still fits. Callers with no budget (``SpotifyProvider.playlists``, YouTube's first fetch)
wait as before.

Fake transport, fake clock. The other visitor is a claim taken on the cache (or a held token lock)
at a chosen moment, answered at a chosen moment or never; the waits themselves run on the fake
clock (``fake_time`` stands in for ``time`` in ``moodtape.providers.http``, where claims lapse
and waiters sleep), so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tests.providers.test_budget34_cut_short import (
    API_KEY,
    FIRST_CALL_LIMIT,
    SLOW,
    THREE_FETCHES,
    THREE_REGIONS,
    Spotify,
    _spotify,
)

import moodtape.providers.http as http_module
from moodtape.errors import ProviderError
from moodtape.providers.base import Query, shortfall_of
from moodtape.providers.http import CLAIM_POLL, TTLCache, fetch_once
from moodtape.providers.spotify import SEARCH_BUDGET
from moodtape.providers.youtube import STATUS_RECHECK, YouTubeProvider
from moodtape.providers.youtube_status import gone_key

#: When a first page must start its own attempt to end within what it alone may take (17.5 s - 5 s).
FIRST_PAGE_WAIT = FIRST_CALL_LIMIT - 5.0
#: How late a waiter may see an answer stored meanwhile: its next try for the claim (jittered).
NEXT_TRY = 1.5 * CLAIM_POLL


class FakeTime:
    """``time`` for :mod:`moodtape.providers.http` on the test's clock: claims lapse on it, and a
    waiter's sleep moves it (``waited`` adds them up). ``at(when, do)`` runs ``do`` once the clock
    has reached ``when``: another visitor's call ending while this one waits."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.waited = 0.0
        self._events: list[tuple[float, Callable[[], object]]] = []

    def monotonic(self) -> float:
        return float(self.clock.now)

    def time(self) -> float:
        return float(self.clock.now)

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.waited += seconds
        for event in [e for e in self._events if e[0] <= self.clock.now]:
            self._events.remove(event)
            event[1]()

    def at(self, when: float, do: Callable[[], object]) -> None:
        self._events.append((when, do))


@pytest.fixture
def fake_time(clock, monkeypatch) -> FakeTime:
    fake = FakeTime(clock)
    monkeypatch.setattr(http_module, "time", fake)
    return fake


class FakeLock:
    """The token lock, held by another thread fetching a token until ``held_until`` on the fake
    clock (None: free). Waiting moves the clock; ``waited`` adds the waits up."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.held_until: float | None = None
        self.waited = 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.held_until is None or self.clock.now >= self.held_until:
            return True
        left = self.held_until - self.clock.now
        step = left if timeout < 0 else min(left, timeout)
        self.clock.advance(step)
        self.waited += step
        return step >= left

    def release(self) -> None:
        """Nothing to give back: only the other thread's hold is modelled."""

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_token_lock(provider, clock, seconds: float) -> FakeLock:
    """Give ``provider`` a token lock that another thread holds for ``seconds`` more on ``clock``."""
    lock = FakeLock(clock)
    lock.held_until = clock.now + seconds
    provider._token_lock = lock
    return lock


class SpotifyWithOthers(Spotify):
    """The session-34 fake Spotify (pages answering in 4.9 s), running ``on_first_page`` once the
    first search page is answered: another visitor beginning a call of its own at that moment."""

    on_first_page: Callable[[], object] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        if request.url.host != "accounts.spotify.com" and self.on_first_page is not None:
            begin, self.on_first_page = self.on_first_page, None
            begin()
        return response


def _page_key(provider, search: int) -> tuple[str, int, str]:
    """The cache key of the first page of ``THREE_REGIONS``'s search number ``search``."""
    return (provider._plan(THREE_REGIONS)[search].q, 0, provider.market)


def _others_page(ids: range) -> dict[str, object]:
    items = [{"id": f"other35track{n:06d}", "name": f"Song {n}", "artists": [{"name": f"B {n}"}]} for n in ids]
    return {"tracks": {"items": items, "next": None}}


# --- Spotify: another visitor's claim on a page ---


def test_a_later_page_waits_for_another_visitors_call_only_until_the_budget_ends(clock, fake_time) -> None:
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    end_page = _page_key(provider, 2)  # asked for second: the path's end
    fake.on_first_page = lambda: provider._cache.claim(end_page, FIRST_CALL_LIMIT)  # and never answered
    started = clock.now
    tracks = provider.tracks(THREE_REGIONS)
    assert fake_time.waited == pytest.approx(SEARCH_BUDGET - SLOW)  # 5.1 s; was 17.5 s
    assert clock.now - started == pytest.approx(SEARCH_BUDGET)  # was 22.4 s
    assert len(tracks) == 10 and len(fake.searches) == 1  # the first page's; no page sent late
    shortfall = shortfall_of(provider)
    assert shortfall is not None and (shortfall.came, shortfall.planned, shortfall.error) == (1, 6, None)


def test_a_later_page_still_takes_another_visitors_answer_that_comes_within_the_budget(clock, fake_time) -> None:
    """Unchanged: the other's answer, stored at 6 s, is read; nothing is sent for it."""
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    end_page = _page_key(provider, 2)

    def other_visitor_calls() -> None:
        release = provider._cache.claim(end_page, FIRST_CALL_LIMIT)
        assert release is not None
        fake_time.at(6.0 + started, lambda: (provider._cache.set(end_page, _others_page(range(10))), release()))

    fake.on_first_page = other_visitor_calls
    started = clock.now
    tracks = provider.tracks(THREE_REGIONS)
    assert fake_time.waited == pytest.approx(6.0 - SLOW, abs=NEXT_TRY)
    assert len(fake.searches) == 1
    assert sum(track.spotify_id.startswith("other35") for track in tracks if track.spotify_id) == 10


def test_a_first_page_waits_only_as_long_as_leaves_its_own_attempt_its_time(clock, fake_time) -> None:
    """Another visitor's claim on the first page, never answered (its process died): the wait
    ends when one attempt of the page's own still ends within the 17.5 s a first page may take.
    With a token already kept: one to fetch first leaves the page no time (session 36), see
    ``test_budget36_after_waits.py``."""
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    provider._token, provider._token_expires_at = "token-0", clock.now + 3600
    provider._cache.claim(_page_key(provider, 0), FIRST_CALL_LIMIT)
    started = clock.now
    tracks = provider.tracks(THREE_REGIONS)
    assert fake_time.waited == pytest.approx(FIRST_PAGE_WAIT)  # 12.5 s; was 17.5 s
    assert clock.now - started == pytest.approx(FIRST_PAGE_WAIT + SLOW)  # 17.4 s; was 22.4 s
    assert len(tracks) == 10 and len(fake.searches) == 1  # the page went, as a first page always does


def test_playlists_have_no_budget_and_wait_as_before(clock, fake_time) -> None:
    """``playlists()`` is on no request path (only ``tracks()`` is): it keeps no budget, and waits
    for another visitor's answer however long that takes."""
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    query = Query(targets=((0.8, 0.2),) * 5, limit=5)
    key = (provider._plan(query)[0].q, 0, provider.market)
    release = provider._cache.claim(key, FIRST_CALL_LIMIT)
    assert release is not None
    body = {"playlists": {"items": [{"id": "pl35", "name": "Calm", "external_urls": {"spotify": "u"}}]}}
    fake_time.at(clock.now + 15.0, lambda: (provider._cache.set(key, body), release()))
    assert [p.spotify_id for p in provider.playlists(query)] == ["pl35"]
    assert fake_time.waited == pytest.approx(15.0, abs=NEXT_TRY) and fake.searches == []


# --- Spotify: the token lock ---


def test_a_later_page_waits_on_the_token_lock_only_until_the_budget_ends(clock) -> None:
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    lock = FakeLock(clock)
    provider._token_lock = lock

    def another_thread_fetches_a_token() -> None:
        lock.held_until = clock.now + FIRST_CALL_LIMIT

    fake.on_first_page = another_thread_fetches_a_token
    started = clock.now
    tracks = provider.tracks(THREE_REGIONS)
    assert lock.waited == pytest.approx(SEARCH_BUDGET - SLOW)  # 5.1 s; was 17.5 s
    assert clock.now - started == pytest.approx(SEARCH_BUDGET)  # was 22.4 s
    assert len(tracks) == 10
    shortfall = shortfall_of(provider)
    assert shortfall is not None and (shortfall.came, shortfall.error) == (1, None)


def test_a_first_page_waits_on_the_token_lock_only_while_its_attempt_would_still_fit(clock) -> None:
    fake = SpotifyWithOthers(clock)
    provider = _spotify(clock, fake)
    lock = hold_token_lock(provider, clock, FIRST_CALL_LIMIT)
    started = clock.now
    with pytest.raises(ProviderError, match="ran out of time"):  # the catalog stands in, and says why
        provider.tracks(THREE_REGIONS)  # was 10 tracks after 22.4 s
    assert lock.waited == pytest.approx(FIRST_PAGE_WAIT)  # 12.5 s; was 17.5 s
    assert clock.now - started == pytest.approx(FIRST_PAGE_WAIT)
    assert fake.searches == []


# --- YouTube ---


def _youtube(clock, calls: list[httpx.Request], on_first: Callable[[], object] = lambda: None) -> YouTubeProvider:
    """YouTube answering in 4.9 s, running ``on_first`` once its first call is answered."""

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(SLOW)
        calls.append(request)
        if len(calls) == 1:
            on_first()
        if request.url.params.get("part") == "status":
            return httpx.Response(200, json={"items": []})
        n = 100 * len(calls)
        items = [
            {"id": {"kind": "youtube#video", "videoId": f"wait35v{n + i:04d}"}, "snippet": {"title": "V"}}
            for i in range(5)
        ]
        return httpx.Response(200, json={"items": items})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return YouTubeProvider(API_KEY, http=http, clock=clock, sleep=clock.advance)


def test_a_later_youtube_fetch_waits_for_another_visitors_search_only_until_the_budget_ends(clock, fake_time) -> None:
    calls: list[httpx.Request] = []
    # Another visitor begins the second fetch's search as the first is answered, and never answers.
    provider = _youtube(clock, calls, lambda: provider._cache.claim(second, FIRST_CALL_LIMIT))
    second = provider._key(provider._plan(THREE_FETCHES)[1])
    left = provider.searches_left()
    started = clock.now
    videos = provider.videos(THREE_FETCHES)
    assert fake_time.waited == pytest.approx(SEARCH_BUDGET - SLOW)  # 5.1 s; was 17.5 s
    assert clock.now - started == pytest.approx(SEARCH_BUDGET)  # was 22.4 s
    assert len(videos) == 5 and len(calls) == 1
    assert provider.searches_left() == left - 1  # the search not sent is given back
    shortfall = shortfall_of(provider)
    assert shortfall is not None and (shortfall.came, shortfall.planned, shortfall.error) == (1, 3, None)


def test_a_first_youtube_fetch_still_waits_for_another_visitors_search(clock, fake_time) -> None:
    """Unchanged, by choice: the first fetch is not held to the budget, and calling instead of
    waiting would spend a second search of the day's allowance on the same words."""
    calls: list[httpx.Request] = []
    provider = _youtube(clock, calls)
    first = provider._key(provider._plan(THREE_FETCHES)[0])
    release = provider._cache.claim(first, FIRST_CALL_LIMIT)
    assert release is not None
    answer = [{"id": {"kind": "youtube#video", "videoId": "othr35v0001"}, "snippet": {"title": "V"}}]
    fake_time.at(clock.now + 12.0, lambda: (provider._cache.set(first, answer), release()))
    videos = provider.videos(THREE_FETCHES)
    assert fake_time.waited == pytest.approx(12.0, abs=NEXT_TRY)
    assert [v.youtube_id for v in videos] == ["othr35v0001"] and calls == []  # no search spent


def test_a_status_recheck_waits_for_another_visitors_check_only_until_the_budget_ends(clock, fake_time) -> None:
    calls: list[httpx.Request] = []
    provider = _youtube(clock, calls)
    query = Query(targets=((0.2, 0.2),) * 10, keywords=("comedy",), limit=30)
    provider.videos(query)
    clock.advance(STATUS_RECHECK + 1)
    provider._cache.claim(gone_key(provider._key(provider._plan(query)[0])), FIRST_CALL_LIMIT)
    sent = len(calls)
    started = clock.now
    assert len(provider.videos(query)) == 5  # the cached search, as it was
    assert fake_time.waited == pytest.approx(SEARCH_BUDGET)  # was 17.5 s
    assert clock.now - started == pytest.approx(SEARCH_BUDGET)
    assert len(calls) == sent  # no check sent out of time: still due for the next visit


# --- fetch_once itself ---


def test_fetch_once_waits_for_a_claim_no_longer_than_it_is_told(clock, fake_time) -> None:
    """The brief's case: a caller with 2 s of its budget left, another's claim held for 17.5 s."""
    cache: TTLCache[str] = TTLCache(60)
    cache.claim("k", FIRST_CALL_LIMIT)
    assert fetch_once(cache, "k", lambda: "own", hold=FIRST_CALL_LIMIT, wait=2.0) == "own"
    assert fake_time.waited == pytest.approx(2.0)
    fake_time.waited = 0.0
    cache.claim("other", FIRST_CALL_LIMIT)
    assert fetch_once(cache, "other", lambda: "own", hold=FIRST_CALL_LIMIT) == "own"
    assert fake_time.waited == pytest.approx(FIRST_CALL_LIMIT)  # no ``wait``: as long as the claim, as before
