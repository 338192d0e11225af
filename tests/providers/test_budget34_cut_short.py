"""Searches cut short by their time budget say so, and a slow token or status check keeps to it.

- A Spotify search cut short by its 10 s budget (or by a page after the first that failed) kept
  what came and said nothing: the engine could not tell the person why the list was thinner, nor
  ask the catalog for the part of the path no page came for. Now ``last_shortfall`` says how many
  pages came of how many, why, and which targets got nothing. YouTube's fetches alike.
- Spotify's token was fetched outside the budget, with all its retries: a token endpoint
  answering 503, 503, 200 in 4.9 s each held a search 20.35 s (15.45 s of token, then the first
  page), and a token renewed after a 401 on a later page 21.45 s. The token's retries now go only
  while the first page still fits in what it alone may take (17.5 s), and a renewal mid-search is
  held to the budget.
- YouTube's status re-check of a cached search went with all its retries, outside the budget:
  503, 503, 200 in 4.9 s held the first fetch 15.45 s. Now 4.9 s.

Fake transport, fake clock (a reply "takes" time by moving it; a retry's wait moves it too).
"""

from __future__ import annotations

import httpx
import pytest

from moodtape.errors import ProviderError
from moodtape.providers.base import Query, Shortfall, shortfall_of
from moodtape.providers.spotify import SEARCH_BUDGET, SpotifyProvider
from moodtape.providers.youtube import STATUS_RECHECK, YouTubeProvider

CLIENT_ID = "test-client-id-0001"
SECRET = "test-client-secret-0002"
API_KEY = "test-youtube-key-0004"
SLOW = 4.9  # an answer just before the default 5 s timeout
#: The most the first page may take with every retry: 3 attempts × 5 s + 2.5 s of waits.
FIRST_CALL_LIMIT = 17.5
#: Sad and calm, then neutral, then happy and energetic: three regions, two pages each.
THREE_REGIONS = Query(targets=((0.1, 0.1),) * 7 + ((0.5, 0.5),) * 7 + ((0.9, 0.9),) * 7, limit=60)
#: One region, 60 tracks: six pages.
SIX_PAGES = Query(targets=((0.8, 0.2),) * 20, limit=60)
#: Two music regions that are not upbeat (two searches), then a mood-video search.
THREE_FETCHES = Query(targets=((0.1, 0.1),) * 5 + ((0.6, 0.3),) * 5, limit=30)


class Spotify:
    """Token replies follow ``token_statuses`` (then 200), pages ``page_statuses`` (then 200), each
    taking its delay on the fake clock."""

    def __init__(
        self,
        clock,
        *,
        page_delay: float = SLOW,
        token_delay: float = 0.0,
        token_statuses: tuple[int, ...] = (),
        page_statuses: tuple[int, ...] = (),
    ) -> None:
        self.clock = clock
        self.page_delay = page_delay
        self.token_delay = token_delay
        self.token_statuses = list(token_statuses)
        self.page_statuses = list(page_statuses)
        self.tokens = 0
        self.searches: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            self.tokens += 1
            self.clock.advance(self.token_delay)
            status = self.token_statuses.pop(0) if self.token_statuses else 200
            if status != 200:
                return httpx.Response(status)
            return httpx.Response(200, json={"access_token": f"token-{self.tokens}", "expires_in": 3600})
        self.searches.append(request)
        self.clock.advance(self.page_delay)
        status = self.page_statuses.pop(0) if self.page_statuses else 200
        if status != 200:
            return httpx.Response(status)
        n = 100 * len(self.searches)
        items = [
            {"id": f"cut34track{n + i:08d}", "name": f"Song {n + i}", "artists": [{"name": f"A {n + i}"}]}
            for i in range(10)
        ]
        return httpx.Response(200, json={"tracks": {"items": items, "next": "more"}})


def _spotify(clock, fake: Spotify) -> SpotifyProvider:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    return SpotifyProvider(CLIENT_ID, SECRET, http=http, clock=clock, sleep=clock.advance)


# --- a search cut short says so ---


def test_a_spotify_search_cut_short_by_its_budget_says_what_came_and_what_the_path_missed(clock) -> None:
    provider = _spotify(clock, Spotify(clock))
    tracks = provider.tracks(THREE_REGIONS)
    assert len(tracks) == 20  # the start's and the end's first pages, as in session 33
    assert shortfall_of(provider) == Shortfall(
        "Spotify", "search pages", came=2, planned=6, budget=SEARCH_BUDGET, error=None, missed=((0.5, 0.5),) * 7
    )  # was None: the engine was not told


def test_a_spotify_search_with_time_for_every_page_has_no_shortfall(clock) -> None:
    provider = _spotify(clock, Spotify(clock, page_delay=0.5))
    assert len(provider.tracks(THREE_REGIONS)) == 60
    assert shortfall_of(provider) is None


def test_a_later_spotify_page_that_fails_is_a_shortfall_with_its_reason(clock) -> None:
    provider = _spotify(clock, Spotify(clock, page_delay=0.5, page_statuses=(200, 404)))
    assert len(provider.tracks(SIX_PAGES)) == 10
    shortfall = shortfall_of(provider)
    assert shortfall is not None
    assert (shortfall.came, shortfall.planned, shortfall.missed) == (1, 6, ())  # its one region had a page
    assert shortfall.error == "Spotify refused the search (HTTP 404)."


