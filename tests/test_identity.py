"""One identity rule for "the same song" and "the same video", on real-world title variants."""

from __future__ import annotations

import pytest

from moodtape.identity import base_title, primary_artist, same_song, track_key, video_key
from moodtape.types import Track, Video


def _track(artist: str, title: str) -> Track:
    return Track(title=title, artist=artist, valence=0.5, energy=0.5)


@pytest.mark.parametrize(
    ("artist", "title", "other_artist", "other_title"),
    [
        ("The Beatles", "Let It Be", "The Beatles", "Let It Be (Remastered 2009)"),
        ("The Beatles", "Let It Be", "Beatles", "Let It Be - Remastered 2009"),
        ("Queen", "Bohemian Rhapsody", "Queen", "Bohemian Rhapsody - Live at Wembley Stadium, 1986"),
        ("Queen", "Bohemian Rhapsody", "QUEEN", "bohemian rhapsody"),
        ("Oasis", "Wonderwall", "Oasis", "Wonderwall [Live]"),
        ("Daft Punk", "Get Lucky", "Daft Punk, Pharrell Williams", "Get Lucky (feat. Pharrell Williams) [Radio Edit]"),
        ("Daft Punk", "Get Lucky", "Daft Punk feat. Pharrell Williams", "Get Lucky feat. Pharrell Williams"),
        ("Beyoncé", "Halo", "Beyonce", "Halo"),
        ("Sigur Rós", "Hoppípolla", "Sigur Ros", "Hoppipolla"),
        ("Simon & Garfunkel", "The Boxer", "Simon and Garfunkel", "The Boxer!"),
        ("AC/DC", "Back In Black", "AC/DC", "Back in Black – 2003 Remaster"),
        ("Guns N' Roses", "Sweet Child O' Mine", "Guns N Roses", "Sweet Child O Mine"),
        ("Aretha Franklin", "Respect", "Aretha Franklin", "Respect (Mono Version)"),
    ],
)
def test_variants_of_one_song_are_one_song(artist: str, title: str, other_artist: str, other_title: str) -> None:
    assert track_key(artist, title) == track_key(other_artist, other_title)
    assert _track(artist, title).key == _track(other_artist, other_title).key
    assert same_song(artist, title, other_artist, other_title)


@pytest.mark.parametrize(
    ("artist", "title", "other_artist", "other_title"),
    [
        ("Adele", "Hello", "Adele", "Hello Again"),
        ("Adele", "Hello", "Lionel Richie", "Hello"),
        ("The Beatles", "Help!", "The Beatles", "Helter Skelter"),
        ("Beyoncé", "Halo", "Beyoncé", "Hal"),
    ],
)
def test_different_songs_stay_apart(artist: str, title: str, other_artist: str, other_title: str) -> None:
    assert track_key(artist, title) != track_key(other_artist, other_title)
    assert not same_song(artist, title, other_artist, other_title)


def test_a_shared_credit_is_the_same_song_for_lookups_only() -> None:
    # Keys use the first credit; a lookup on another service accepts any shared credit.
    assert track_key("JAY-Z & Beyoncé", "Drunk in Love") != track_key("Beyoncé", "Drunk in Love")
    assert same_song("JAY-Z & Beyoncé", "Drunk in Love", "Beyoncé", "Drunk In Love (feat. JAY-Z)")


def test_the_parts_of_the_rule() -> None:
    assert (
        base_title("Song (Remastered 2011)") == base_title("Song - Live at X") == base_title("Song (feat. Y)") == "song"
    )
    assert base_title("(Untitled)") == "untitled"  # a bracket-only title keeps its words
    assert primary_artist("Beyoncé feat. JAY-Z") == "beyonce"
    assert primary_artist("The Rolling Stones") == "rolling stones"


def test_videos_keep_their_dashes_and_brackets() -> None:
    assert video_key("BBC Earth", "Our Planet - Jungles") != video_key("BBC Earth", "Our Planet - Oceans")
    assert video_key("BBC Earth", "Our Planet (Jungles)") != video_key("BBC Earth", "Our Planet (Oceans)")
    a = Video(title="Calm   Rain!", channel="Nature Sounds", valence=0.5, energy=0.2)
    b = Video(title="calm rain", channel="NATURE SOUNDS", valence=0.5, energy=0.2)
    assert a.key == b.key
