"""Shared state in a real Redis: provider cache, YouTube budget across instances, streams, recent lists."""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from moodtape.errors import QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.budget import quota_day
from moodtape.providers.youtube import YouTubeProvider
from moodtape.state.budget import BUDGET_KEY, RedisBudgetStore
from moodtape.state.cache import RedisCache
from moodtape.state.connection import SharedStateError, connect, describe

API_KEY = "AIzaFAKE-test-key-0123456789"


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


def test_cache_round_trips_json_and_expires(client: redis.Redis) -> None:
    cache: RedisCache[dict[str, object]] = RedisCache(client, "spotify", ttl=60)
    cache.set(("search", "calm", 1), {"items": [1, 2]})
    assert cache.get(("search", "calm", 1)) == {"items": [1, 2]}
    assert cache.get(("search", "calm", 2)) is None
    stored = [key for key in client.scan_iter("moodtape:cache:spotify:*")]
    assert len(stored) == 1 and json.loads(client.get(stored[0]) or b"") == {"items": [1, 2]}  # JSON, not pickle
    # Redis does the expiry, in milliseconds: the entry lives the cache's 60 s (give or take a slow machine).
    assert 30_000 < client.pttl(stored[0]) <= 60_000
    # A short lifetime of its own really ends. Polled, not slept: a busy machine may take a while to
    # get here, and one fixed pause both before and after an expiry cannot be right on every machine.
    cache.set("short", {"a": 1}, ttl=0.2)
    deadline = time.monotonic() + 10
    while cache.get("short") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get("short") is None, "an entry outlived its 0.2 s lifetime by 10 s"
    assert cache.get(("search", "calm", 1)) == {"items": [1, 2]}, "the other entry keeps its own lifetime"
    cache.set("x", {"a": 1}, ttl=0)  # a zero lifetime stores nothing
    assert cache.get("x") is None


def test_two_caches_of_one_name_share_entries_like_two_instances(client: redis.Redis, redis_url: str) -> None:
    first: RedisCache[list[int]] = RedisCache(client, "youtube", ttl=60)
    second: RedisCache[list[int]] = RedisCache(connect(redis_url), "youtube", ttl=60)
    first.set(("chart", "US"), [1, 2, 3])
    assert second.get(("chart", "US")) == [1, 2, 3]
    assert RedisCache[list[int]](client, "spotify", ttl=60).get(("chart", "US")) is None


class SearchCounter:
    """A fake YouTube whose search.list answers every distinct query with five videos."""

    def __init__(self) -> None:
        self.searches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            self.searches += 1
            items = [
                {
                    "id": {"kind": "youtube#video", "videoId": f"v{self.searches:04d}{i:06d}"},
                    "snippet": {"title": f"Video {i}", "channelTitle": "C", "thumbnails": {}},
                }
                for i in range(5)
            ]
            return httpx.Response(200, json={"items": items})
        return httpx.Response(200, json={"items": []})


def test_the_youtube_budget_holds_across_instances(client: redis.Redis, redis_url: str) -> None:
    fake = SearchCounter()
    now = time.time()  # one quota day for the whole test, even one that runs across midnight
    instances = [
        YouTubeProvider(
            API_KEY,
            daily_search_budget=5,
            clock=lambda: now,
            http=httpx.Client(transport=httpx.MockTransport(fake)),
            budget_store=RedisBudgetStore(connect(redis_url)),
            cache=RedisCache(connect(redis_url), "youtube", 60),
        )
        for _ in range(2)
    ]
    for n in range(12):  # distinct keywords, so the cache cannot answer; the two instances take turns
        provider = instances[n % 2]
        with contextlib.suppress(QuotaExceededError):
            provider.videos(Query(targets=((0.5, 0.2),) * 3, limit=5, keywords=(f"word{n}",)))
    assert fake.searches == 5  # once for both, not 5 each
    assert all(p.searches_left() == 0 for p in instances)


