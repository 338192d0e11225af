"""The store's behaviour, the same on SQLite and on a real PostgreSQL 15 (skipped when not installed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from moodtape.config import Settings
from moodtape.errors import DataError, SettingsError, StoreUnavailableError
from moodtape.store import Feedback, SavedList, Store, database_url, new_id, schema, store_from_settings
from moodtape.store.queries import _list_row


def saved(*titles: str, kind: str = "tracks", emotion: str = "sad") -> SavedList:
    items = [{"key": f"a\x1f{t}", "title": t, "artist": f"artist {t}", "source": "catalog"} for t in titles]
    mood = {"valence": -0.6, "arousal": -0.3, "emotion": emotion, "source": "emotion"}
    return SavedList(new_id(), kind, "uplift", {"mood": mood, "items": items, "path": [[0.2, 0.3]]})


def settings(**values: str) -> Settings:
    return Settings.load(overrides=values, environ={}, dotenv=None)


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
    """Build stores on a fresh SQLite file or a fresh PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres")
    return lambda **options: Store(url, **options)


def test_a_list_is_one_record_with_its_items_in_order(make_store: Callable[..., Store]) -> None:
    store = make_store()
    first = store.save_list("one", saved("s0", "s1", "s2"))
    store.save_list("two", saved("other"))
    again = store.get_list("one", first.id)
    assert again is not None and [i["title"] for i in again.items] == ["s0", "s1", "s2"]
    assert again.mood.emotion == "sad" and again.mood.valence == pytest.approx(-0.6)
    assert store.get_list("two", first.id) is None, "another session cannot open the list"
    assert store.seen_keys("one") == {"a\x1fs0", "a\x1fs1", "a\x1fs2"}


def test_newest_list_first_and_updates_replace_items(make_store: Callable[..., Store]) -> None:
    store = make_store()
    old = store.save_list("s", saved("a", "b"))
    new = store.save_list("s", saved("c"))
    assert [x.id for x in store.lists("s")] == [new.id, old.id]
    assert store.update_list("s", old.with_item(1, {"key": "z", "title": "z"}))
    assert [i["title"] for i in store.get_list("s", old.id).items] == ["a", "z"]  # type: ignore[union-attr]
    assert not store.update_list("other", old), "only the owner may change a list"


def test_an_older_revision_never_overwrites_a_newer_one(make_store: Callable[..., Store]) -> None:
    """Two requests changing one list may reach the database in either order; the newer revision wins."""
    store = make_store()
    kept = store.save_list("s", saved("a", "b", "c"))
    one = kept.with_item(0, {"key": "x", "title": "x"})
    two = one.with_item(2, {"key": "y", "title": "y"})
    assert (kept.revision, one.revision, two.revision) == (0, 1, 2)
    assert store.update_list("s", two)
    assert not store.update_list("s", one), "the late, older write is refused"
    assert not store.update_list("s", two), "the same revision again changes nothing"
    assert [i["title"] for i in store.get_list("s", kept.id).items] == ["x", "b", "y"]  # type: ignore[union-attr]


def test_text_any_database_accepts_is_kept_exactly(make_store: Callable[..., Store]) -> None:
    store = make_store()
    odd = "Ünïcode — \u0000 nul, \ud800 lone surrogate, 🎵"
    kept = store.save_list("s", saved(odd))
    assert store.get_list("s", kept.id).items[0]["title"] == odd  # type: ignore[union-attr]


def test_history_choice_is_per_session_and_unset_until_chosen(make_store: Callable[..., Store]) -> None:
    store = make_store()
    assert store.consent("s") is None
    store.set_consent("s", True)
    store.set_consent("s", False)
    assert store.consent("s") is False and store.consent("t") is None


def test_feedback_names_list_and_position_and_can_be_removed(make_store: Callable[..., Store]) -> None:
    store = make_store()
    liked = Feedback("k1", "a", "like", "pop", list_id="L" * 32, position=3)
    store.add_feedback("s", liked)
    store.add_feedback("s", Feedback("k2", "b", "dislike"))
    assert [(f.item_key, f.list_id, f.position) for f in store.feedback("s")] == [
        ("k1", "L" * 32, 3),
        ("k2", None, None),
    ]
    assert store.remove_feedback("s", liked.id) and not store.remove_feedback("s", liked.id)
    assert [f.item_key for f in store.feedback("s")] == ["k2"]


def test_latest_correction_wins(make_store: Callable[..., Store]) -> None:
    store = make_store()
    store.set_correction("s", "angry", "neutral")
    store.set_correction("s", "angry", "happy")
    assert store.correction("s", "angry") == "happy" and store.correction("s", "sad") is None


