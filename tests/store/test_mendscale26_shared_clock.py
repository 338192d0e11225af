"""The shared clock (store/clock.py) as requests meet it: a database that hangs or is busy, the
first reading, and a visit's lists made on a machine whose clock is off when history is turned on.

Each test here failed on the first version of the shared clock: a failed reading due again as it
failed (two or three connect timeouts for one write), writers queued without bound behind a
reading, a visit's lists stored 2 h in the past by a machine 2 h behind (deleted at once by a 1 h
retention), a reading timed around its wait for a turn (1.5 s ahead), callers during the first
reading given this machine's clock, and a failed setup raised from a write that had committed.
"""

from __future__ import annotations

import textwrap
import threading
import time

import pytest
import sqlalchemy as sa

from moodtape.errors import ServerBusyError, StoreSetupError
from moodtape.store import SavedList, Store
from moodtape.store.clock import RETRY_S, SharedClock, database_clock
from moodtape.store.database import Database, StoreWaits
from moodtape.store.records import Visit
from skewed_machine import database_now, last_line

AHEAD_S = 7200.0


def test_a_reading_that_hangs_past_the_retry_pause_is_not_due_again_when_it_fails() -> None:
    """A reading hung for a connect timeout (longer than RETRY_S): the next try is RETRY_S after it
    ended, not at once (a list save asks the clock twice: it paid two or three timeouts)."""
    steady = [100.0]
    asked: list[float] = []

    def hangs_then_fails() -> float | None:
        asked.append(steady[0])
        steady[0] += RETRY_S + 1.0
        return None

    clock = SharedClock(hangs_then_fails, monotonic=lambda: steady[0])
    clock()
    clock()
    assert len(asked) == 1, "asked again as soon as the hung reading failed"
    steady[0] += RETRY_S
    clock()
    assert len(asked) == 2, "tried again RETRY_S after the failed reading ended"


def test_one_reading_at_a_time_even_when_it_takes_longer_than_the_retry_pause() -> None:
    steady = [100.0]
    inside, release = threading.Event(), threading.Event()
    asked: list[int] = []

    def slow() -> float | None:
        asked.append(1)
        if len(asked) == 1:
            return 5_000.0
        inside.set()
        release.wait(10)
        return 6_000.0

    clock = SharedClock(slow, resync_s=60.0, monotonic=lambda: steady[0])
    clock()
    steady[0] += 60.0
    reader = threading.Thread(target=clock)
    reader.start()
    assert inside.wait(5)
    steady[0] += RETRY_S + 1.0  # the reading in progress has taken longer than RETRY_S
    assert clock() == 5_000.0 + 60.0 + RETRY_S + 1.0, "the last reading goes on meanwhile"
    release.set()
    reader.join(5)
    assert len(asked) == 2, "a second reading started while the first was still in progress"


def test_writers_do_not_queue_behind_a_slow_reading_of_the_clock(tmp_path) -> None:
    """The store's time lock was held across the reading: with the database hung, each writer
    waited for the one before it (4 writers: 10.6/10.6/15.6/20.6 s), outside the StoreWaits bound."""
    readings = [0]

    def slow_after_the_first() -> float:
        readings[0] += 1
        if readings[0] > 1:
            time.sleep(2.0)
        return time.time()

    store = Store(tmp_path / "h.db", clock=SharedClock(slow_after_the_first, resync_s=0.3))
    store.save_list("s1", SavedList("0" * 32, "tracks", "mood", {}))  # the first reading, fast
    time.sleep(0.4)  # the next reading is due and will take 2 s
    first = threading.Thread(target=store.save_list, args=("s1", SavedList("1" * 32, "tracks", "mood", {})))
    first.start()
    time.sleep(0.2)
    started = time.monotonic()
    store.save_list("s1", SavedList("2" * 32, "tracks", "mood", {}))
    took = time.monotonic() - started
    first.join(10)
    assert took < 1.0, f"the second writer waited {took:.1f} s for the first one's reading"
    assert readings[0] >= 2, "the slow reading happened"


