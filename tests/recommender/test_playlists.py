"""Saved lists under concurrent changes, and the taste a later visit learns from kept history."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from moodtape.errors import ConflictError
from moodtape.playlists import Ask, Playlists
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.session_state import LocalSessionMemory
from moodtape.sessions import SessionService
from moodtape.store import SavedList, Store


@pytest.fixture
def sessions(engine: Recommender) -> SessionService:
    return SessionService.of(engine, LocalSessionMemory())


def keys(saved: SavedList) -> list[str]:
    return [str(item["key"]) for item in saved.items]


def race(engine: Recommender, monkeypatch: pytest.MonkeyPatch, *work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in threads that each finish their first ranking before any of them goes on.

    That is the interleaving that lost a replacement: every request ranks against the same list,
    then each applies its change.
    """
    barrier = threading.Barrier(len(work), timeout=20)
    ranked_once: set[int] = set()
    real = engine.recommend

    def ranking_in_step(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if threading.get_ident() not in ranked_once:
            ranked_once.add(threading.get_ident())
            barrier.wait()
        return result

    monkeypatch.setattr(engine, "recommend", ranking_in_step)
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work[index]()
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_dislikes_at_once_keep_both_replacements(
    sessions: SessionService, engine: Recommender, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store helper's note: ranking ran outside the atomic update, so one replacement was lost."""
    playlists = Playlists(sessions)
    sessions.set_consent("race", True)  # the kept copy must end the same as the visit's
    shown, _ = playlists.show("race", Ask(mood_from_emotion("sad"), n=8, seed=0))
    race(
        engine,
        monkeypatch,
        lambda: playlists.feedback("race", shown.id, 1, "dislike"),
        lambda: playlists.feedback("race", shown.id, 5, "dislike"),
    )
    final = playlists.get("race", shown.id)
    before, after = keys(shown), keys(final)
    assert after[1] != before[1] and after[5] != before[5], "both disliked rows are replaced"
    assert [after[i] for i in (0, 2, 3, 4, 6, 7)] == [before[i] for i in (0, 2, 3, 4, 6, 7)]
    assert len(set(after)) == len(after), "the two replacements are different songs"
    assert final.revision == 2 and playlists.undo_steps("race", shown.id) == 2
    kept = store.get_list("race", shown.id)
    assert kept is not None and keys(kept) == after
    playlists.undo("race", shown.id)
    assert keys(playlists.undo("race", shown.id).saved) == before
    assert sessions.preferences("race").disliked == frozenset()


def test_the_same_dislike_sent_twice_at_once_replaces_the_row_once(
    sessions: SessionService, engine: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    playlists = Playlists(sessions)
    shown, _ = playlists.show("twice", Ask(mood_from_emotion("happy"), n=6, seed=0))
    outcomes = race(
        engine,
        monkeypatch,
        lambda: playlists.feedback("twice", shown.id, 2, "dislike"),
        lambda: playlists.feedback("twice", shown.id, 2, "dislike"),
    )
    assert sorted(replaced for _, replaced in outcomes) == [False, True]
    final = playlists.get("twice", shown.id)
    assert final.revision == 1 and playlists.undo_steps("twice", shown.id) == 1
    assert keys(final)[2] != keys(shown)[2] and len(set(keys(final))) == 6
    # The dislike counts once: undoing it brings the song back for good.
    assert [f.action for f in sessions.memory.get("twice").feedback] == ["dislike"]
    assert keys(playlists.undo("twice", shown.id).saved) == keys(shown)
    assert sessions.preferences("twice").disliked == frozenset()


def test_a_dislike_answered_409_is_not_counted(
    sessions: SessionService, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list kept changing under the dislike (409 "send it again"): nothing of it may stay, or
    the retry counts it twice and undo can never reach the first one."""
    playlists = Playlists(sessions)
    sessions.set_consent("busy", True)
    shown, _ = playlists.show("busy", Ask(mood_from_emotion("sad"), n=6, seed=0))
    monkeypatch.setattr(playlists, "_apply_if_unchanged", lambda *args: False)  # always beaten to it
    with pytest.raises(ConflictError, match="send it again"):
        playlists.feedback("busy", shown.id, 1, "dislike")
    assert sessions.memory.get("busy").feedback == () and store.feedback("busy") == []
    assert keys(playlists.get("busy", shown.id)) == keys(shown)
    monkeypatch.undo()
    playlists.feedback("busy", shown.id, 1, "dislike")  # the retry
    assert keys(playlists.undo("busy", shown.id).saved) == keys(shown)
    assert sessions.preferences("busy").disliked == frozenset() and store.feedback("busy") == []


def test_two_undos_at_once_undo_two_dislikes(sessions: SessionService) -> None:
    playlists = Playlists(sessions)
    shown, _ = playlists.show("undo", Ask(mood_from_emotion("sad"), n=6, seed=0))
    playlists.feedback("undo", shown.id, 0, "dislike")
    playlists.feedback("undo", shown.id, 4, "dislike")
    barrier = threading.Barrier(2, timeout=20)
    done: list[SavedList] = []

    def undo() -> None:
        barrier.wait()
        done.append(playlists.undo("undo", shown.id).saved)

    threads = [threading.Thread(target=undo) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(done) == 2 and keys(playlists.get("undo", shown.id)) == keys(shown)
    assert playlists.undo_steps("undo", shown.id) == 0


def test_a_later_visit_learns_every_feature_from_kept_history(engine: Recommender, store: Store) -> None:
    """With history on, the taste is built from the kept feedback joined with the kept lists' items."""
    visit = SessionService(engine, store, LocalSessionMemory())
    visit.set_consent("kept", True)
    playlists = Playlists(visit)
    shown, _ = playlists.show("kept", Ask(mood_from_emotion("happy"), n=10, seed=0))
    full = [i for i, item in enumerate(shown.items) if item.get("acousticness") is not None]
    liked, disliked = full[0], full[1]
    playlists.feedback("kept", shown.id, liked, "like")
    playlists.feedback("kept", shown.id, disliked, "dislike")  # the row now holds another song
    during = visit.taste("kept")
    # A new visit: the short-lived state is gone, the kept history is not.
    later = SessionService(engine, store, LocalSessionMemory()).taste("kept")
    assert [(e.features, e.reward, e.title) for e in later.events] == [
        (e.features, e.reward, e.title) for e in during.events
    ]
    for event, row in zip(later.events, (liked, disliked), strict=True):
        item = shown.items[row]
        assert event.title == item["title"]
        assert event.features["energy"] == pytest.approx(item["energy"] - 0.5)
        assert event.features["acoustic"] == pytest.approx(item["acousticness"] - 0.5)
    # Without history the next visit starts with an empty taste.
    visit.set_consent("kept", False)
    assert SessionService(engine, store, LocalSessionMemory()).taste("kept").events == ()


def test_with_history_turned_off_a_dislike_or_undo_leaves_the_kept_list_as_it_was(
    engine: Recommender, store: Store
) -> None:
    """Turning history off stops recording: the kept copy must not take later changes (found with two
    instances: the stored list had its row replaced while no feedback row was written)."""
    visit = SessionService(engine, store, LocalSessionMemory())
    visit.set_consent("off", True)
    playlists = Playlists(visit)
    shown, _ = playlists.show("off", Ask(mood_from_emotion("happy"), n=10, seed=0))
    visit.set_consent("off", False)
    changed, replaced = playlists.feedback("off", shown.id, 0, "dislike")
    assert replaced and keys(changed) != keys(shown)
    kept = store.get_list("off", shown.id)
    assert kept is not None and keys(kept) == keys(shown) and not kept.document.get("replaced")
    playlists.undo("off", shown.id)
    kept = store.get_list("off", shown.id)
    assert kept is not None and keys(kept) == keys(shown)


def between_consent_and_write(
    store: Store, monkeypatch: pytest.MonkeyPatch, work: Callable[[], Any], meanwhile: Callable[[], Any]
) -> None:
    """Run ``work`` in a thread, paused right after its first consent read, and ``meanwhile`` in
    that pause: what another instance does between one request's check and its write."""
    checked, done = threading.Event(), threading.Event()
    read_consent = store.consent

    def first_read_pauses(session_id: str) -> bool | None:
        answer = read_consent(session_id)
        if not checked.is_set():
            checked.set()
            done.wait(5)
        return answer

    monkeypatch.setattr(store, "consent", first_read_pauses)
    worker = threading.Thread(target=work)
    worker.start()
    assert checked.wait(5)
    meanwhile()
    done.set()
    worker.join(10)
    monkeypatch.setattr(store, "consent", read_consent)


@pytest.mark.parametrize("change", ["list", "dislike", "correction"])
def test_a_delete_between_the_consent_check_and_the_write_leaves_nothing(
    engine: Recommender, store: Store, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A "Delete everything" on another instance lands after this request read the consent (on) and
    before it wrote: nothing may be stored after the delete (found with two instances: 3–5 of 20)."""
    visit = SessionService(engine, store, LocalSessionMemory())
    visit.set_consent("gone", True)
    playlists = Playlists(visit)
    shown, _ = playlists.show("gone", Ask(mood_from_emotion("happy"), n=10, seed=0))
    work = {
        "list": lambda: visit.record("gone", engine.recommend(mood_from_emotion("sad"), n=5, seed=1), {}),
        "dislike": lambda: playlists.feedback("gone", shown.id, 0, "dislike"),
        "correction": lambda: visit.set_correction("gone", "angry", "neutral"),
    }[change]
    between_consent_and_write(store, monkeypatch, work, lambda: store.delete_session("gone"))
    assert store.lists("gone") == [] and store.feedback("gone") == [] and store.corrections("gone") == {}
    assert store.consent("gone") is None


@pytest.mark.parametrize("change", ["list", "dislike"])
def test_history_turned_on_between_the_consent_check_and_the_visit_still_keeps_the_change(
    engine: Recommender, store: Store, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """History turned on (another instance) after this request read "off" and before it put the
    list in the visit: turning it on kept the visit as it was, so the list must be kept here."""
    visit = SessionService(engine, store, LocalSessionMemory())
    playlists = Playlists(visit)
    shown, _ = playlists.show("late", Ask(mood_from_emotion("happy"), n=10, seed=0))
    result: list[Any] = []
    work = {
        "list": lambda: result.append(
            visit.record("late", engine.recommend(mood_from_emotion("sad"), n=5, seed=1), {})[1]
        ),
        "dislike": lambda: result.append(playlists.feedback("late", shown.id, 0, "dislike")),
    }[change]
    between_consent_and_write(store, monkeypatch, work, lambda: visit.set_consent("late", True))
    assert result, "the request did not finish"
    if change == "list":
        assert result[0].id in {saved.id for saved in store.lists("late")}
    else:
        assert [f.action for f in store.feedback("late")] == ["dislike"]


def test_the_taste_reads_at_most_its_own_bound_of_signals(engine: Recommender, store: Store) -> None:
    from moodtape.recommender.taste import MAX_EVENTS

    visit = SessionService(engine, store, LocalSessionMemory())
    visit.set_consent("many", True)
    shown, _ = Playlists(visit).show("many", Ask(mood_from_emotion("sad"), n=5, seed=0))
    for i in range(MAX_EVENTS + 30):
        item = shown.items[i % 5]
        visit.feedback_by_key("many", str(item["key"]), str(item["artist"]), "skip" if i % 2 else "like")
    later = SessionService(engine, store, LocalSessionMemory())
    assert len(later.taste("many").events) == MAX_EVENTS


@pytest.fixture(scope="module")
def builtin_sessions() -> SessionService:
    from moodtape.providers.catalog import Catalog

    return SessionService.of(Recommender([], Catalog.builtin(), store=Store(":memory:")), LocalSessionMemory())


@pytest.mark.parametrize("kind", ["tracks", "videos"])
@pytest.mark.parametrize("emotion", ["sad", "happy", "angry"])
def test_a_replaced_row_never_brings_an_artist_twice(builtin_sessions: SessionService, emotion: str, kind: str) -> None:
    """The ranking's rule (no artist or channel twice in a list) holds after dislikes replaced rows."""
    playlists = Playlists(builtin_sessions)
    session = f"artists-{emotion}-{kind}"
    shown, _ = playlists.show(session, Ask(mood_from_emotion(emotion), kind=kind, n=12, seed=0))
    for position in range(12):
        shown, _ = playlists.feedback(session, shown.id, position, "dislike")
        artists = [str(item["artist"]).casefold().strip() for item in shown.items]
        assert len(set(artists)) == len(artists), (position, artists)