def test_deleting_a_session_removes_everything_of_it_only(make_store: Callable[..., Store]) -> None:
    store = make_store()
    store.set_consent("one", True)
    store.save_list("one", saved("a"))
    store.add_feedback("one", Feedback("k", "a", "like"))
    store.set_correction("one", "angry", "neutral")
    store.save_list("two", saved("b"))
    assert store.delete_session("one") == {"lists": 1, "feedback": 1, "mood_corrections": 1, "sessions": 1}
    assert store.lists("one") == [] and store.consent("one") is None and store.correction("one", "angry") is None
    assert len(store.lists("two")) == 1


def test_a_session_keeps_at_most_its_cap_of_lists(make_store: Callable[..., Store]) -> None:
    store = make_store(max_lists=3)
    ids = [store.save_list("s", saved(f"t{i}")).id for i in range(7)]
    assert [x.id for x in store.lists("s")] == ids[::-1][:3]
    assert store.row_count() == 3


def test_rows_past_the_retention_period_disappear(make_store: Callable[..., Store]) -> None:
    now = [1_000_000.0]
    store = make_store(retention_days=2, clock=lambda: now[0])
    store.set_consent("s", True)
    old = store.save_list("s", saved("old"))
    store.add_feedback("s", Feedback("k", "a", "like"))
    now[0] += 1.5 * 86400
    fresh = store.save_list("s", saved("fresh"))
    now[0] += 1.0 * 86400  # the first rows are 2.5 days old now, the fresh list 1 day
    assert [x.id for x in store.lists("s")] == [fresh.id], "expired rows are invisible at once"
    assert store.get_list("s", old.id) is None and store.feedback("s") == []
    assert store.prune() == 3  # the old list, the feedback and the consent row
    assert store.row_count() == 1