def test_callers_during_the_first_reading_wait_for_it() -> None:
    """Before the fix 4 of 5 threads arriving during the first reading got this machine's clock,
    2 h off the shared server's."""

    def slow_read() -> float:
        time.sleep(0.5)
        return time.time() + AHEAD_S

    clock = SharedClock(slow_read)
    offsets: list[float] = []
    threads = [threading.Thread(target=lambda: offsets.append(clock() - time.time())) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(offsets) == 5
    assert all(abs(offset - AHEAD_S) < 5 for offset in offsets), sorted(round(o) for o in offsets)


@pytest.mark.parametrize(
    "error", [StoreSetupError("the schema is newer"), ServerBusyError("busy", retry_after=1)], ids=type
)
def test_a_reading_the_store_refuses_keeps_the_last_one(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """A failed setup (a schema moved by another release) or a busy store raised out of the clock:
    after a write had committed (the retention sweep reads the clock), a client error for a stored
    write, which the client then retried."""
    database = Database("postgresql://nobody@127.0.0.1:1/nothing")  # never connected
    answers: list[float | Exception] = [1_000_000.0, error]

    def read(work: object, **_: object) -> float:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(database, "read", read)
    clock = database_clock(database)
    assert isinstance(clock, SharedClock)
    clock._resync_s = 0.0
    first = clock()
    assert abs(clock() - first) < 5, "the reading that failed kept the last one"
    assert not answers


def test_a_visits_lists_are_stored_by_the_stores_clock_in_their_order(tmp_path) -> None:
    """Turning history on stored the visit's lists with the times the making machine gave them: one
    2 h behind stored them 2 h in the past, hidden and deleted at once by a 1 h retention."""
    now = 2_000_000_000.0
    store = Store(tmp_path / "h.db", retention_days=1 / 24, clock=lambda: now)
    behind = now - AHEAD_S
    made = [SavedList(f"{i:032x}", "tracks", "mood", {"items": []}, behind + i) for i in (2, 0, 1)]
    store.set_consent("s1", True, visit=Visit(made, [], {}))
    store.prune()
    kept = store.lists("s1")
    assert [saved.id for saved in kept] == [f"{i:032x}" for i in (2, 1, 0)], "newest first, as they were made"
    assert all(now - 1 <= saved.created_at <= now for saved in kept)
    later = store.save_list("s1", SavedList("f" * 32, "tracks", "mood", {}))
    assert store.lists("s1")[0].id == later.id, "a list saved after the visit is newer than its lists"


#: A machine whose clock is ``argv[1]`` seconds off turns history on for a visit it made.
_TURN_ON = textwrap.dedent(
    """
    import sys, time
    real = time.time
    time.time = lambda: real() + float(sys.argv[1])
    from moodtape.store import SavedList, Store
    from moodtape.store.records import Visit
    store = Store(sys.argv[2], retention_days=float(sys.argv[3]))
    saved = SavedList("a" * 32, "tracks", "mood", {"items": [{"key": "k1"}]}, time.time())  # as sessions.record()
    store.set_consent("s1", True, visit=Visit([saved], [], {}))
    """
)


@pytest.mark.parametrize("skew", [-AHEAD_S, AHEAD_S], ids=["behind", "ahead"])
def test_a_machine_off_by_hours_turning_history_on_keeps_the_visit(postgres: str, skew: float) -> None:
    last_line(_TURN_ON, skew, postgres, 1 / 24)
    store = Store(postgres, retention_days=1 / 24)
    store.prune()
    kept = store.lists("s1")
    assert [saved.id for saved in kept] == ["a" * 32], "the list made a moment ago is gone"
    assert abs(kept[0].created_at - database_now(postgres)) < 60


def test_a_reading_is_timed_around_its_statement_not_its_wait_for_a_turn(postgres: str) -> None:
    """The only turn held 3 s by another request: the reading, timed from before its wait, put the
    clock 1.49 s ahead of the database's."""
    Store(postgres).ping()  # migrated: the first use's migration is not part of this
    database = Database(postgres)
    database.waits = StoreWaits(1)
    holding = threading.Event()

    def hold_the_turn() -> None:
        def work(connection: sa.Connection) -> None:
            holding.set()
            connection.execute(sa.text("SELECT pg_sleep(3)"))

        database.read(work)

    holder = threading.Thread(target=hold_the_turn)
    holder.start()
    assert holding.wait(10)
    clock = database_clock(database)
    clock()  # the first reading waits for the turn
    holder.join(10)
    engine = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:  # connected before: its connect time is not measured
        query = sa.text("SELECT extract(epoch FROM clock_timestamp())")
        connection.execute(query)
        before = clock()
        database_now = float(connection.execute(query).scalar_one())
        after = clock()
    engine.dispose()
    database.dispose()
    assert before - 0.5 < database_now < after + 0.5, (before - database_now, after - database_now)
