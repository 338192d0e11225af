"""The session shell: it reads feedback and corrections, calls the pure engine, then records."""

from __future__ import annotations

import math

import pytest
from recommend_fakes import FakeProvider

from moodtape.errors import CatalogError, DataError, StoreUnavailableError
from moodtape.playlists import Ask, Playlists
from moodtape.recommender.engine import Recommender
from moodtape.recommender.features import item_point
from moodtape.recommender.mood import mood_from_emotion, mood_from_probabilities
from moodtape.recommender.ranking import artist_of
from moodtape.session_state import LocalSessionMemory
from moodtape.sessions import SessionService
from moodtape.store import Feedback, SavedList, Store
from moodtape.types import Track


@pytest.fixture
def sessions(engine: Recommender) -> SessionService:
    return SessionService.of(engine, LocalSessionMemory())


def test_empty_catalog_records_nothing(store: Store) -> None:
    service = SessionService(Recommender([], FakeProvider()), store, LocalSessionMemory())
    store.set_consent("s1", True)
    with pytest.raises(CatalogError, match="catalog import"):
        service.recommend("s1", mood_from_emotion("happy"))
    assert store.lists("s1") == [] and service.history("s1") == []


def test_a_list_is_recorded_in_order(sessions: SessionService, store: Store) -> None:
    store.set_consent("s1", True)
    result = sessions.recommend("s1", mood_from_emotion("sad"), n=6, seed=0)
    [kept] = store.lists("s1")
    assert [item["key"] for item in kept.items] == [entry.item.key for entry in result.items]
    assert kept.strategy == "uplift" and kept.emotion == "sad"


def test_nothing_reaches_the_database_until_history_is_chosen(sessions: SessionService, store: Store) -> None:
    """Issue 11 part 7: keeping history is the person's choice, off until chosen."""
    mood = mood_from_emotion("sad")
    first = sessions.recommend("s3", mood, n=4, seed=0)
    sessions.feedback("s3", first.items[0].item, "dislike")
    sessions.not_my_mood("s3", "sad", "happy", n=4, seed=0)
    assert store.row_count() == 0, "no consent: the visit lives only in short-lived session state"
    assert first.items[0].item.key in sessions.preferences("s3").disliked, "but the visit still learns"
    assert [kept for _, kept in sessions.history("s3")] == [False, False]
    sessions.set_consent("s3", True)  # turning history on keeps this visit too
    assert len(store.lists("s3")) == 2 and store.correction("s3", "sad") == "happy"
    assert [f.action for f in store.feedback("s3")] == ["dislike"]
    sessions.set_consent("s3", False)
    sessions.recommend("s3", mood, n=4, seed=0)
    assert len(store.lists("s3")) == 2, "off again: nothing new is kept"
    assert sessions.forget("s3") == 3 and store.row_count() == 0 and sessions.history("s3") == []


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
    assert sessions.correction("s2", "sad") is None and sessions.history("s2") == []
    assert store.row_count() == 0


def test_feedback_without_a_store_says_how_to_fix_it(tracks: list[Track]) -> None:
    with pytest.raises(DataError, match="store="):
        SessionService(Recommender([], FakeProvider(tracks)), None, LocalSessionMemory()).feedback(
            "s", tracks[0], "like"
        )


def test_feedback_from_json_matches_feedback_on_the_item(sessions: SessionService, engine: Recommender) -> None:
    shown = engine.recommend(mood_from_emotion("happy"), n=3, seed=0).to_list()[0]
    sessions.feedback_by_key("json", shown["key"], shown["artist"].upper(), "dislike", shown["genre"])
    assert shown["key"] in sessions.preferences("json").disliked
    assert sessions.preferences("json").artists == {shown["artist"].casefold(): -1.5}


def test_a_like_in_one_list_shapes_the_next_and_is_named(sessions: SessionService) -> None:
    playlists = Playlists(sessions)
    first, _ = playlists.show("taste", Ask(mood_from_emotion("happy"), n=10, seed=0))
    liked = first.items[0]
    playlists.feedback("taste", first.id, 0, "like")
    playlists.feedback("taste", first.id, 0, "like")
    taste = sessions.taste("taste")
    assert len(taste.events) == 2 and taste.events[0].title == liked["title"]
    # the features come from the saved row: energy (and genre, artist) as the list showed them
    assert taste.events[0].features["energy"] == pytest.approx(liked["energy"] - 0.5)
    later, _ = playlists.show("taste", Ask(mood_from_emotion("happy"), n=10, seed=1), fresh=True)
    named = [item for item in later.items if f"because you liked “{liked['title']}”" in item["reason"]]
    assert named and all(item["key"] != liked["key"] for item in named)  # a new song, not the same one


