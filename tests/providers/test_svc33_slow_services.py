"""Services that answer slowly or say odd things about time: a visitor's wait stays bounded.

- Spotify's ``tracks()`` sent up to 6 pages one after another, each allowed the 5 s timeout: six
  pages answering in 4.9 s held a visitor 29.4 s. Now no page starts once less than one attempt's
  timeout is left of the search budget (10 s), and pages go round the path's regions first.
- YouTube's ``videos()`` likewise: later fetches are read from the cache alone once the budget is spent.
- A ``Retry-After`` of 0, -5 or a date already past sent both retries in the same instant and paused
  the service 1 s; it is now read like a missing header (0.25 s then 0.5 s, a 60 s pause).
- A token reply whose ``expires_in`` is 0, negative or under a minute made every search fetch a token.
- Pauses were timed on the wall clock, which steps back.

Fake transport, fake clock (a reply "takes" time by moving it), no sleeping.
"""

from __future__ import annotations

import json
import math
import time

import httpx
import pytest

from moodtape.providers.base import Query
from moodtape.providers.http import RATE_LIMIT_PAUSE, ServiceClient
from moodtape.providers.spotify import MIN_TOKEN_LIFETIME, SEARCH_BUDGET, SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider

CLIENT_ID = "test-client-id-0001"
SECRET = "test-client-secret-0002"
API_KEY = "test-youtube-key-0004"
URL = "https://api.example.test/v1/thing"
#: A reply that arrives just before the default 5 s timeout.
SLOW = 4.9
#: One mood region, 60 tracks: six pages.
SIX_PAGES = Query(targets=((0.8, 0.2),) * 20, limit=60)
#: Two far-apart regions, 60 tracks: three pages each.
TWO_REGIONS = Query(targets=((0.1, 0.9),) * 10 + ((0.9, 0.1),) * 10, limit=60)


def _track(n: int) -> dict[str, object]:
    return {"id": f"slowtrack{n:010d}", "name": f"Song {n}", "artists": [{"name": f"Artist {n}"}]}


class SlowSpotify:
    """A Spotify whose searches each take ``delay`` seconds of the fake clock (tokens are instant)."""

    def __init__(self, clock, delay: float, expires_in: object = 3600) -> None:
        self.clock = clock
        self.delay = delay
        self.expires_in = expires_in
        self.tokens = 0
        self.searches: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            self.tokens += 1
            body = json.dumps({"access_token": f"token-{self.tokens}", "expires_in": self.expires_in})  # NaN as is
            return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/json"})
        self.searches.append(request)
        self.clock.advance(self.delay)
        offset = int(request.url.params["offset"])
        base = 1000 * len({r.url.params["q"] for r in self.searches})
        items = [_track(base + offset + i) for i in range(10)]
        return httpx.Response(200, json={"tracks": {"items": items, "next": "more" if offset < 90 else None}})


def _spotify(clock, sleeps, fake) -> SpotifyProvider:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return SpotifyProvider(CLIENT_ID, SECRET, http=http, clock=clock, sleep=sleeps)


# --- a budget per search ---


def test_spotify_sends_no_page_the_budget_has_no_time_for(clock, sleeps) -> None:
    fake = SlowSpotify(clock, SLOW)
    started = clock.now
    tracks = _spotify(clock, sleeps, fake).tracks(SIX_PAGES)
    assert len(fake.searches) == 2  # was 6: 29.4 s of waiting
    assert clock.now - started <= SEARCH_BUDGET
    assert len(tracks) == 20  # what the pages sent is kept


def test_spotify_sends_every_page_when_they_answer_in_time(clock, sleeps) -> None:
    fake = SlowSpotify(clock, 0.5)
    assert len(_spotify(clock, sleeps, fake).tracks(SIX_PAGES)) == 60
    assert len(fake.searches) == 6


