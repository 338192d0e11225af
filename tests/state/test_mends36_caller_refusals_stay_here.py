"""A YouTube key refused for who called (its IP address, website or app) pauses that machine only.

Against a real Redis (the ``redis_url`` fixture; skipped, with the reason, where redis-server is
not installed). Measured before (the reviewer's ``ipblock.py``): instance A, outside the key's IP
allow-list, met ``403 API_KEY_IP_ADDRESS_BLOCKED``, and its 5-minute pause went to Redis as a
refused key's: instance B, inside the allow-list, sent YouTube 0 calls and showed the catalog,
again each time A's pause ended and A asked again. Now B asks and gets its videos; the workers of
A's own ``serve --processes N`` (one address) still keep A's pause, and a key refused everywhere
(invalid, the API not enabled, the API blocked for the key) still pauses every instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from moodtape.config import Settings
from moodtape.errors import CallerRefusedError, ProviderAuthError, ProviderError
from moodtape.providers.base import Query
from moodtape.providers.registry import live_providers
from moodtape.providers.youtube import YouTubeProvider
from moodtape.state.pauses import RedisPauses
from moodtape.state.process_pauses import PauseTable

CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)
VIDEOS = {
    "items": [
        {"id": {"kind": "youtube#video", "videoId": "abcdefghijk"}, "snippet": {"title": "t", "channelTitle": "c"}}
    ]
}


def _refusal(reason: str | None, message: str = "The caller does not have permission") -> dict[str, Any]:
    """Google's 403 body, ``reason`` in ``details`` as the ErrorInfo has it (None: a bare 403)."""
    error: dict[str, Any] = {"code": 403, "message": message, "errors": [{"reason": "forbidden"}]}
    if reason is not None:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return {"error": error}


CALLER_REFUSALS = {
    "ip-address": _refusal("API_KEY_IP_ADDRESS_BLOCKED", "The originating IP address violates this restriction."),
    "referrer": _refusal("API_KEY_HTTP_REFERRER_BLOCKED", "Requests from referer <empty> are blocked."),
    "android-app": _refusal("API_KEY_ANDROID_APP_BLOCKED"),
    "ios-app": _refusal("API_KEY_IOS_APP_BLOCKED"),
    "legacy-ip-referer": {"error": {"code": 403, "message": "blocked", "errors": [{"reason": "ipRefererBlocked"}]}},
    "bare-403": _refusal(None),
}
KEY_REFUSALS = {
    "key-invalid": {"error": {"code": 400, "message": "API key not valid.", "errors": [{"reason": "keyInvalid"}]}},
    "api-not-enabled": {
        "error": {"code": 403, "message": "not enabled", "errors": [{"reason": "accessNotConfigured"}]}
    },
    "api-blocked-for-key": _refusal("API_KEY_SERVICE_BLOCKED", "Requests to this API are blocked."),
}


class YouTube:
    """One machine's view of YouTube: every call answered ``status`` with ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body, self.calls = status, body, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(self.status, json=self.body)


def _youtube(tmp_path: Path, redis_url: str, name: str, fake: YouTube, table: PauseTable | None = None) -> Any:
    settings = Settings(
        {
            "MOODTAPE_DATA_DIR": str(tmp_path / name),
            "MOODTAPE_REDIS_URL": redis_url,
            "YOUTUBE_API_KEY": "youtube-key-0036",
        }
    )
    (youtube,) = live_providers(settings, http=httpx.Client(transport=httpx.MockTransport(fake)), pauses=table)
    assert isinstance(youtube, YouTubeProvider)
    return youtube


@pytest.mark.parametrize("body", CALLER_REFUSALS.values(), ids=CALLER_REFUSALS.keys())
def test_a_refusal_of_one_machine_does_not_pause_the_others(tmp_path: Path, redis_url: str, body: Any) -> None:
    refused, welcome = YouTube(403, body), YouTube(200, VIDEOS)
    with pytest.raises(CallerRefusedError):
        _youtube(tmp_path, redis_url, "a", refused).videos(CALM)
    assert redis.Redis.from_url(redis_url).keys("moodtape:pause:*") == []  # before: youtube's, 300 s
    assert _youtube(tmp_path, redis_url, "b", welcome).videos(CALM)
    assert welcome.calls >= 1  # before: 0, the catalog instead


@pytest.mark.parametrize("body", CALLER_REFUSALS.values(), ids=CALLER_REFUSALS.keys())
def test_the_workers_of_the_refused_machine_keep_its_pause(tmp_path: Path, redis_url: str, body: Any) -> None:
    """``serve --processes N``'s workers share one address: a sibling is not let in where the
    worker that met the refusal was not."""
    table, refused, elsewhere = PauseTable(), YouTube(403, body), YouTube(200, VIDEOS)
    with pytest.raises(CallerRefusedError):
        _youtube(tmp_path, redis_url, "a", refused, table).videos(CALM)
    sibling = YouTube(403, body)
    with pytest.raises(ProviderAuthError):
        _youtube(tmp_path, redis_url, "a", sibling, table).videos(CALM)
    assert sibling.calls == 0
    assert _youtube(tmp_path, redis_url, "b", elsewhere, PauseTable()).videos(CALM)  # another machine
    assert elsewhere.calls >= 1  # before: 0


@pytest.mark.parametrize("body", KEY_REFUSALS.values(), ids=KEY_REFUSALS.keys())
def test_a_key_refused_everywhere_still_pauses_every_instance(tmp_path: Path, redis_url: str, body: Any) -> None:
    refused, never = YouTube(403, body), YouTube(200, VIDEOS)
    with pytest.raises(ProviderAuthError) as first:
        _youtube(tmp_path, redis_url, "a", refused).videos(CALM)
    assert not isinstance(first.value, CallerRefusedError)
    with pytest.raises(ProviderAuthError):
        _youtube(tmp_path, redis_url, "b", never).videos(CALM)
    assert never.calls == 0


def test_redis_never_holds_nor_gives_back_a_refusal_of_the_caller(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pauses = RedisPauses(client, "fp")
    pauses.put("YouTube", "YouTube is not available here for now.", CallerRefusedError, 300)
    assert client.keys("moodtape:pause:*") == []
    client.set("moodtape:pause:youtube:fp", '{"kind":"caller","reason":"r"}', px=300_000)  # by no moodtape
    assert RedisPauses(client, "fp").get("YouTube") is None


def test_the_workers_table_gives_back_the_same_kind() -> None:
    table = PauseTable()
    table.put("YouTube", "YouTube is not available here for now.", CallerRefusedError, 300)
    pause = table.get("YouTube")
    assert pause is not None and pause.kind is CallerRefusedError
    assert issubclass(pause.kind, ProviderError)
