"""``moodtape recommend`` with a live service refused for the operator's reasons (session 30).

The list's reasons are worded for a site's visitors ("YouTube is not available here…"); whoever
runs the CLI is the one who can mend the setting, so the operator's detail is shown to them too.
Before, ``main`` silenced the library's log and the CLI printed the visitor's sentence only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import httpx
import pytest

from moodtape.cli import main
from moodtape.providers.base import Query
from moodtape.providers.youtube import YouTubeProvider
from moodtape.recommender import api
from moodtape.recommender.engine import Recommender
from moodtape.types import Track, Video

API_KEY = "AIza-prov30-cli-key"


class _Catalog:
    name = "catalog"

    def tracks(self, query: Query) -> list[Track]:
        return []

    def videos(self, query: Query) -> list[Video]:
        return [
            Video(title=f"Video {i}", channel=f"Channel {i}", valence=i / 10, energy=0.3, category="nature")
            for i in range(10)
        ]


def _key_refused(request: httpx.Request) -> httpx.Response:
    message = "API key not valid. Please pass a valid API key."
    error = {"code": 400, "message": message, "errors": [{"reason": "keyInvalid"}], "status": "INVALID_ARGUMENT"}
    return httpx.Response(400, json={"error": error})


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    api.set_default_recommender(None)


def _recommend_videos(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    youtube: Callable[[httpx.Request], httpx.Response],
) -> tuple[str, str]:
    transport = httpx.MockTransport(youtube)
    api.set_default_recommender(
        Recommender([YouTubeProvider(API_KEY, http=httpx.Client(transport=transport))], _Catalog())
    )
    monkeypatch.setattr(sys, "argv", ["moodtape", "recommend", "sad", "--kind", "videos", "--n", "3", "--seed", "1"])
    try:
        main()
    except SystemExit as exit_:
        assert not exit_.code
    return capsys.readouterr()


def test_a_refused_key_shows_the_visitor_note_and_the_operator_detail(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = _recommend_videos(monkeypatch, capsys, _key_refused)
    assert out.count("[catalog]") == 3
    assert err.splitlines() == [
        "moodtape: note: YouTube is not available here for now; the built-in catalog stands in.",
        "moodtape: note: YouTube: The YouTube API key is not valid: check YOUTUBE_API_KEY.",
    ]
    assert API_KEY not in err


def test_a_logged_failure_the_note_already_says_is_not_said_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = _recommend_videos(monkeypatch, capsys, _unreachable)
    assert err.splitlines() == ["moodtape: note: YouTube is unreachable (offline?)."]
