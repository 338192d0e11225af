"""The session shell: it reads feedback and corrections, calls the pure engine, then records."""

from __future__ import annotations

import math

import pytest
from recommend_fakes import FakeProvider

from moodtape.errors import CatalogError, DataError
from moodtape.recommender.engine import Recommender
from moodtape.recommender.features import item_point
from moodtape.recommender.mood import mood_from_emotion, mood_from_probabilities
from moodtape.recommender.ranking import artist_of
from moodtape.sessions import SessionService
from moodtape.store import Store
from moodtape.types import Track


@pytest.fixture
def sessions(engine: Recommender) -> SessionService:
    return SessionService.of(engine)


def test_empty_catalog_records_nothing(store: Store) -> None:
    service = SessionService(Recommender([], FakeProvider()), store)
    with pytest.raises(CatalogError, match="catalog import"):
        service.recommend("s1", mood_from_emotion("happy"))
    assert store.history("s1") == []


def test_a_list_is_recorded_in_order(sessions: SessionService, store: Store) -> None:
    result = sessions.recommend("s1", mood_from_emotion("sad"), n=6, seed=0)
    rows = store.history("s1")
    assert [row.item_key for row in rows] == [entry.item.key for entry in result.items]
    assert {row.strategy for row in rows} == {"uplift"} and {row.emotion for row in rows} == {"sad"}


def test_no_repeats_within_a_session(sessions: SessionService) -> None:
    mood = mood_from_emotion("happy")
    first = {entry.item.key for entry in sessions.recommend("abc", mood, n=20, seed=0).items}
    second = {entry.item.key for entry in sessions.recommend("abc", mood, n=20, seed=0).items}
    assert not first & second
    other_session = {entry.item.key for entry in sessions.recommend("xyz", mood, n=20, seed=0).items}
    assert other_session == first


def test_likes_bring_an_artist_in(sessions: SessionService, engine: Recommender, tracks: list[Track]) -> None:
    mood = mood_from_emotion("happy")
    before = engine.recommend(mood, n=10, seed=0)
    chosen_artists = {artist_of(entry.item) for entry in before.items}
    outsider = min(
        (t for t in tracks if artist_of(t) not in chosen_artists),
        key=lambda t: min(math.dist(item_point(t), target) for target in before.targets),
    )
    sessions.feedback("fb", outsider, "like")
    sessions.feedback("fb", outsider, "like")
    after = sessions.recommend("fb", mood, n=10, seed=0)
    liked = [entry for entry in after.items if artist_of(entry.item) == artist_of(outsider)]
    assert len(liked) == 1


def test_dislikes_and_skips_push_items_out(sessions: SessionService, engine: Recommender) -> None:
    mood = mood_from_emotion("happy")
    before = engine.recommend(mood, n=10, seed=0)
    sessions.feedback("fb", before.items[0].item, "dislike")
    for _ in range(3):
        sessions.feedback("fb", before.items[1].item, "skip")
    prefs = sessions.preferences("fb")
    assert engine.recommend(mood, n=10, seed=0).to_list() == before.to_list()  # the engine alone is unchanged
    keys = [entry.item.key for entry in sessions.recommend("fb", mood, n=10, seed=0).items]
    assert before.items[0].item.key not in keys
    assert before.items[0].item.key in prefs.disliked
    assert prefs.artists[artist_of(before.items[1].item)] < 0


def test_unknown_feedback_is_refused(sessions: SessionService, tracks: list[Track]) -> None:
    with pytest.raises(DataError, match="unknown feedback 'love'"):
        sessions.feedback("fb", tracks[0], "love")


def test_not_my_mood_changes_the_list_and_later_face_moods(sessions: SessionService, engine: Recommender) -> None:
    angry_face = mood_from_probabilities({"angry": 0.8, "neutral": 0.2})
    before = engine.recommend(angry_face, n=10, seed=0)
    assert before.strategy == "calm"
    corrected = sessions.not_my_mood("s9", "angry", "happy", n=10, seed=0)
    assert corrected.mood.emotion == "happy" and corrected.strategy == "match"
    assert {e.item.key for e in corrected.items}.isdisjoint({e.item.key for e in before.items})
    later = sessions.recommend("s9", angry_face, n=10, seed=0)
    assert later.mood.source == "corrected" and later.mood.emotion == "happy"
    # a hand-picked emotion is taken as given, never "corrected"
    assert sessions.recommend("s9", mood_from_emotion("angry"), n=5).mood.emotion == "angry"


@pytest.mark.parametrize(
    "bad",
    [{"n": 0}, {"n": 1000}, {"kind": "songs"}, {"strategy": "sleep"}, {"corrected": "bored"}, {"detected": "x"}],
)
def test_a_refused_not_my_mood_writes_nothing(sessions: SessionService, store: Store, bad: dict[str, object]) -> None:
    """Issue 11: a 400 used to store its correction; now everything is checked first."""
    arguments: dict[str, object] = {"detected": "sad", "corrected": "happy", "n": 5, **bad}
    with pytest.raises(DataError):
        sessions.not_my_mood("s2", **arguments)  # type: ignore[arg-type]
    assert store.correction("s2", "sad") is None and store.history("s2") == []


def test_feedback_without_a_store_says_how_to_fix_it(tracks: list[Track]) -> None:
    with pytest.raises(DataError, match="store="):
        SessionService(Recommender([], FakeProvider(tracks)), None).feedback("s", tracks[0], "like")


def test_feedback_from_json_matches_feedback_on_the_item(sessions: SessionService, engine: Recommender) -> None:
    shown = engine.recommend(mood_from_emotion("happy"), n=3, seed=0).to_list()[0]
    sessions.feedback_by_key("json", shown["key"], shown["artist"].upper(), "dislike", shown["genre"])
    assert shown["key"] in sessions.preferences("json").disliked
    assert sessions.preferences("json").artists == {shown["artist"].casefold(): -1.5}


def test_a_like_in_one_list_shapes_the_next_and_is_named(sessions: SessionService) -> None:
    mood = mood_from_emotion("happy")
    first = sessions.recommend("taste", mood, n=10, seed=0)
    liked = first.items[0].item
    sessions.feedback("taste", liked, "like")
    sessions.feedback("taste", liked, "like")
    taste = sessions.taste("taste")
    assert len(taste.events) == 2 and taste.events[0].title == liked.title
    later = sessions.recommend("taste", mood, n=10, seed=1)
    named = [entry for entry in later.items if f"because you liked “{liked.title}”" in entry.reason]
    assert named and all(entry.item.key != liked.key for entry in named)  # a new song, not the same one
