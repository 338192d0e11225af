"""Deezer's, iTunes' and YouTube's pauses kept by every instance sharing Redis, as Spotify's are,
and Redis asked at most about once a second per process while no pause is in force.

Against a real Redis (the ``redis_url`` fixture; skipped, with the reason, where redis-server is
not installed). Measured before: after instance A met a 429 with ``Retry-After: 120`` from Deezer
(or its in-body quota error, a 403 from iTunes, a ``rateLimitExceeded`` from YouTube), instance B
asked again (1 more call
per instance): only Spotify's pauses were written to Redis. And each Spotify call read Redis first
(a GET and a PTTL), however many calls a second a process made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from moodtape.config import Settings
from moodtape.errors import ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Query
from moodtape.providers.registry import enrichers, live_providers
from moodtape.state.pauses import NO_PAUSE_KEPT_S, RedisPauses
from moodtape.state.process_pauses import PauseTable
from moodtape.types import Track

CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)
SONG = Track(title="Song 1", artist="Artist 1", valence=0.5, energy=0.5, deezer_id="1")
YOUTUBE_BUSY = {"error": {"code": 403, "message": "slow down", "errors": [{"reason": "rateLimitExceeded"}]}}


class Service:
    """A fake of every live host: each call but Spotify's token gets ``status`` (and ``body``)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None, body: Any = None, *, down: bool = False):
        self.status, self.headers, self.body, self.down = status, headers or {}, body, down
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(self.status, headers=self.headers, json=self.body or {"error": {}})


def _settings(tmp_path: Path, redis_url: str, name: str) -> Settings:
    return Settings(
        {
            "MOODTAPE_DATA_DIR": str(tmp_path / name),
            "MOODTAPE_REDIS_URL": redis_url,
            "YOUTUBE_API_KEY": "youtube-key-0036",
        }
    )


def _ask_previews(tmp_path: Path, redis_url: str, fake: Service, name: str, which: int) -> str | None:
    """One instance's Deezer (0) or iTunes (1) lookup of one song: why it found no preview."""
    http = httpx.Client(transport=httpx.MockTransport(fake))
    enricher = enrichers(_settings(tmp_path, redis_url, name), http=http)[which]
    enricher.enrich([SONG])
    return enricher.last_failure


@pytest.mark.parametrize(
    ("which", "status", "headers", "body"),
    [
        (0, 429, {"Retry-After": "120"}, None),
        (0, 200, {}, {"error": {"code": 4, "message": "Quota limit exceeded"}}),  # Deezer's own way
        (1, 403, {}, None),
    ],
    ids=["deezer-429", "deezer-quota-in-body", "itunes-403"],
)
def test_a_keyless_services_pause_holds_on_every_instance(
    tmp_path: Path, redis_url: str, which: int, status: int, headers: dict[str, str], body: Any
) -> None:
    fake = Service(status, headers, body)
    first = _ask_previews(tmp_path, redis_url, fake, "a", which)
    assert first is not None and "limiting how often" in first
    assert fake.calls == 1
    second = _ask_previews(tmp_path, redis_url, fake, "b", which)
    assert second is not None and "limiting how often" in second
    assert fake.calls == 1  # before: 2, instance b asked again


def test_youtubes_rate_limit_holds_on_every_instance(tmp_path: Path, redis_url: str) -> None:
    fake = Service(403, body=YOUTUBE_BUSY)
    for name in "ab":
        http = httpx.Client(transport=httpx.MockTransport(fake))
        (youtube,) = live_providers(_settings(tmp_path, redis_url, name), http=http)
        with pytest.raises(QuotaExceededError):
            youtube.videos(CALM)
    assert fake.calls == 1  # before: 2


def test_a_keyless_service_out_of_reach_pauses_one_instance_only(tmp_path: Path, redis_url: str) -> None:
    cut_off, reachable = Service(200, down=True), Service(200, body={"error": {"code": 800}})
    assert _ask_previews(tmp_path, redis_url, cut_off, "a", 0) is not None
    assert _ask_previews(tmp_path, redis_url, reachable, "b", 0) is None  # Deezer's "no data": looked up
    assert reachable.calls == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_pause_is_believed_for_a_second_then_redis_is_asked_again(redis_url: str) -> None:
    client, clock = redis.Redis.from_url(redis_url), Clock()
    here, there = RedisPauses(client, "fp", clock), RedisPauses(client, "fp")
    assert here.get("Spotify") is None
    there.put("Spotify", "Spotify is limiting how often moodtape may ask.", QuotaExceededError, 120)
    clock.now += NO_PAUSE_KEPT_S / 2
    assert here.get("Spotify") is None  # before: seen at once, Redis read before every call
    clock.now += NO_PAUSE_KEPT_S / 2
    pause = here.get("Spotify")
    assert pause is not None and 110 < pause.seconds <= 120
    assert here.get("Deezer") is None  # each service asks for itself


def test_a_pause_this_process_shares_is_read_back_at_once(redis_url: str) -> None:
    client, clock = redis.Redis.from_url(redis_url), Clock()
    here = RedisPauses(client, "", clock)
    assert here.get("iTunes Search") is None
    here.put("iTunes Search", "iTunes Search is limiting how often moodtape may ask.", QuotaExceededError, 60)
    pause = here.get("iTunes Search")
    assert pause is not None and pause.kind is QuotaExceededError
    assert client.pttl("moodtape:pause:itunes-search") > 50_000


def test_workers_with_redis_see_a_siblings_pause_without_asking_redis(tmp_path: Path, redis_url: str) -> None:
    """``serve --processes N`` with Redis: the workers' table first, so a sibling's pause is not a
    second late, and one read from Redis is copied into the table for the siblings."""
    table, client = PauseTable(), redis.Redis.from_url(redis_url)
    settings = _settings(tmp_path, redis_url, "a")
    busy, never = Service(429, {"Retry-After": "120"}), Service(200, down=True)
    deezer = enrichers(settings, http=httpx.Client(transport=httpx.MockTransport(busy)), pauses=table)[0]
    deezer.enrich([SONG])
    assert table.get("Deezer") is not None and client.pttl("moodtape:pause:deezer") > 110_000
    sibling = enrichers(settings, http=httpx.Client(transport=httpx.MockTransport(never)), pauses=table)[0]
    sibling.enrich([SONG])
    assert never.calls == 0 and sibling.last_failure is not None
    RedisPauses(client).put("iTunes Search", "iTunes Search is limiting how often.", QuotaExceededError, 60)
    itunes = enrichers(settings, http=httpx.Client(transport=httpx.MockTransport(never)), pauses=table)[1]
    itunes.enrich([SONG])
    assert never.calls == 0
    assert table.get("iTunes Search") is not None  # copied from Redis for the siblings


def test_a_machines_own_unreachable_pause_is_not_written(tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    http = httpx.Client(transport=httpx.MockTransport(Service(200, down=True)))
    (youtube,) = live_providers(_settings(tmp_path, redis_url, "a"), http=http)
    with pytest.raises(ProviderUnreachableError):
        youtube.videos(CALM)
    assert client.keys("moodtape:pause:*") == []