def test_a_backlog_is_pruned_in_short_batches(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Millions of expired rows deleted in one transaction ran into the statement timeout again and
    again; in batches each transaction stays short, and a budgeted sweep stops and goes on later."""
    from moodtape.store import queries

    monkeypatch.setattr(queries, "PRUNE_BATCH", 3)
    now = [1_000_000.0]
    store = make_store(retention_days=1, clock=lambda: now[0], max_feedback=100)
    store.set_consent("s", True)
    for i in range(10):
        store.add_feedback("s", Feedback(f"k{i}", "a", "like"))
    now[0] += 2 * 86400
    batches: list[int] = []
    write = store.database.write
    monkeypatch.setattr(store.database, "write", lambda work: batches.append(1) or write(work))
    assert store.prune(budget_s=0) == 3 and store.row_count() == 8  # one full batch, then out of time
    assert len(batches) == 2  # lists (none due), feedback (3)
    assert store.prune() == 8 and store.row_count() == 0
    assert len(batches) == 2 + 7  # lists, feedback 3 + 3 + 1, corrections, sessions, budget counts


def test_a_failed_sweep_after_a_write_leaves_the_write_answered(
    make_store: Callable[..., Store], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The sweep runs after the request's own transaction committed: its failure answered a stored
    like with a 503, and the client's retry stored it twice."""

    def stuck(*, budget_s: float | None = None) -> int:
        raise StoreUnavailableError("statement timeout")

    store = make_store()
    store.set_consent("s", True)
    monkeypatch.setattr(store, "prune", stuck)
    store._next_prune = 0.0
    with caplog.at_level("WARNING", logger="moodtape.store.queries"):
        store.add_feedback("s", Feedback("k", "a", "like"))
    assert [f.item_key for f in store.feedback("s")] == ["k"]
    assert "retention sweep failed" in caplog.text


def test_lists_and_feedback_keep_the_order_they_were_written_in_whatever_the_clocks(
    make_store: Callable[..., Store],
) -> None:
    """Two instances, one clock 5 minutes behind: its lists were stamped older than lists made
    before them, so history showed them last, and at the cap a new list was trimmed at once."""
    now = [1_000_000.0]
    ahead = make_store(max_lists=2, clock=lambda: now[0])
    behind = Store(ahead.database.url.render_as_string(hide_password=False), max_lists=2, clock=lambda: now[0] - 300)
    ahead.set_consent("s", True)
    first = ahead.save_list("s", saved("first"))
    second = behind.save_list("s", saved("second"))
    third = behind.save_list("s", saved("third"))
    assert [x.id for x in ahead.lists("s")] == [third.id, second.id]  # newest first; "first" went at the cap
    assert second.created_at > first.created_at
    behind.add_feedback("s", Feedback("k1", "a", "like"))
    ahead.add_feedback("s", Feedback("k2", "a", "like"))
    behind.add_feedback("s", Feedback("k3", "a", "like"))
    assert [f.item_key for f in ahead.feedback("s")] == ["k1", "k2", "k3"]


def test_a_failed_transaction_writes_nothing(make_store: Callable[..., Store]) -> None:
    store = make_store()
    first = store.save_list("s", saved("a"))

    def save_then_fail(connection: sa.Connection) -> None:
        connection.execute(sa.insert(schema.lists).values(**_list_row("s", saved("b"), 1.0)))
        raise RuntimeError("the second half of the work failed")

    with pytest.raises(RuntimeError, match="second half"):
        store.database.write(save_then_fail)
    assert [x.id for x in store.lists("s")] == [first.id]
    store.save_list("s", first)  # the same list again (a retried request): stored once, no error
    assert [x.id for x in store.lists("s")] == [first.id]


def test_several_threads_can_write(make_store: Callable[..., Store]) -> None:
    store = make_store()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(10):
                store.save_list(f"t{i}", saved(f"x{j}"))
                store.add_feedback(f"t{i}", Feedback(f"k{j}", "a", "skip"))
                store.seen_keys(f"t{i}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(store.lists(f"t{i}")) == 10 and len(store.feedback(f"t{i}")) == 10 for i in range(4))


@pytest.mark.parametrize("session_id", ["", "a b", "x" * 65, "../etc", "drop;table"])
def test_bad_session_ids_are_refused(session_id: str) -> None:
    with pytest.raises(DataError, match="session id"):
        Store().lists(session_id)


def test_bad_feedback_action_is_refused() -> None:
    with pytest.raises(DataError, match="like, skip, dislike"):
        Feedback("k", "a", "love")


def test_location_comes_from_the_settings(tmp_path: Path) -> None:
    assert database_url(settings(MOODTAPE_DATA_DIR=str(tmp_path))) == f"sqlite:///{tmp_path / 'moodtape.db'}"
    url = "postgresql://u@db.example:5432/moodtape"
    assert database_url(settings(MOODTAPE_DATABASE_URL=url)) == url
    with pytest.raises(SettingsError, match="postgresql://"):  # when the settings are read, at start
        store_from_settings(settings(MOODTAPE_DATABASE_URL="mysql://db/moodtape"))


def test_nothing_is_opened_until_used(tmp_path: Path) -> None:
    path = tmp_path / "lazy" / "moodtape.db"
    store = store_from_settings(settings(MOODTAPE_DATABASE_URL=f"sqlite:///{path}", MOODTAPE_HISTORY_DAYS="7"))
    assert not path.exists() and store.retention_days == 7
    store.lists("s")
    assert path.exists()


def test_keeping_a_visit_is_one_transaction_that_skips_what_is_kept(make_store: Callable[..., Store]) -> None:
    store = make_store()
    lists = [saved(f"t{i}") for i in range(3)]
    likes = [Feedback(f"k{i}", "a", "like") for i in range(2)]
    store.set_consent("s", True)
    store.set_consent("t", True)
    store.save_list("s", lists[0])
    store.keep_visit("s", lists, likes, {"angry": "neutral"})
    store.keep_visit("s", lists, likes, {"angry": "neutral"})  # again: nothing doubles
    assert len(store.lists("s")) == 3 and [f.item_key for f in store.feedback("s")] == ["k0", "k1"]
    assert store.correction("s", "angry") == "neutral"
    bad = [saved("x"), saved("y")]
    object.__setattr__(bad[1], "kind", None)  # NOT NULL fails on the second row…
    with pytest.raises(Exception, match=r"(?i)not null|null value"):
        store.keep_visit("t", bad, [], {})
    assert store.lists("t") == [], "…and the first row is not kept either"


def test_the_cap_holds_when_lists_share_a_time(make_store: Callable[..., Store]) -> None:
    store = make_store(max_lists=2)
    store.set_consent("s", True)
    store.keep_visit("s", [saved(f"t{i}") for i in range(5)], [], {})  # no times yet: all "now"
    assert len(store.lists("s")) == 2


def test_a_visit_deleted_after_history_was_turned_on_is_not_kept(make_store: Callable[..., Store]) -> None:
    """Turning history on records the choice, then keeps the visit. A "Delete everything" from
    another tab or instance landing between the two removed the choice, and the visit was then
    stored anyway: kept rows of a session with no choice recorded, shown as history for 30 days."""
    store = make_store()
    store.set_consent("s", True)
    store.delete_session("s")
    store.keep_visit("s", [saved("t0")], [Feedback("k0", "a", "like")], {"angry": "neutral"})
    assert store.consent("s") is None
    assert store.lists("s") == [] and store.feedback("s") == [] and store.correction("s", "angry") is None
