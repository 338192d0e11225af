"""The taste model: a serialisable state, a posterior that learns, Thompson draws that rank."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest
from recommend_fakes import FakeProvider

from moodtape.errors import DataError
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.ranking import Preferences
from moodtape.recommender.taste import MAX_EVENTS, Taste, TasteModel, features_from_json, item_features
from moodtape.types import Track


def _track(i: int, **fields: object) -> Track:
    base: dict[str, object] = {"title": f"Song {i}", "artist": f"Artist {i}", "valence": 0.7, "energy": 0.5}
    base.update(fields)
    return Track(**base)  # type: ignore[arg-type]


def test_features_name_artist_genre_era_energy_and_acousticness() -> None:
    track = _track(1, artist="Beyoncé feat. JAY-Z", genre="Pop", decade=2000, acousticness=0.9)
    features = item_features(track)
    assert features["artist:beyonce"] == 1.0 and features["genre:pop"] == 1.0 and features["era:2000"] == 1.0
    assert features["acoustic"] == pytest.approx(0.4) and features["energy"] == pytest.approx(0.0)
    # the item's JSON (a saved list's row) gives the same features
    from moodtape.recommender.result import RecommendedItem

    row = RecommendedItem(track, 0, (0.5, 0.5), 0.0).to_dict()
    assert features_from_json(row) == pytest.approx(features)


def test_state_round_trips_through_json_and_stays_small() -> None:
    taste = Taste()
    for i in range(MAX_EVENTS + 30):
        taste = taste.learn_item(_track(i, genre="folk"), "like" if i % 2 else "skip")
    assert len(taste.events) == MAX_EVENTS
    assert taste.events[-1].title == f"Song {MAX_EVENTS + 29}"
    text = json.dumps(taste.to_json())
    assert Taste.from_json(json.loads(text)) == taste


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": 99, "events": []},
        {"version": 1, "events": [{"r": 1}]},
        {"version": 1, "events": [{"f": {"a": "x"}, "r": 1}]},
    ],
)
def test_a_damaged_state_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(DataError):
        Taste.from_json(data)


def test_unknown_signal_is_refused() -> None:
    with pytest.raises(DataError, match="unknown signal 'love'"):
        Taste().learn({}, "love")


def test_the_posterior_learns_likes_and_dislikes() -> None:
    taste = Taste()
    for i in range(4):
        taste = taste.learn_item(_track(i, genre="folk", acousticness=0.95), "like")
        taste = taste.learn_item(_track(10 + i, genre="metal", acousticness=0.05, energy=0.95), "dislike")
    model = TasteModel(taste)
    folk = item_features(_track(50, genre="folk", acousticness=0.8))
    metal = item_features(_track(51, genre="metal", acousticness=0.1, energy=0.9))
    unknown = item_features(_track(52, genre="jazz"))
    assert model.expected(folk) > 0.3 > model.expected(unknown) > -0.3 > model.expected(metal)


def test_draws_are_seeded_and_explore() -> None:
    taste = Taste().learn_item(_track(1, genre="folk"), "like")
    model = TasteModel(taste)
    items = [item_features(_track(i, genre="folk")) for i in range(5)]
    first = model.sample(items, np.random.default_rng(3))
    assert np.array_equal(first, model.sample(items, np.random.default_rng(3)))
    draws = [model.sample(items, np.random.default_rng(seed))[0] for seed in range(200)]
    assert statistics.pstdev(draws) > 0.05  # exploration: not the same utility every list
    assert statistics.fmean(draws) > 0.2  # but a liked genre is liked on average


def test_taste_steers_the_list_among_items_near_the_path() -> None:
    acoustic = [_track(i, genre="folk", acousticness=0.95, valence=0.9, energy=0.6) for i in range(20)]
    electric = [_track(100 + i, genre="rock", acousticness=0.05, valence=0.9, energy=0.6) for i in range(20)]
    engine = Recommender([], FakeProvider(acoustic + electric))
    mood = mood_from_emotion("happy")
    plain = engine.recommend(mood, n=10, seed=0)
    again = engine.recommend(mood, n=10, seed=0, preferences=Preferences(taste=Taste()))
    assert plain.to_list() == again.to_list()  # an empty taste changes nothing
    taste = Taste()
    for track in acoustic[:3]:
        taste = taste.learn_item(track, "like")
    taste = taste.learn_item(electric[0], "dislike")
    steered = engine.recommend(mood, n=10, seed=0, preferences=Preferences(taste=taste))
    share = sum(entry.item.genre == "folk" for entry in steered.items) / len(steered.items)
    assert share >= 0.8
    assert any("because you liked “Song " in entry.reason for entry in steered.items)
