"""Single flight in the providers: visitors missing the same cache entry at once send one call between them.

Without it, eight visitors asking for the same calm mood at the same moment spent eight YouTube
searches per query of a budget of 90 a day (and sent eight identical searches to Spotify). The
helper itself: test_fetch_once.py; several instances sharing Redis: tests/state/test_cache_claims.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from moodtape.providers.base import Query
from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider

from .test_spotify import CLIENT_ID, SECRET, FakeSpotify
from .test_youtube import API_KEY, CALM, FakeYouTube

#: How long the fakes take to answer: long enough that simultaneous callers overlap.
SLOW = 0.3


def test_simultaneous_visitors_spend_one_youtube_search_per_query() -> None:
    fake = FakeYouTube()
    searches: list[str] = []
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(SLOW)
        with lock:
            if request.url.path.endswith("/search"):
                searches.append(request.url.params["q"])
            return fake(request)

    provider = YouTubeProvider(API_KEY, http=httpx.Client(transport=httpx.MockTransport(slow)))
    with ThreadPoolExecutor(8) as pool:
        lists = list(pool.map(lambda _: provider.videos(CALM), range(8)))
    assert len(searches) == len(set(searches)) == 2  # calm music + nature videos, once each (was 16)
    assert provider.searches_left() == 88
    assert all(videos == lists[0] for videos in lists) and lists[0]


def test_simultaneous_visitors_send_spotify_each_search_page_once() -> None:
    def count_searches(threads: int) -> int:
        fake = FakeSpotify()
        searched: list[str] = []
        lock = threading.Lock()

        def slow(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/v1/search":
                time.sleep(SLOW)
                with lock:
                    searched.append(str(request.url))
            with lock:
                return fake(request)

        provider = SpotifyProvider(CLIENT_ID, SECRET, http=httpx.Client(transport=httpx.MockTransport(slow)))
        provider.tracks(Query(targets=((0.5, 0.2),), limit=5))  # the token, fetched before the stampede
        searched.clear()
        mood = Query(targets=((0.1, 0.1), (0.5, 0.5), (0.9, 0.9)), limit=30)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: provider.tracks(mood), range(threads)))
        assert len(searched) == len(set(searched))  # never the same page twice
        return len(searched)

    alone = count_searches(1)
    assert alone > 1
    assert count_searches(8) == alone  # not eight times as many
