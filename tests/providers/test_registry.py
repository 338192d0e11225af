"""Which live providers and enrichers the settings build."""

from __future__ import annotations

import httpx
import pytest

from moodtape.config import Settings
from moodtape.errors import SettingsError
from moodtape.providers.previews import DeezerPreviews, ITunesPreviews
from moodtape.providers.registry import enrichers, live_providers
from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider

KEYS = {"SPOTIFY_CLIENT_ID": "cid-123", "SPOTIFY_CLIENT_SECRET": "csecret-456", "YOUTUBE_API_KEY": "ykey-789"}


def settings(tmp_path, **values: str) -> Settings:
    return Settings({"MOODTAPE_DATA_DIR": str(tmp_path), **values})


@pytest.fixture
def http():
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))


def kinds(objects) -> list[type]:
    return [type(o) for o in objects]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, []),
        ({"SPOTIFY_CLIENT_ID": "cid-123"}, []),  # half the credentials is none
        ({"SPOTIFY_CLIENT_ID": "cid-123", "SPOTIFY_CLIENT_SECRET": "csecret-456"}, [SpotifyProvider]),
        ({"YOUTUBE_API_KEY": "ykey-789"}, [YouTubeProvider]),
        (KEYS, [SpotifyProvider, YouTubeProvider]),
        ({**KEYS, "MOODTAPE_OFFLINE": "true"}, []),
        ({"SPOTIFY_CLIENT_ID": "  ", "SPOTIFY_CLIENT_SECRET": " ", "YOUTUBE_API_KEY": " "}, []),
    ],
)
def test_live_providers_follow_the_keys(tmp_path, http, values, expected) -> None:
    assert kinds(live_providers(settings(tmp_path, **values), http)) == expected


def test_settings_reach_the_providers(tmp_path, http) -> None:
    values = {
        **KEYS,
        "SPOTIFY_MARKET": "JP",
        "YOUTUBE_REGION": "BR",
        "YOUTUBE_SAFE_SEARCH": "Strict",
        "YOUTUBE_DAILY_SEARCH_BUDGET": "7",
    }
    spotify, youtube = live_providers(settings(tmp_path, **values), http)
    assert isinstance(spotify, SpotifyProvider) and spotify.market == "JP"
    assert isinstance(youtube, YouTubeProvider)
    assert (youtube.region, youtube.safe_search, youtube.daily_search_budget) == ("BR", "strict", 7)
    assert youtube.searches_left() == 7
    text = repr([spotify, youtube])
    assert not any(secret in text for secret in KEYS.values())


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, [DeezerPreviews, ITunesPreviews]),
        ({"MOODTAPE_PREVIEWS": "false"}, []),
        ({"MOODTAPE_OFFLINE": "1"}, []),
    ],
)
def test_enrichers_are_on_by_default_and_off_offline(tmp_path, http, values, expected) -> None:
    assert kinds(enrichers(settings(tmp_path, **values), http)) == expected


def test_enrichers_use_a_short_timeout(tmp_path) -> None:
    deezer, itunes = enrichers(settings(tmp_path, MOODTAPE_HTTP_TIMEOUT="10", SPOTIFY_MARKET="SE"))
    assert deezer._client.timeout == 3.0 and itunes._client.timeout == 3.0
    assert isinstance(itunes, ITunesPreviews) and itunes.country == "SE"


def test_building_sends_nothing(tmp_path) -> None:
    seen: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)))
    live_providers(settings(tmp_path, **KEYS), client)
    enrichers(settings(tmp_path), client)
    assert seen == []
    assert list(tmp_path.iterdir()) == []  # the budget file appears on the first search, not before


def test_a_bad_safe_search_setting_names_the_setting(tmp_path, http) -> None:
    # Checked when the settings are read (issue 10), before any provider is built.
    with pytest.raises(
        SettingsError, match="YOUTUBE_SAFE_SEARCH='off' is not allowed: use one of: none, moderate, strict"
    ):
        live_providers(settings(tmp_path, YOUTUBE_API_KEY="k", YOUTUBE_SAFE_SEARCH="off"), http)
