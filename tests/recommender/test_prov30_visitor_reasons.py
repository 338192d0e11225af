"""A live service refused for the operator's reasons: visitors read that it is not available here,
the operator's log says which setting to check (session 30).

Before, a wrong Spotify secret or YouTube key put "check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"
or "check YOUTUBE_API_KEY" in every visitor's list of reasons (the page and the JSON).
"""

from __future__ import annotations

import logging

import httpx
import pytest
from recommend_fakes import FakeProvider

from moodtape.providers.spotify import SpotifyProvider
from moodtape.providers.youtube import YouTubeProvider
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion

SECRET = "prov30-client-secret"
API_KEY = "AIza-prov30-visitor-key"


def _refusing(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/token":
        return httpx.Response(400, json={"error": "invalid_client", "error_description": "Invalid client"})
    message = "API key not valid. Please pass a valid API key."
    error = {"code": 400, "message": message, "errors": [{"reason": "keyInvalid"}], "status": "INVALID_ARGUMENT"}
    return httpx.Response(400, json={"error": error})


@pytest.mark.parametrize(
    ("kind", "setting"),
    [("tracks", "SPOTIFY_CLIENT_SECRET"), ("videos", "YOUTUBE_API_KEY")],
)
def test_a_refused_key_is_worded_for_visitors_and_detailed_for_the_operator(
    catalog: FakeProvider, caplog: pytest.LogCaptureFixture, kind: str, setting: str
) -> None:
    http = httpx.Client(transport=httpx.MockTransport(_refusing))
    live = [
        SpotifyProvider("prov30-id", SECRET, http=http, cache_ttl=0),
        YouTubeProvider(API_KEY, http=http),
    ]
    with caplog.at_level(logging.WARNING, logger="moodtape.providers"):
        result = Recommender(live, catalog).recommend(mood_from_emotion("sad"), kind=kind, n=5, seed=0)
    assert result.sources == ("catalog",)
    service = "Spotify" if kind == "tracks" else "YouTube"
    assert result.fallback_reasons == (f"{service} is not available here for now; the built-in catalog stands in.",)
    assert [r.getMessage() for r in caplog.records if setting in r.getMessage()], caplog.text
    assert SECRET not in caplog.text and API_KEY not in caplog.text