def test_a_replaced_row_keeps_the_disliked_songs_features(sessions: SessionService) -> None:
    playlists = Playlists(sessions)
    shown, _ = playlists.show("swap", Ask(mood_from_emotion("sad"), n=8, seed=0))
    disliked = shown.items[2]
    changed, _ = playlists.feedback("swap", shown.id, 2, "dislike")  # the row now holds another song
    assert changed.items[2]["key"] != disliked["key"]
    [event] = sessions.taste("swap").events
    assert event.reward == -1.0 and event.title == disliked["title"]  # not the replacement's title
    assert f"artist:{disliked['artist'].casefold()}" in event.features
    assert event.features["energy"] == pytest.approx(disliked["energy"] - 0.5)


def test_feedback_on_a_song_on_no_list_keeps_its_artist_and_genre(sessions: SessionService) -> None:
    sessions.feedback_by_key("gone", "k\x1fgone", "Some Artist", "dislike", "Folk")
    [event] = sessions.taste("gone").events
    assert event.reward == -1.0 and event.title == ""
    assert event.features == {"artist:some artist": 1.0, "genre:folk": 1.0}


def test_a_full_play_is_a_weaker_like(sessions: SessionService) -> None:
    playlists = Playlists(sessions)
    shown, _ = playlists.show("plays", Ask(mood_from_emotion("happy"), n=6, seed=0))
    after, replaced = playlists.feedback("plays", shown.id, 1, "play")
    assert not replaced and after.items == shown.items
    [event] = sessions.taste("plays").events
    assert event.reward == 0.5 and event.title == shown.items[1]["title"]


class FlakyStore(Store):
    """A store whose database stops answering on demand, for one kind of call or all of them."""

    down: frozenset[str] = frozenset()

    def _check(self, call: str) -> None:
        if call in self.down or "all" in self.down:
            raise StoreUnavailableError("the history store is not answering right now; try again in a moment")

    def consent(self, session_id: str) -> bool | None:
        self._check("consent")
        return super().consent(session_id)

    def save_list(self, session_id: str, saved: SavedList, *, if_kept: bool = False) -> SavedList:
        self._check("save_list")
        return super().save_list(session_id, saved, if_kept=if_kept)

    def add_feedback(self, session_id: str, feedback: Feedback, *, if_kept: bool = False) -> None:
        self._check("add_feedback")
        super().add_feedback(session_id, feedback, if_kept=if_kept)


@pytest.fixture
def flaky(catalog: FakeProvider) -> tuple[FlakyStore, Playlists]:
    store = FlakyStore(":memory:")
    service = SessionService.of(Recommender([], catalog, store=store), LocalSessionMemory())
    store.set_consent("s9", True)
    return store, Playlists(service)


@pytest.mark.parametrize("failing", ["consent", "add_feedback"])
def test_a_dislike_answered_503_leaves_nothing_behind(flaky: tuple[FlakyStore, Playlists], failing: str) -> None:
    """The database fails mid-request; the client retries; undo then brings the song back for good."""
    store, playlists = flaky
    shown, _ = playlists.show("s9", Ask(mood_from_emotion("happy"), n=5))
    key = shown.items[1]["key"]
    store.down = frozenset({failing})
    with pytest.raises(StoreUnavailableError):
        playlists.feedback("s9", shown.id, 1, "dislike")
    assert playlists.sessions.memory.get("s9").feedback == ()
    store.down = frozenset()
    assert playlists.feedback("s9", shown.id, 1, "dislike")[1] is True  # the retry
    playlists.undo("s9", shown.id)
    assert playlists.get("s9", shown.id).items[1]["key"] == key
    assert key not in playlists.sessions.preferences("s9").disliked
    assert store.feedback("s9") == [] and playlists.sessions.memory.get("s9").feedback == ()


def test_a_list_answered_503_is_made_again_and_kept(flaky: tuple[FlakyStore, Playlists]) -> None:
    store, playlists = flaky
    store.down = frozenset({"save_list"})
    with pytest.raises(StoreUnavailableError):
        playlists.show("s9", Ask(mood_from_emotion("sad"), n=5))
    store.down = frozenset()
    again, made = playlists.show("s9", Ask(mood_from_emotion("sad"), n=5))  # the page retries
    assert made is True
    assert store.get_list("s9", again.id) is not None
    assert [kept for _, kept in playlists.sessions.history("s9")] == [True]
