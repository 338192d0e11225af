"""Single flight across instances: RedisCache claims (SET NX PX) and two YouTube instances in a stampede.

Skipped, with the reason, where redis-server is not installed (the ``redis_url`` fixture).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from moodtape.providers.base import Query
from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider
from moodtape.state.budget import BUDGET_KEY, RedisBudgetStore
from moodtape.state.cache import RedisCache
from moodtape.state.connection import connect

API_KEY = "AIzaFAKE-test-key-0123456789"
CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)  # calm music + nature videos: two searches
SLOW = 0.3  # the fakes' answer time: simultaneous callers overlap
GENEROUS = 15.0


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


def _search_item(query: str, n: int) -> dict[str, object]:
    return {
        "id": {"kind": "youtube#video", "videoId": f"{len(query):06d}{n:05d}"},
        "snippet": {"title": f"{query} {n}", "channelTitle": "C", "thumbnails": {}},
    }


class SlowYouTube:
    """search.list answering in ``SLOW`` seconds, recording each query it was asked."""

    def __init__(self) -> None:
        self.searches: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(SLOW)
        if not request.url.path.endswith("/search"):
            return httpx.Response(200, json={"items": []})
        query = request.url.params["q"]
        with self._lock:
            self.searches.append(query)
        return httpx.Response(200, json={"items": [_search_item(query, n) for n in range(5)]})


def test_two_instances_in_a_stampede_spend_one_search_per_query(client: redis.Redis, redis_url: str) -> None:
    """The probe's case: two instances sharing Redis as the registry builds them, eight visitors at
    once on a cold cache. Before single flight: 16 searches for 2 queries, the budget 90 → 74."""
    client.delete(BUDGET_KEY)
    fake = SlowYouTube()
    instances = [
        YouTubeProvider(
            API_KEY,
            http=httpx.Client(transport=httpx.MockTransport(fake)),
            daily_search_budget=90,
            budget_store=RedisBudgetStore(connect(redis_url)),
            cache=RedisCache(connect(redis_url), "youtube", 3600),
        )
        for _ in range(2)
    ]
    with ThreadPoolExecutor(8) as pool:
        lists = list(pool.map(lambda n: instances[n % 2].videos(CALM), range(8)))
    assert sorted(fake.searches) == ["calm ambient music", "nature sounds relaxation"]
    assert instances[0].searches_left() == 88
    assert all(videos == lists[0] for videos in lists) and lists[0]
    assert list(client.scan_iter("moodtape:claim:*")) == []  # every claim given back


def test_two_spotify_instances_send_each_search_page_once(redis_url: str) -> None:
    searched: list[str] = []
    lock = threading.Lock()

    def spotify(request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        time.sleep(SLOW)
        with lock:
            searched.append(str(request.url))
        item = {"id": "fixturetrack0000000001", "name": "Song", "artists": [{"name": "Artist"}]}
        return httpx.Response(200, json={"tracks": {"items": [item], "next": None}, "playlists": {"items": []}})

    instances = [
        SpotifyProvider(
            "id",
            "secret",
            http=httpx.Client(transport=httpx.MockTransport(spotify)),
            cache=RedisCache(connect(redis_url), "spotify", 3600),
        )
        for _ in range(2)
    ]
    mood = Query(targets=((0.5, 0.2),), limit=5)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: instances[n % 2].tracks(mood), range(8)))
    assert len(searched) == 1  # one page, asked once for eight visitors on two instances


def test_a_claim_is_exclusive_expires_by_itself_and_is_given_back_only_by_its_holder(
    client: redis.Redis, redis_url: str
) -> None:
    first: RedisCache[str] = RedisCache(client, "youtube", 60)
    second: RedisCache[str] = RedisCache(connect(redis_url), "youtube", 60)  # another instance
    release = first.claim(("search", "calm"), 0.3)
    assert release is not None
    assert second.claim(("search", "calm"), 10) is None
    assert second.claim(("search", "other"), 10) is not None  # per key
    assert len(list(client.scan_iter(match="moodtape:claim:youtube:*"))) == 2  # one key per claimed entry
    # A holder that never gives back (its process died) blocks the key only for the claim's life.
    deadline = time.monotonic() + GENEROUS
    late = None
    while late is None and time.monotonic() < deadline:
        time.sleep(0.02)
        late = second.claim(("search", "calm"), 10)
    assert late is not None, "a claim of 0.3 s outlived 15 s"
    release()  # the first holder, too late: it must not give back the second's claim
    assert first.claim(("search", "calm"), 10) is None
    late()
    assert first.claim(("search", "calm"), 10) is not None


def test_a_dead_holder_elsewhere_delays_the_others_only_until_its_claim_expires(
    client: redis.Redis, redis_url: str
) -> None:
    from moodtape.providers.http import fetch_once  # here: the stampede tests above also run on older code

    dead: RedisCache[str] = RedisCache(client, "spotify", 60)
    assert dead.claim("page", 0.5) is not None  # never given back
    alive: RedisCache[str] = RedisCache(connect(redis_url), "spotify", 60)
    calls: list[str] = []

    def fetch() -> str:
        calls.append("fetch")
        return "fresh"

    started = time.monotonic()
    assert fetch_once(alive, "page", fetch, hold=0.5) == "fresh"
    assert calls == ["fetch"] and time.monotonic() - started < GENEROUS
    assert dead.get("page") == "fresh"


def test_redis_missing_a_claim_release_does_not_lose_the_answer(redis_url: str) -> None:
    """Giving a claim back is best effort: a Redis gone at that moment must not turn the answer
    just fetched into an error (the claim expires by itself)."""
    cache: RedisCache[str] = RedisCache(connect(redis_url), "itunes", 60)
    release = cache.claim("k", 5)
    assert release is not None
    cache._client = connect("redis://127.0.0.1:1/0")  # Redis gone before the release
    release()  # no exception