def test_spotify_pages_go_round_the_regions_so_each_gets_its_first(clock, sleeps) -> None:
    fake = SlowSpotify(clock, SLOW)
    tracks = _spotify(clock, sleeps, fake).tracks(TWO_REGIONS)
    assert [int(r.url.params["offset"]) for r in fake.searches] == [0, 0]
    assert len({r.url.params["q"] for r in fake.searches}) == 2
    assert {t.valence < 0.5 for t in tracks} == {True, False}  # both ends of the path are there


def _youtube_handler(clock, calls: list[httpx.Request]):
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        clock.advance(SLOW)
        n = 100 * len(calls)
        items = [
            {"id": {"kind": "youtube#video", "videoId": f"slow{n + i:07d}"}, "snippet": {"title": f"V {i}"}}
            for i in range(5)
        ]
        return httpx.Response(200, json={"items": items})

    return handler


def test_youtube_reads_only_the_cache_once_the_budget_is_spent(clock, sleeps) -> None:
    calls: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(_youtube_handler(clock, calls)))
    provider = YouTubeProvider(API_KEY, http=http, clock=clock, sleep=sleeps)
    # Two music regions that are not upbeat (two searches) and a mood-video search: three fetches.
    query = Query(targets=((0.1, 0.1),) * 5 + ((0.6, 0.3),) * 5, limit=30)
    started = clock.now
    videos = provider.videos(query)
    assert len(calls) == 2  # was 3: 14.7 s
    assert clock.now - started <= SEARCH_BUDGET
    assert videos
    assert provider.searches_left() == provider.daily_search_budget - 2  # the skipped search spent nothing


# --- Retry-After that asks for no wait ---


@pytest.mark.parametrize("header", ["0", "-5", "Thu, 01 Jan 2026 00:00:00 GMT", None])
def test_retry_after_asking_no_wait_is_read_like_none(make_api, clock, sleeps, header) -> None:
    api = make_api(lambda request: httpx.Response(429, headers={"Retry-After": header} if header else {}))
    client = ServiceClient(api.client(), "X", timeout=5, sleep=sleeps, clock=clock)
    with pytest.raises(Exception, match="limiting"):
        client.request("GET", URL)
    assert sleeps == [0.25, 0.5]  # was [0.0, 0.0]: both retries in the same instant
    assert client.breaker.seconds_left() == RATE_LIMIT_PAUSE  # was 1 s


# --- a token said to expire at once ---


@pytest.mark.parametrize("expires_in", [-5, 0, 30, math.nan])
def test_a_token_said_to_expire_soon_is_still_kept_a_minute(clock, sleeps, expires_in) -> None:
    fake = SlowSpotify(clock, 0.0, expires_in=expires_in)
    provider = _spotify(clock, sleeps, fake)
    provider.tracks(Query(targets=((0.8, 0.2),), limit=5))
    provider.tracks(Query(targets=((0.2, 0.8),), limit=5))
    assert fake.tokens == 1  # was 2: one per search
    clock.advance(MIN_TOKEN_LIFETIME)
    provider.tracks(Query(targets=((0.5, 0.5),), limit=5))
    assert fake.tokens == 2


# --- pauses on a clock that never steps back ---


def test_pauses_are_timed_on_the_monotonic_clock_and_quota_days_on_the_wall_clock() -> None:
    """Defaults are bound when the module is imported, so a test cannot step the clock they read:
    this checks which clock each one is. The wall clock stepped back an hour stretched a 60 s pause
    to an hour and a minute (``CircuitBreaker`` ends a pause at ``clock() + seconds``)."""
    spotify = SpotifyProvider(CLIENT_ID, SECRET)
    youtube = YouTubeProvider(API_KEY)
    for provider in (spotify, youtube):
        assert provider._client.breaker._clock is time.monotonic
        assert provider._client.troubles._clock is time.monotonic
    assert youtube._quota_clock is time.time  # the quota day is a date: wall time
