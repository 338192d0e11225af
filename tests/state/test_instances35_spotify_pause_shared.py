"""Spotify's pause after a 429 or a refused key, kept by every instance that shares Redis.

Two instances as the registry builds them (one ``MOODTAPE_REDIS_URL``), each with its own HTTP
client on a fake Spotify. Measured before: a 429 with ``Retry-After: 120`` met by instance A
paused A alone; a visitor on instance B had B search again (1 more call to a Spotify that had
said "not for 2 minutes"), and so on for every instance. Skipped, with the reason, where
redis-server is not installed (the ``redis_url`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from moodtape.config import Settings
from moodtape.errors import ProviderAuthError, ProviderUnreachableError, QuotaExceededError
from moodtape.providers.base import Provider, Query
from moodtape.providers.registry import live_providers

CALM = Query(targets=((0.5, 0.2),) * 3, limit=10)
TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
ITEM = {"id": "fixturetrack0000000001", "name": "Song", "artists": [{"name": "Artist"}]}


class FakeSpotify:
    """Answers tokens; each search with ``search`` (a status and headers, or an exception to raise)."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None, *, down: bool = False) -> None:
        self.status, self.headers, self.down = status, headers or {}, down
        self.searches = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json=TOKEN)
        self.searches += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.status != 200:
            return httpx.Response(self.status, headers=self.headers, json={"error": {"status": self.status}})
        return httpx.Response(200, json={"tracks": {"items": [ITEM], "next": None}})


def _instance(tmp_path: Path, redis_url: str, fake: FakeSpotify, name: str) -> Provider:
    """One instance's Spotify provider, built as ``moodtape serve`` builds it."""
    settings = Settings(
        {
            "MOODTAPE_DATA_DIR": str(tmp_path / name),
            "MOODTAPE_REDIS_URL": redis_url,
            "MOODTAPE_PREVIEWS": "false",
            "SPOTIFY_CLIENT_ID": "client-id-0001",
            "SPOTIFY_CLIENT_SECRET": "client-secret-0001",
        }
    )
    (provider,) = live_providers(settings, http=httpx.Client(transport=httpx.MockTransport(fake)))
    return provider


@pytest.mark.parametrize(
    ("status", "headers", "kind"),
    [(429, {"Retry-After": "120"}, QuotaExceededError), (403, {}, ProviderAuthError)],
    ids=["429", "refused"],
)
def test_a_pause_met_on_one_instance_holds_on_the_others(
    tmp_path: Path, redis_url: str, status: int, headers: dict[str, str], kind: type[Exception]
) -> None:
    fake = FakeSpotify(status, headers)
    first, second = (_instance(tmp_path, redis_url, fake, name) for name in "ab")
    with pytest.raises(kind):
        first.tracks(CALM)
    asked = fake.searches
    assert asked >= 1
    with pytest.raises(kind) as raised:  # the same error at once, without asking Spotify again
        second.tracks(CALM)
    assert fake.searches == asked
    paused = raised.value.retry_after  # type: ignore[attr-defined]
    assert paused is not None and paused > 60  # what is left of the pause (120 s, or the refused key's 300 s)


def test_an_instance_that_cannot_reach_spotify_pauses_alone(tmp_path: Path, redis_url: str) -> None:
    """A connection failure may be one machine's network: the others go on asking."""
    cut_off, reachable = FakeSpotify(down=True), FakeSpotify()
    first = _instance(tmp_path, redis_url, cut_off, "a")
    second = _instance(tmp_path, redis_url, reachable, "b")
    with pytest.raises(ProviderUnreachableError):
        first.tracks(CALM)
    assert [track.title for track in second.tracks(CALM)] == ["Song"]
    assert reachable.searches >= 1
