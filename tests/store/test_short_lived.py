"""Short-lived documents in the store: atomic across processes, expiring, swept in bounded batches."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any, cast

import numpy as np
import pytest
from storetools import Clock

from moodtape.session_state import SessionState
from moodtape.state.in_store import StoreProfileStore, StoreSessionMemory
from moodtape.store import short_lived
from moodtape.store.database import Database
from moodtape.store.records import Feedback
from moodtape.store.short_lived import ShortLived
from moodtape.web.profiles import Calibration, Tally, remove_calibration


def _count_up(old: str | None) -> str:
    return str(int(old or "0") + 1)


def test_updates_from_threads_of_two_processes_never_lose_one(url: str) -> None:
    # Two Database objects on one URL stand for two processes: separate pools, one table.
    documents = [ShortLived(Database(url), "session", 60.0) for _ in range(2)]
    threads = [
        threading.Thread(target=lambda d=documents[i % 2]: [d.update("s1", _count_up) for _ in range(15)])
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert documents[0].get("s1") == "120"


def test_session_memory_update_is_atomic_and_shared(url: str) -> None:
    first, second = StoreSessionMemory(Database(url)), StoreSessionMemory(Database(url))

    def like(memory: StoreSessionMemory, n: int) -> None:
        for i in range(10):
            feedback = Feedback(f"key{n}-{i}", "artist", "like")
            memory.update("s1", lambda state, f=feedback: state.with_feedback(f))

    threads = [threading.Thread(target=like, args=(first if n % 2 else second, n)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(second.get("s1").feedback) == 60
    first.delete("s1")
    assert second.get("s1") == SessionState()


def test_a_document_expires_when_idle_and_starts_afresh(url: str) -> None:
    clock = Clock()
    documents = ShortLived(Database(url), "session", 60.0, clock=clock)
    documents.update("s1", _count_up)
    clock.now += 59
    assert documents.get("s1") == "1"
    documents.update("s1", _count_up)  # a write keeps it another minute
    clock.now += 59
    assert documents.get("s1") == "2"
    clock.now += 2
    assert documents.get("s1") is None
    assert documents.delete("s1") is False, "a dead document is not reported as deleted"
    assert documents.update("s1", _count_up) == "1", "an expired document is not continued"


def test_kinds_and_sessions_never_see_each_other(url: str) -> None:
    database = Database(url)
    sessions, profiles = ShortLived(database, "session", 60.0), ShortLived(database, "profile", 60.0)
    sessions.put("s1", "a")
    profiles.put("s1", "b")
    sessions.put("s2", "c")
    assert (sessions.get("s1"), profiles.get("s1"), sessions.get("s2"), profiles.get("s2")) == ("a", "b", "c", None)


def test_touch_renews_a_live_document_only_when_old_enough(url: str) -> None:
    clock = Clock()
    documents = ShortLived(Database(url), "profile", 100.0, clock=clock)
    documents.put("s1", "x")
    clock.now += 10
    documents.touch("s1", older_than=30)  # written 10 s ago: left alone
    clock.now += 85
    assert documents.get("s1") == "x"
    documents.touch("s1", older_than=30)  # 95 s ago: renewed for 100 s
    clock.now += 99
    assert documents.get("s1") == "x"
    clock.now += 2
    documents.touch("s1")
    assert documents.get("s1") is None, "a dead document is not brought back"


def test_a_read_renews_only_a_document_not_renewed_lately(url: str) -> None:
    clock = Clock()
    documents = ShortLived(Database(url), "profile", 100.0, clock=clock)
    documents.put("s1", "x")
    clock.now += 20
    assert documents.get("s1", renew_after=30) == "x"  # too recent: expires at 100 still
    clock.now += 79
    assert documents.get("s1") == "x"  # 99 s: no renewal asked
    assert documents.get("s1", renew_after=30) == "x"  # renewed until 199
    clock.now += 99
    assert documents.get("s1") == "x"
    clock.now += 2
    assert documents.get("s1") is None


def test_dead_rows_are_swept_in_bounded_batches_that_keep_pace(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(short_lived, "SWEEP_BATCH", 10)
    clock = Clock()
    documents = ShortLived(Database(url), "session", 60.0, clock=clock)
    for i in range(25):
        documents.put(f"old{i}", "x")
    assert documents.count() == 25  # each put swept at most once a minute, and nothing was dead
    clock.now += 61
    assert documents.sweep() == 10, "one sweep deletes at most a batch"
    documents.put("new1", "x")  # due (a minute passed): sweeps a full batch, so the next write sweeps too
    assert documents.count() == 25 - 20 + 1
    documents.put("new2", "x")
    assert documents.count() == 2, "the backlog is gone after a few writes"
    documents.put("new3", "x")
    assert documents.count() == 3


def test_the_profile_store_keeps_sums_never_images(url: str) -> None:
    database = Database(url)
    analyzer: Any = object()  # no neutral example yet: nothing is refitted, the analyzer is not used
    profiles = StoreProfileStore(database, lambda: cast(Any, analyzer))
    tally = Tally(3, np.log(np.full(7, 1 / 7)), np.ones(8, np.float32))
    profiles.update("s1", lambda _old: Calibration("model-a", {"happy": tally}))
    found = profiles.get("s1")
    assert found is not None and found.model_id == "model-a" and found.tallies["happy"].count == 3
    raw = ShortLived(database, "profile", 1.0).get("s1")
    assert raw is not None and set(json.loads(raw)) == {"model_id", "removed", "tallies"}
    assert remove_calibration(profiles, "s1") == (True, 1) and remove_calibration(profiles, "s1") == (False, 2)
    kept = ShortLived(database, "profile", 1.0).get("s1")
    assert kept is not None and json.loads(kept) == {"model_id": "model-a", "removed": 2, "tallies": {}}


def test_an_unreadable_document_starts_afresh(url: str) -> None:
    database = Database(url)
    ShortLived(database, "session", 60.0).put("s1", "{not json")
    ShortLived(database, "profile", 60.0).put("s1", "[]")
    assert StoreSessionMemory(database).get("s1") == SessionState()
    assert StoreProfileStore(database, lambda: cast(Any, None)).get("s1") is None


def test_profile_updates_sent_at_once_both_count(url: str) -> None:
    """Two calibration examples of one session at once: the update is atomic, neither is lost."""
    profiles = StoreProfileStore(Database(url), lambda: cast(Any, None))  # no neutral example: no refit
    both_read = threading.Barrier(2, timeout=3)

    def one_more(current: Calibration | None) -> Calibration:
        count = current.tallies["happy"].count if current is not None else 0
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()  # both hold what they read, unless the update lets one in at a time
        return Calibration("model-a", {"happy": Tally(count + 1, np.log(np.full(7, 1 / 7)), np.ones(8, np.float32))})

    threads = [threading.Thread(target=profiles.update, args=("s1", one_more)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    found = profiles.get("s1")
    assert found is not None and found.tallies["happy"].count == 2


def test_live_documents_beyond_the_byte_bound_go_least_recently_written_first(url: str) -> None:
    """Before: only dead rows were swept, so clients opening many sessions within the hour (each
    with twenty long lists) grew the file without a bound."""
    database = Database(url)
    now = [1_000.0]
    sessions = ShortLived(database, "session", 3600.0, clock=lambda: now[0], max_bytes=1_000)
    profiles = ShortLived(database, "profile", 3600.0, clock=lambda: now[0])
    for i in range(10):
        now[0] += 1
        sessions.put(f"s{i}", "x" * 300)
        profiles.put(f"s{i}", "y" * 300)
    assert sessions.sweep() == 0  # nothing dead; the bound is applied all the same
    kept = [f"s{i}" for i in range(10) if sessions.get(f"s{i}") is not None]
    assert kept == ["s7", "s8", "s9"]
    assert profiles.count() == 10  # another kind, another bound (none here)
    now[0] += 1
    sessions.put("s0", "x" * 300)  # written again: the newest now
    sessions.trim()
    assert [f"s{i}" for i in range(10) if sessions.get(f"s{i}") is not None] == ["s0", "s8", "s9"]


def test_trimming_spares_a_document_written_again_meanwhile(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between finding the documents beyond the bound and deleting them, another process may write
    one of them again (its next request): that fresh state must stay (PostgreSQL reads committed)."""
    database = Database(url)
    now = [1_000.0]
    sessions = ShortLived(database, "session", 3600.0, clock=lambda: now[0], max_bytes=600)
    for i in range(4):
        now[0] += 1
        sessions.put(f"s{i}", "x" * 300)
    other_process = ShortLived(database, "session", 3600.0, clock=lambda: now[0])
    real_delete = ShortLived._delete

    def written_meanwhile(self: ShortLived, statement: Any) -> None:
        now[0] += 1
        other_process.put("s0", "fresh")
        real_delete(self, statement)

    monkeypatch.setattr(ShortLived, "_delete", written_meanwhile)
    assert sessions.trim() == 2  # s0 and s1 were beyond the bound when looked at
    assert sessions.get("s0") == "fresh" and sessions.get("s1") is None
    assert sessions.get("s2") is not None and sessions.get("s3") is not None
