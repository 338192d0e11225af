from __future__ import annotations

import threading
from pathlib import Path

import pytest

from moodtape.config import Settings
from moodtape.errors import DataError
from moodtape.store import Feedback, HistoryEntry, Store, database_path


def entry(i: int, kind: str = "tracks") -> HistoryEntry:
    return HistoryEntry(
        item_key=f"a{i}\x1fs{i}",
        kind=kind,
        title=f"s{i}",
        artist=f"a{i}",
        source="catalog",
        strategy="uplift",
        position=i,
        genre="pop",
        emotion="sad",
    )


def settings(**values: str) -> Settings:
    return Settings.load(overrides=values, environ={}, dotenv=None)


def test_history_is_per_session_and_can_be_deleted(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "moodtape.db")
    store.add_history("one", [entry(0), entry(1)])
    store.add_history("two", [entry(5)])
    store.add_feedback("one", Feedback("a0\x1fs0", "a0", "like", "pop"))
    store.set_correction("one", "angry", "neutral")
    assert [h.title for h in store.history("one")] == ["s0", "s1"]
    assert store.seen_keys("one") == {"a0\x1fs0", "a1\x1fs1"}
    assert store.delete_session("one") == 4
    assert store.history("one") == [] and store.feedback("one") == [] and store.correction("one", "angry") is None
    assert [h.title for h in store.history("two")] == ["s5"]


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "moodtape.db"
    store = Store(path)
    store.add_history("s", [entry(1)])
    store.close()
    assert [h.title for h in Store(path).history("s")] == ["s1"]


def test_newest_list_first_each_in_order() -> None:
    store = Store()
    store.add_history("s", [entry(0), entry(1)])
    store.add_history("s", [entry(7), entry(8)])
    assert [h.title for h in store.history("s")] == ["s7", "s8", "s0", "s1"]


def test_latest_correction_wins() -> None:
    store = Store()
    store.set_correction("s", "angry", "neutral")
    store.set_correction("s", "angry", "happy")
    assert store.correction("s", "angry") == "happy"
    assert store.correction("s", "sad") is None


@pytest.mark.parametrize("session_id", ["", "a b", "x" * 65, "../etc", "drop;table"])
def test_bad_session_ids_are_refused(session_id: str) -> None:
    with pytest.raises(DataError, match="session id"):
        Store().history(session_id)


def test_bad_feedback_action_is_refused() -> None:
    with pytest.raises(DataError, match="like, skip, dislike"):
        Feedback("k", "a", "love")


def test_a_failed_transaction_writes_nothing() -> None:
    store = Store()
    bad = HistoryEntry(item_key=None, kind="tracks", title="t", artist="a", source="c", strategy="m", position=1)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="NOT NULL"):
        store.add_history("s", [entry(0), bad])
    assert store.history("s") == []


def test_several_threads_can_write() -> None:
    store = Store()

    def work(i: int) -> None:
        for j in range(20):
            store.add_history(f"t{i}", [entry(j)])
            store.seen_keys(f"t{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(store.history(f"t{i}")) == 20 for i in range(4))


def test_location_comes_from_the_settings(tmp_path: Path) -> None:
    assert database_path(settings(MOODTAPE_DATA_DIR=str(tmp_path))) == str(tmp_path / "moodtape.db")
    url = f"sqlite:///{tmp_path}/other.db"
    assert database_path(settings(MOODTAPE_DATABASE_URL=url)) == f"{tmp_path}/other.db"
    with pytest.raises(DataError, match="sqlite:///"):
        database_path(settings(MOODTAPE_DATABASE_URL="postgresql://db/moodtape"))


def test_nothing_is_opened_until_used(tmp_path: Path) -> None:
    path = tmp_path / "lazy" / "moodtape.db"
    store = Store.from_settings(settings(MOODTAPE_DATABASE_URL=f"sqlite:///{path}"))
    assert not path.exists()
    store.history("s")
    assert path.exists()
