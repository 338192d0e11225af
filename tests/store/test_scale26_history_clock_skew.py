"""Machines whose clocks disagree agree on history's times, its retention and the daily write budget.

Several instances share one PostgreSQL. A list's ``created_at``, the retention cut-off and the
per-client write budget's day were each taken from the writing machine's own clock: a machine
2 h ahead stamped its lists 2 h in the future, saw (and, sweeping, deleted) lists 2 h before
their retention ran out, and near midnight UTC counted a client's writes in the next day's row,
a fresh allowance up to 2 h early. Now, on PostgreSQL, the store reads the database's clock
(store/clock.py). Each machine is a process of its own whose ``time.time`` is off by ``skew``.
"""

from __future__ import annotations

import json
import textwrap
import time

from moodtape.store import SavedList, Store
from moodtape.store.write_budget import DAY_S, list_cost
from skewed_machine import database_now, last_line

#: One machine: its clock ``argv[1]`` seconds off; runs ``argv[2]`` on the store at ``argv[3]``.
_MACHINE = textwrap.dedent(
    """
    import json, sys, time
    real = time.time
    time.time = lambda: real() + float(sys.argv[1])
    from moodtape.errors import HistoryBudgetError
    from moodtape.store import SavedList, Store
    op, url, retention_days, allowance = sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    store = Store(url, retention_days=retention_days, client_budget_bytes=allowance, writer=lambda: "client-1")
    if op == "save":
        saved = SavedList(sys.argv[6], "tracks", "mood", {"items": [{"key": "k1"}]})
        try:
            said = {"created_at": store.save_list("s1", saved).created_at}
        except HistoryBudgetError:
            said = {"refused": True}
    else:
        said = {"lists": [saved.id for saved in store.lists("s1")], "pruned": store.prune()}
    print(json.dumps(said))
    """
)
RETENTION_DAYS = 1 / 24  # an hour, so that a clock 2 h ahead is past it
AHEAD_S = 7200.0


def _machine(skew: float, op: str, url: str, allowance: int = 0, list_id: str = "") -> dict[str, object]:
    said: dict[str, object] = json.loads(last_line(_MACHINE, skew, op, url, RETENTION_DAYS, allowance, list_id))
    return said


def test_a_machine_ahead_stamps_lists_by_the_database_clock(postgres: str) -> None:
    said = _machine(AHEAD_S, "save", postgres, list_id="a" * 32)
    assert abs(float(str(said["created_at"])) - database_now(postgres)) < 60


def test_a_machine_ahead_neither_hides_nor_deletes_lists_inside_their_retention(postgres: str) -> None:
    assert "created_at" in _machine(0.0, "save", postgres, list_id="b" * 32)
    said = _machine(AHEAD_S, "prune", postgres)
    assert said["lists"] == ["b" * 32]
    assert _machine(0.0, "prune", postgres)["lists"] == ["b" * 32]


def test_a_machine_past_midnight_opens_no_new_allowance_early(postgres: str) -> None:
    """Run at any hour: the machine's clock is set just past the next midnight UTC, as a clock 2 h
    ahead is between 22:00 and midnight."""
    cost = list_cost(SavedList("c" * 32, "tracks", "mood", {"items": [{"key": "k1"}]}))
    allowance = cost + cost // 2  # one list a day
    assert "created_at" in _machine(0.0, "save", postgres, allowance, "c" * 32)
    assert _machine(0.0, "save", postgres, allowance, "d" * 32) == {"refused": True}
    now = database_now(postgres)
    past_midnight = (now // DAY_S + 1) * DAY_S + 60 - now
    assert _machine(past_midnight, "save", postgres, allowance, "e" * 32) == {"refused": True}


def test_sqlite_on_one_machine_keeps_its_own_clock(tmp_path) -> None:
    """SQLite's file lives on one machine: the store's clock is that machine's (a test's fake too)."""
    store = Store(tmp_path / "h.db", clock=lambda: 1_000_000.0)
    saved = store.save_list("s1", SavedList("f" * 32, "tracks", "mood", {"items": []}))
    assert saved.created_at == 1_000_000.0
    plain = Store(tmp_path / "h2.db")
    before = time.time()
    assert before - 1 <= plain.save_list("s1", SavedList("f" * 32, "tracks", "mood", {})).created_at <= time.time() + 1


def test_the_shared_clock_is_read_once_a_minute_and_kept_through_a_failed_reading() -> None:
    from moodtape.store.clock import RESYNC_S, SharedClock

    steady = [100.0]
    readings: list[float | None] = [5_000.0]
    asked: list[float] = []

    def read() -> float | None:
        asked.append(steady[0])
        return readings.pop(0) if readings else None

    clock = SharedClock(read, monotonic=lambda: steady[0])
    assert clock() == 5_000.0
    steady[0] += 30.0
    assert clock() == 5_030.0 and len(asked) == 1  # moved on by the steady clock, not asked again
    steady[0] += RESYNC_S
    assert clock() == 5_090.0 and len(asked) == 2  # asked, failed: the last reading goes on
    never = SharedClock(lambda: None, monotonic=lambda: steady[0])
    assert abs(never() - time.time()) < 5  # before any reading: this machine's clock