def test_the_budget_never_expires_and_keeps_only_the_current_day(client: redis.Redis) -> None:
    """A full Redis evicts only keys with an expiry (``volatile-lru``): a count that could expire
    could be evicted at noon, and the day's budget spent twice."""
    store = RedisBudgetStore(client)
    client.delete(BUDGET_KEY)
    day = quota_day(time.time())
    long_ago = quota_day(time.time() - 5 * 86400)
    store.reserve(long_ago, 90)
    store.close_day(long_ago)
    assert store.reserve(day, 90) and store.reserve(day, 90)
    assert store.used(day) == 2 and store.used(long_ago) == 0 and not store.closed(long_ago)
    assert client.ttl(BUDGET_KEY) == -1 and set(client.hkeys(BUDGET_KEY)) == {day.encode()}
    store.exhaust(day, 90)
    assert store.used(day) == 90
    store.exhaust(day, 10)  # never lowers the count
    assert store.used(day) == 90


def test_a_redis_that_is_down_gives_a_503_error_that_names_no_password() -> None:
    down = connect("redis://:hunter2secret@127.0.0.1:1/0")
    cache: RedisCache[int] = RedisCache(down, "spotify", 60)
    with pytest.raises(SharedStateError) as caught:
        cache.get("k")
    assert caught.value.status == 503
    assert "hunter2secret" not in str(caught.value) and "127.0.0.1:1" in str(caught.value)
    assert describe("redis://:hunter2secret@example:6380/2") == "example:6380/2"
    with pytest.raises(ValueError, match="redis://"):
        connect("http://example")


def test_budget_reservations_are_atomic_across_connections(client: redis.Redis, redis_url: str) -> None:
    """Sixteen connections race for five searches: exactly five get one, whatever the interleaving."""
    day = quota_day(time.time())  # a day gone by would expire its key at once
    client.delete(BUDGET_KEY)
    stores = [RedisBudgetStore(connect(redis_url)) for _ in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        granted = list(pool.map(lambda store: sum(store.reserve(day, 5) for _ in range(3)), stores))
    assert sum(granted) == 5 and stores[1].used(day) == 5
    stores[2].release(day)
    assert stores[3].used(day) == 4 and stores[3].reserve(day, 5) and not stores[4].reserve(day, 5)


def test_a_closed_day_is_seen_by_every_instance_until_the_next_day(client: redis.Redis, redis_url: str) -> None:
    day = quota_day(time.time())
    client.delete(BUDGET_KEY)
    one, other = RedisBudgetStore(client), RedisBudgetStore(connect(redis_url))
    assert not other.closed(day)
    one.close_day(day)
    assert other.closed(day) and not other.closed("1999-01-01")
    one.reserve("2099-01-01", 5)  # the next day's first search forgets this day, closed or not
    assert not other.closed(day) and other.used("2099-01-01") == 1


def test_an_instance_still_on_the_old_day_at_midnight_leaves_the_new_days_count(client: redis.Redis) -> None:
    """Around midnight one instance (a clock a little behind) still counts the old day: deleting
    every other day's field wiped the new day's count, and the budget was spent twice."""
    client.delete(BUDGET_KEY)
    ahead, behind = RedisBudgetStore(client), RedisBudgetStore(client)
    assert ahead.reserve("2026-12-04", 5)
    assert behind.reserve("2026-12-03", 5) and behind.reserve("2026-12-03", 5)
    assert ahead.used("2026-12-04") == 1 and behind.used("2026-12-03") == 2
    ahead.close_day("2026-12-04")
    assert ahead.closed("2026-12-04") and behind.used("2026-12-03") == 2
    ahead.reserve("2026-12-05", 5)
    assert behind.used("2026-12-03") == 0, "the day before yesterday goes"


def test_an_instance_already_on_the_new_day_leaves_the_old_days_count(client: redis.Redis) -> None:
    """Around midnight one instance (a clock a little ahead) counts the new day: deleting every
    earlier day's field wiped the old day's spent count while the others still spent it, so they
    got the whole allowance again (50 of 50 more searches on a spent day)."""
    client.delete(BUDGET_KEY)
    ahead, behind = RedisBudgetStore(client), RedisBudgetStore(client)
    assert all(behind.reserve("2026-12-03", 5) for _ in range(5))
    behind.close_day("2026-12-03")
    for _ in range(5):
        assert ahead.reserve("2026-12-04", 5)
        assert not behind.reserve("2026-12-03", 5)
    assert behind.closed("2026-12-03") and behind.used("2026-12-03") == 5
