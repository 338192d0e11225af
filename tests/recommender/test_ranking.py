from __future__ import annotations

import math

import pytest
from recommend_fakes import make_tracks

from moodtape.recommender.features import item_point
from moodtape.recommender.ranking import Preferences, artist_of, rank
from moodtape.types import Track

PATH = [(0.2 + 0.03 * i, 0.3 + 0.02 * i) for i in range(20)]


def test_each_slot_gets_a_near_item() -> None:
    chosen = rank(make_tracks(), PATH, seed=0)
    assert [c.position for c in chosen] == list(range(20))
    for c in chosen:
        assert c.distance == pytest.approx(math.dist(item_point(c.item), c.target))
        assert c.distance < 0.15


def test_no_artist_twice() -> None:
    chosen = rank(make_tracks(tracks_per_artist=4), PATH, seed=0)
    artists = [artist_of(c.item) for c in chosen]
    assert len(artists) == len(set(artists)) == 20


def test_list_is_short_when_artists_run_out() -> None:
    tracks = [Track(title=f"s{i}", artist="Only One", valence=0.5, energy=0.5) for i in range(10)]
    assert len(rank(tracks, PATH)) == 1


def test_same_seed_same_list_and_duplicates_dropped() -> None:
    tracks = make_tracks()
    doubled = tracks + [Track(title=t.title.upper(), artist=t.artist, valence=0.1, energy=0.1) for t in tracks]
    first = [c.item.key for c in rank(doubled, PATH, seed=7)]
    assert first == [c.item.key for c in rank(doubled, PATH, seed=7)]
    assert len(first) == len(set(first))


def test_seed_breaks_ties_differently() -> None:
    # Many identical points: only the jitter decides, so seeds must disagree somewhere.
    tracks = [Track(title=f"s{i}", artist=f"a{i}", valence=0.5, energy=0.5) for i in range(200)]
    lists = {tuple(c.item.key for c in rank(tracks, PATH[:5], seed=seed)) for seed in range(5)}
    assert len(lists) > 1


def test_seen_items_come_last_and_disliked_never() -> None:
    tracks = make_tracks()
    first = rank(tracks, PATH, seed=0)
    seen = frozenset(c.item.key for c in first)
    second = rank(tracks, PATH, Preferences(seen=seen), seed=0)
    assert not seen & {c.item.key for c in second}
    assert not any(c.repeat for c in second)

    only_seen = [c.item for c in first]
    repeats = rank(only_seen, PATH, Preferences(seen=seen, disliked=frozenset([first[0].item.key])), seed=0)
    assert all(c.repeat for c in repeats)
    assert first[0].item.key not in {c.item.key for c in repeats}


def test_artist_affinity_moves_an_artist_up() -> None:
    tracks = make_tracks()
    baseline = rank(tracks, PATH, seed=0)
    outsider = next(t for t in tracks if artist_of(t) not in {artist_of(c.item) for c in baseline})
    liked = Preferences(artists={artist_of(outsider): 3.0})
    boosted = rank(tracks, PATH, liked, seed=0)
    assert artist_of(outsider) in {artist_of(c.item) for c in boosted}
    assert any((c.because is not None) for c in boosted)


def test_nothing_to_rank_gives_empty() -> None:
    assert rank([], PATH) == []
