"""Spotify's shared pause belongs to the credentials that met it, and a shorter one never cuts a longer.

Against a real Redis (the ``redis_url`` fixture; skipped, with the reason, where redis-server is
not installed). Measured before: one instance holding a revoked secret (mid-rotation) or a typo
met ``invalid_client`` and wrote ``moodtape:pause:spotify`` for 300 s; an instance whose
credentials work then raised the same ProviderAuthError at once (0 searches reached Spotify),
again each time the stale instance's own pause ended. And a 10 s pause written after a 1 h one
replaced it (PTTL 3,600,000 -> 10,000 ms).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
import redis

from moodtape.config import Settings
from moodtape.errors import ProviderAuthError, QuotaExceededError
from moodtape.providers.base import Provider, Query
from moodtape.providers.registry import live_providers
from moodtape.state.pauses import RedisPauses

CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)
GOOD_SECRET, STALE_SECRET = "new-secret-0001", "old-secret-0001"


def fingerprint(client_id: str, secret: str) -> str:
    """What docs/deployment.md says the pause's key ends with."""
    return hashlib.blake2b(f"{client_id}:{secret}".encode(), digest_size=8).hexdigest()


ITEM = {"id": "fixturetrack0000000001", "name": "Song", "artists": [{"name": "Artist"}]}


class RotatedSpotify:
    """A Spotify that accepts only the new secret; counts the searches that reach it."""

    def __init__(self) -> None:
        self.searches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            basic = base64.b64decode(request.headers["authorization"].split()[1]).decode()
            if basic.partition(":")[2] != GOOD_SECRET:
                return httpx.Response(
                    400, json={"error": "invalid_client", "error_description": "Invalid client secret"}
                )
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        self.searches += 1
        return httpx.Response(200, json={"tracks": {"items": [ITEM], "next": None}})


def _instance(tmp_path: Path, redis_url: str, fake: RotatedSpotify, name: str, secret: str) -> Provider:
    settings = Settings(
        {
            "MOODTAPE_DATA_DIR": str(tmp_path / name),
            "MOODTAPE_REDIS_URL": redis_url,
            "MOODTAPE_PREVIEWS": "false",
            "SPOTIFY_CLIENT_ID": "client-id-0001",
            "SPOTIFY_CLIENT_SECRET": secret,
        }
    )
    (provider,) = live_providers(settings, http=httpx.Client(transport=httpx.MockTransport(fake)))
    return provider


def test_a_stale_secret_does_not_pause_an_instance_whose_credentials_work(tmp_path: Path, redis_url: str) -> None:
    fake = RotatedSpotify()
    stale = _instance(tmp_path, redis_url, fake, "old", STALE_SECRET)
    good = _instance(tmp_path, redis_url, fake, "new", GOOD_SECRET)
    with pytest.raises(ProviderAuthError):
        stale.tracks(CALM)
    assert [track.title for track in good.tracks(CALM)] == ["Song"]
    assert fake.searches >= 1


def test_instances_with_the_same_stale_secret_still_share_its_pause(tmp_path: Path, redis_url: str) -> None:
    fake = RotatedSpotify()
    first = _instance(tmp_path, redis_url, fake, "a", STALE_SECRET)
    second = _instance(tmp_path, redis_url, fake, "b", STALE_SECRET)
    with pytest.raises(ProviderAuthError):
        first.tracks(CALM)
    with pytest.raises(ProviderAuthError) as raised:
        second.tracks(CALM)
    assert (raised.value.retry_after or 0) > 60  # type: ignore[attr-defined]  # the first one's pause


def test_redis_holds_a_fingerprint_of_the_credentials_never_the_secret(tmp_path: Path, redis_url: str) -> None:
    stale = _instance(tmp_path, redis_url, RotatedSpotify(), "old", STALE_SECRET)
    with pytest.raises(ProviderAuthError):
        stale.tracks(CALM)
    client = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in client.keys("moodtape:pause:*")]
    assert keys == [f"moodtape:pause:spotify:{fingerprint('client-id-0001', STALE_SECRET)}"]
    assert all(STALE_SECRET not in key and STALE_SECRET.encode() not in client.get(key) for key in keys)
    assert fingerprint("client-id-0001", STALE_SECRET) != fingerprint("client-id-0001", GOOD_SECRET)


def test_a_shorter_pause_leaves_a_longer_one_in_force(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pauses = RedisPauses(client)
    pauses.put("Spotify", "Spotify asks to wait an hour.", QuotaExceededError, 3600)
    pauses.put("Spotify", "Spotify asks to wait 10 s.", QuotaExceededError, 10)
    shared = pauses.get("Spotify")
    assert shared is not None
    assert shared.seconds > 3500 and shared.reason == "Spotify asks to wait an hour."


def test_a_longer_pause_replaces_a_shorter_one(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pauses = RedisPauses(client)
    pauses.put("Spotify", "short", QuotaExceededError, 10)
    pauses.put("Spotify", "refused", ProviderAuthError, 300)
    shared = pauses.get("Spotify")
    assert shared is not None
    assert shared.seconds > 200 and shared.kind is ProviderAuthError and shared.reason == "refused"
