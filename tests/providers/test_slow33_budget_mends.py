"""A Spotify search cut short by its time budget: which pages it keeps, and how long it may take.

- Three mood regions, time for two pages: pages went in path order, so the list had the start and
  the middle of the path and nothing for where it leads. Now the ends go first.
- The budget decided when a page may start, not how long it may take: a page started with 5.1 s
  left got all its retries (503, 503, then an answer: 20.35 s for a 10 s budget). Now its retries
  go only when they still end within the budget, and a later page that fails keeps what came before.
- YouTube's fetches likewise (a second fetch answering 503, 503, then 200: 20.35 s).
- Out of time, Spotify dropped the later pages it had cached, where YouTube read them.

Fake transport, fake clock (a reply "takes" time by moving it; a retry's wait moves it too).
"""

from __future__ import annotations

import httpx

from moodtape.providers.base import Query
from moodtape.providers.http import TTLCache
from moodtape.providers.spotify import SEARCH_BUDGET, SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider

API_KEY = "test-youtube-key-0004"
CLIENT_ID = "test-client-id-0001"
SECRET = "test-client-secret-0002"
SLOW = 4.9  # an answer just before the default 5 s timeout
#: Sad and calm, then neutral, then happy and energetic: three regions, 20 tracks each asked for.
THREE_REGIONS = Query(targets=((0.1, 0.1),) * 7 + ((0.5, 0.5),) * 7 + ((0.9, 0.9),) * 7, limit=60)
#: One region, 60 tracks: six pages.
SIX_PAGES = Query(targets=((0.8, 0.2),) * 20, limit=60)
#: Two music regions that are not upbeat (two searches) and a mood-video search: three fetches.
THREE_FETCHES = Query(targets=((0.1, 0.1),) * 5 + ((0.6, 0.3),) * 5, limit=30)


def _items(first: int) -> list[dict[str, object]]:
    return [
        {"id": f"budgettrack{n:011d}", "name": f"Song {n}", "artists": [{"name": f"Artist {n}"}]}
        for n in range(first, first + 10)
    ]


class Spotify:
    """Searches take ``delay`` seconds of the fake clock; ``failures`` 503s come first for ``offset``."""

    def __init__(self, clock, delay: float, failures: int = 0, offset: int = 10) -> None:
        self.clock = clock
        self.delay = delay
        self.failures = failures
        self.failing_offset = offset
        self.searches: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "token-1", "expires_in": 3600})
        self.searches.append(request)
        self.clock.advance(self.delay)
        offset = int(request.url.params["offset"])
        if offset == self.failing_offset and self.failures > 0:
            self.failures -= 1
            return httpx.Response(503)
        region = list(dict.fromkeys(r.url.params["q"] for r in self.searches)).index(request.url.params["q"])
        return httpx.Response(200, json={"tracks": {"items": _items(1000 * region + offset), "next": "more"}})


def _provider(clock, fake: Spotify, **kwargs) -> SpotifyProvider:
    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    http = httpx.Client(transport=httpx.MockTransport(fake))
    return SpotifyProvider(CLIENT_ID, SECRET, http=http, clock=clock, sleep=sleep, **kwargs)


# --- the ends of the path first ---


def test_a_three_region_search_cut_short_keeps_both_ends_of_the_path(clock) -> None:
    fake = Spotify(clock, SLOW)
    provider = _provider(clock, fake)
    plan = [search.q for search in provider._plan(THREE_REGIONS)]
    tracks = provider.tracks(THREE_REGIONS)
    assert len(plan) == 3
    assert [r.url.params["q"] for r in fake.searches] == [plan[0], plan[2]]  # was start, middle
    assert {(round(t.valence, 2), round(t.energy, 2)) for t in tracks} == {(0.1, 0.1), (0.9, 0.9)}


def test_with_time_for_every_page_each_region_gets_its_pages(clock) -> None:
    fake = Spotify(clock, 0.5)
    tracks = _provider(clock, fake).tracks(THREE_REGIONS)
    assert len(fake.searches) == 6
    assert {(round(t.valence, 2), round(t.energy, 2)) for t in tracks} == {(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)}
    assert len(tracks) == 60


# --- the budget bounds the wait, retries included ---


def test_a_later_page_is_not_retried_past_the_budget(clock) -> None:
    fake = Spotify(clock, SLOW, failures=2)
    started = clock.now
    tracks = _provider(clock, fake).tracks(SIX_PAGES)
    assert [int(r.url.params["offset"]) for r in fake.searches] == [0, 10]  # was [0, 10, 10, 10]
    assert clock.now - started <= SEARCH_BUDGET  # was 20.35 s
    assert len(tracks) == 10  # the failing page ends the search; the first page's tracks are kept


def test_a_later_page_with_time_left_is_still_retried(clock) -> None:
    fake = Spotify(clock, 0.5, failures=1)
    tracks = _provider(clock, fake).tracks(SIX_PAGES)
    assert [int(r.url.params["offset"]) for r in fake.searches] == [0, 10, 10, 20, 30, 40, 50]
    assert len(tracks) == 60


# --- out of time, the cache still answers ---


def test_out_of_time_the_later_pages_are_read_from_the_cache(clock) -> None:
    cache = TTLCache[dict[str, object]](3600.0, 512, clock)
    fake = Spotify(clock, 5.5)  # the first page leaves less than one attempt's timeout
    provider = _provider(clock, fake, cache=cache)
    (search,) = provider._plan(SIX_PAGES)
    for offset in range(10, 60, 10):
        cache.set((search.q, offset, provider.market), {"tracks": {"items": _items(9000 + offset), "next": "more"}})
    tracks = provider.tracks(SIX_PAGES)
    assert len(fake.searches) == 1
    assert len(tracks) == 60  # was 10: the cached pages were dropped


class YouTube:
    """Every call takes ``delay`` seconds of the fake clock; the ``failing`` calls (1 = the first) are 503s."""

    def __init__(self, clock, delay: float, failing: tuple[int, ...] = ()) -> None:
        self.clock = clock
        self.delay = delay
        self.failing = failing
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        self.clock.advance(self.delay)
        if len(self.calls) in self.failing:
            return httpx.Response(503)
        n = 100 * len(self.calls)
        items = [
            {"id": {"kind": "youtube#video", "videoId": f"slow{n + i:07d}"}, "snippet": {"title": f"V {i}"}}
            for i in range(5)
        ]
        return httpx.Response(200, json={"items": items})


def _youtube(clock, fake: YouTube) -> YouTubeProvider:
    def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return YouTubeProvider(API_KEY, http=httpx.Client(transport=httpx.MockTransport(fake)), clock=clock, sleep=sleep)


def test_a_later_youtube_fetch_is_not_retried_past_the_budget(clock) -> None:
    fake = YouTube(clock, SLOW, failing=(2, 3))
    started = clock.now
    videos = _youtube(clock, fake).videos(THREE_FETCHES)
    assert len(fake.calls) == 2  # was 4: the second fetch retried twice, 20.35 s
    assert clock.now - started <= SEARCH_BUDGET
    assert len(videos) == 5  # the first fetch's videos are kept


def test_a_later_youtube_fetch_with_time_left_is_still_retried(clock) -> None:
    fake = YouTube(clock, 0.5, failing=(2,))
    videos = _youtube(clock, fake).videos(THREE_FETCHES)
    assert len(fake.calls) == 4
    assert len(videos) == 15
