"""One URL rule: the page link and the embedded player always name the same service."""

from __future__ import annotations

import pytest

from moodtape.recommender.links import embed_url, page_url
from moodtape.types import Track, Video


@pytest.mark.parametrize(
    ("ids", "page", "embed"),
    [
        (
            {"spotify_id": "s1", "deezer_id": "9", "youtube_id": "y1"},
            "https://open.spotify.com/track/s1",
            "https://open.spotify.com/embed/track/s1",
        ),
        (
            {"deezer_id": "9", "youtube_id": "y1"},
            "https://www.deezer.com/track/9",
            "https://widget.deezer.com/widget/auto/track/9",
        ),
        ({"youtube_id": "y1"}, "https://www.youtube.com/watch?v=y1", "https://www.youtube-nocookie.com/embed/y1"),
    ],
)
def test_track_page_and_player_follow_one_order(ids: dict[str, str], page: str, embed: str) -> None:
    # the provider's own link loses to a player page: both links then name one service
    track = Track(title="Song", artist="Band", valence=0.5, energy=0.5, url="https://itunes.example/1", **ids)
    assert page_url(track) == page and embed_url(track) == embed


def test_without_an_id_the_own_link_then_a_search() -> None:
    track = Track(title="Song & Dance", artist="Band", valence=0.5, energy=0.5)
    assert page_url(track) == "https://www.youtube.com/results?search_query=Band+Song+%26+Dance"
    assert embed_url(track) is None
    linked = Track(title="Song", artist="Band", valence=0.5, energy=0.5, url="https://music.apple.com/x")
    assert page_url(linked) == "https://music.apple.com/x"


def test_ids_are_quoted_never_trusted() -> None:
    track = Track(title="Song", artist="Band", valence=0.5, energy=0.5, deezer_id="1/../../evil?x=1")
    assert page_url(track) == "https://www.deezer.com/track/1%2F..%2F..%2Fevil%3Fx%3D1"


def test_videos() -> None:
    video = Video(title="Rain", channel="Calm", valence=0.5, energy=0.2, youtube_id="abc")
    assert page_url(video) == "https://www.youtube.com/watch?v=abc"
    assert embed_url(video) == "https://www.youtube-nocookie.com/embed/abc"
    assert page_url(Video(title="Rain", channel="Calm", valence=0.5, energy=0.2)).endswith("search_query=Calm+Rain")