def test_a_shortfall_is_forgotten_by_the_next_call(clock) -> None:
    fake = Spotify(clock)
    provider = _spotify(clock, fake)
    provider.tracks(SIX_PAGES)
    assert shortfall_of(provider) is not None
    fake.page_delay = 0.1
    provider.tracks(THREE_REGIONS)
    assert shortfall_of(provider) is None
    provider.videos(SIX_PAGES)
    assert shortfall_of(provider) is None


def test_a_youtube_search_cut_short_says_which_fetch_was_missed(clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(SLOW)
        n = 100 * len(calls)
        calls.append(request)
        items = [
            {"id": {"kind": "youtube#video", "videoId": f"cut34v{n + i:05d}"}, "snippet": {"title": "V"}}
            for i in range(5)
        ]
        return httpx.Response(200, json={"items": items})

    calls: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(handler))
    provider = YouTubeProvider(API_KEY, http=http, clock=clock, sleep=clock.advance)
    assert len(provider.videos(THREE_FETCHES)) == 10
    assert len(calls) == 2
    shortfall = shortfall_of(provider)
    assert shortfall is not None  # was None
    assert (shortfall.service, shortfall.unit, shortfall.came, shortfall.planned) == ("YouTube", "requests", 2, 3)
    assert shortfall.error is None
    assert shortfall.missed == ((0.6, 0.3),)  # the mood videos were for where the list leads


# --- a slow token endpoint keeps to the budget ---


def test_a_token_answering_503_503_200_slowly_no_longer_adds_its_wait_to_the_first_page(clock) -> None:
    fake = Spotify(clock, token_delay=SLOW, token_statuses=(503, 503))
    provider = _spotify(clock, fake)
    started = clock.now
    with pytest.raises(ProviderError, match="HTTP 503"):  # no room for a third try: Spotify's own 503
        provider.tracks(SIX_PAGES)  # was 10 tracks after 20.35 s
    assert clock.now - started <= FIRST_CALL_LIMIT  # was 20.35 s: 15.45 s of token, then the page
    assert fake.tokens == 2  # was 3


def test_a_slow_token_still_leaves_the_first_page_its_attempt(clock) -> None:
    fake = Spotify(clock, token_delay=SLOW, token_statuses=(503,))
    provider = _spotify(clock, fake)
    started = clock.now
    assert len(provider.tracks(SIX_PAGES)) == 10  # 503, then a token, then the first page
    assert clock.now - started <= FIRST_CALL_LIMIT
    assert fake.tokens == 2 and len(fake.searches) == 1


def test_the_first_page_after_a_slow_token_is_retried_only_within_what_it_alone_may_take(clock) -> None:
    fake = Spotify(clock, token_delay=SLOW, page_statuses=(503, 503))
    started = clock.now
    with pytest.raises(ProviderError, match="HTTP 503"):  # no room for the third try
        _spotify(clock, fake).tracks(SIX_PAGES)
    assert clock.now - started <= FIRST_CALL_LIMIT  # was 20.35 s (4.9 s token + 15.45 s page)
    assert len(fake.searches) == 2


def test_a_token_renewed_after_a_401_mid_search_keeps_to_the_budget(clock) -> None:
    fake = Spotify(clock, page_delay=2.0, page_statuses=(200, 401))
    provider = _spotify(clock, fake)
    provider.tracks(SIX_PAGES)  # a token for this search, cached
    fake.page_statuses, fake.token_statuses, fake.token_delay = [200, 401], [503, 503], SLOW
    provider._cache.clear()
    started = clock.now
    tracks = provider.tracks(SIX_PAGES)
    assert clock.now - started <= SEARCH_BUDGET  # was 21.45 s: the renewal went with all its retries
    assert len(tracks) == 10  # the first page's tracks are kept
    shortfall = shortfall_of(provider)
    assert shortfall is not None and shortfall.came == 1
    assert shortfall.error is not None and "HTTP 503" in shortfall.error


# --- YouTube's status re-check keeps to the budget ---


def test_a_slow_status_recheck_of_a_cached_search_keeps_to_the_budget(clock) -> None:
    statuses: list[int] = [503, 503]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("part") == "status":
            checks.append(request)
            clock.advance(SLOW)
            if statuses:
                return httpx.Response(statuses.pop(0))
            return httpx.Response(200, json={"items": []})
        items = [
            {"id": {"kind": "youtube#video", "videoId": f"cut34s{i:05d}"}, "snippet": {"title": "V"}} for i in range(5)
        ]
        return httpx.Response(200, json={"items": items})

    checks: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(handler))
    provider = YouTubeProvider(API_KEY, http=http, clock=clock, sleep=clock.advance)
    query = Query(targets=((0.2, 0.2),) * 10, keywords=("comedy",), limit=30)
    provider.videos(query)
    clock.advance(STATUS_RECHECK + 1)
    started = clock.now
    assert len(provider.videos(query)) == 5  # a failed check removes nothing
    assert clock.now - started <= SEARCH_BUDGET  # was 15.45 s
    assert len(checks) == 1  # was 3
