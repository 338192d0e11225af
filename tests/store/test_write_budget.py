"""The per-client daily budget on history (store/write_budget.py), on SQLite and a real PostgreSQL.

One client address starting session after session (a fresh cookie each time) could fill the store
without a bound: each session was capped, the number of sessions was not.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from storetools import Clock

from moodtape.errors import HistoryBudgetError
from moodtape.store import Feedback, SavedList, Store, new_id, schema
from moodtape.store.records import Visit
from moodtape.store.write_budget import CHOICE_BYTES, DAY_S, ROW_BYTES, feedback_cost, list_cost

#: Noon on some UTC day: 12 hours left of it.
NOON = 20_000 * DAY_S + DAY_S / 2


def a_list(items: int = 12) -> SavedList:
    rows = [{"key": f"k{i}", "title": f"Song {i}", "artist": f"Artist {i}", "reason": "x" * 80} for i in range(items)]
    return SavedList(new_id(), "tracks", "match", {"mood": {"emotion": "happy"}, "items": rows})


def kept_bytes(store: Store) -> int:
    """Bytes of list JSON the store holds, all sessions together."""
    lists = [saved for sid in sessions_of(store) for saved in store.lists(sid, limit=10_000)]
    return sum(list_cost(saved) - ROW_BYTES for saved in lists)


def sessions_of(store: Store) -> list[str]:
    query = sa.select(schema.lists.c.session_id).distinct()
    return [str(row[0]) for row in store.database.read(lambda c: c.execute(query).all())]


def test_fresh_sessions_from_one_client_stop_at_its_budget_and_others_go_on(url: str) -> None:
    clock = Clock(NOON)
    cost = list_cost(a_list())
    allowance = CHOICE_BYTES * 6 + cost * 10
    store = Store(url, client_budget_bytes=allowance, writer=lambda: "client-a", clock=clock)
    saved_lists = 0
    with pytest.raises(HistoryBudgetError) as refused:
        for session in range(100):  # a new session each time, as a client dropping its cookie
            sid = f"fresh{session}"
            store.set_consent(sid, True)
            for _ in range(2):
                store.save_list(sid, a_list())
                saved_lists += 1
    assert saved_lists <= 10 < 100 * 2
    assert kept_bytes(store) <= allowance
    error = refused.value
    assert error.status == 429 and error.code == "history_budget_spent"
    assert error.retry_after == DAY_S // 2, "the allowance starts again at the next UTC day"
    assert '"Keep my history" off' in str(error) and "nothing you had changed" in str(error)

    # Another address is not held back by the first one's writes.
    other = Store(url, client_budget_bytes=allowance, writer=lambda: "client-b", clock=clock)
    other.set_consent("theirs", True)
    other.save_list("theirs", a_list())

    # The next day, the first client saves again.
    clock.now += DAY_S // 2
    store.set_consent("next-day", True)
    store.save_list("next-day", a_list())


def test_a_refused_write_keeps_nothing_and_counts_nothing(url: str) -> None:
    small, big = a_list(2), a_list(60)
    allowance = CHOICE_BYTES + list_cost(small) * 2 + 10
    store = Store(url, client_budget_bytes=allowance, writer=lambda: "one-address", clock=Clock(NOON))
    store.set_consent("s", True)
    first = store.save_list("s", small)
    with pytest.raises(HistoryBudgetError):
        store.save_list("s", big)
    assert [saved.id for saved in store.lists("s")] == [first.id], "the refused list is not kept, the old one stays"
    store.save_list("s", small)  # the refused write took nothing from the day's budget


def test_feedback_counts_too(url: str) -> None:
    like = Feedback("k" * 500, "a" * 500, "like", "g" * 500)
    store = Store(
        url, client_budget_bytes=CHOICE_BYTES + feedback_cost(like) * 3, writer=lambda: "x", clock=Clock(NOON)
    )
    store.set_consent("s", True)
    for _ in range(3):
        store.add_feedback("s", Feedback(like.item_key, like.artist, "like", like.genre))
    with pytest.raises(HistoryBudgetError):
        store.add_feedback("s", Feedback(like.item_key, like.artist, "like", like.genre))
    assert len(store.feedback("s")) == 3


def test_a_visit_the_budget_refuses_leaves_the_history_choice_as_it_was(url: str) -> None:
    lists = [a_list() for _ in range(5)]
    store = Store(
        url, client_budget_bytes=CHOICE_BYTES + list_cost(lists[0]) * 2, writer=lambda: "x", clock=Clock(NOON)
    )
    with pytest.raises(HistoryBudgetError):
        store.set_consent("s", True, visit=Visit(lists, [], {"sad": "calm"}))
    assert store.consent("s") is None and store.lists("s") == [] and store.corrections("s") == {}
    store.set_consent("s", True, visit=Visit(lists[:1], [], {}))  # a visit that fits is kept with the choice
    assert store.consent("s") is True and [saved.id for saved in store.lists("s")] == [lists[0].id]


def test_rows_a_visit_already_kept_are_not_counted_again(url: str) -> None:
    lists = [a_list() for _ in range(3)]
    allowance = CHOICE_BYTES * 7 + sum(map(list_cost, lists))  # 7 choices, the lists once
    store = Store(url, client_budget_bytes=allowance, writer=lambda: "x", clock=Clock(NOON))
    store.set_consent("s", True, visit=Visit(lists, [], {}))
    for _ in range(3):  # off and on again: the same lists are found stored, not written twice
        store.set_consent("s", False)
        store.set_consent("s", True, visit=Visit(lists, [], {}))
    assert store.consent("s") is True


def test_without_a_client_nothing_is_counted(url: str) -> None:
    """The CLI and the Python API write for the person running them: no address, no budget."""
    store = Store(url, client_budget_bytes=1, clock=Clock(NOON))
    store.set_consent("cli", True)
    store.save_list("cli", a_list())
    count = sa.select(sa.func.count()).select_from(schema.write_budget)
    assert store.database.read(lambda c: c.execute(count).scalar_one()) == 0


def test_instances_sharing_the_database_count_one_budget_with_no_overshoot(url: str) -> None:
    """Two stores (two instances' pools) and 8 threads race for one client's last bytes."""
    clock = Clock(NOON)
    cost = list_cost(a_list())
    allowance = cost * 12
    instances = [Store(url, client_budget_bytes=allowance, writer=lambda: "nat", clock=clock) for _ in range(2)]
    instances[0].save_list("warm", a_list())  # migrate once, before the race
    saved = []
    refusals = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        store = instances[index % 2]
        for attempt in range(4):
            try:
                store.save_list(f"t{index}-{attempt}", a_list())
            except HistoryBudgetError:
                with lock:
                    refusals.append(index)
            else:
                with lock:
                    saved.append(index)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(saved) + 1 == 12, f"exactly the allowance is kept: {len(saved) + 1} lists"
    assert len(refusals) == 32 - len(saved)
    spent = instances[1].database.read(lambda c: c.execute(sa.select(schema.write_budget.c.spent)).scalar_one())
    assert spent == allowance


def test_counts_of_past_days_are_swept_with_retention(url: str) -> None:
    clock = Clock(NOON)
    store = Store(url, writer=lambda: "x", clock=clock)
    store.save_list("s", a_list())
    clock.now += DAY_S  # yesterday's count stays (an instance whose clock is behind still uses it)
    store.prune()
    count = sa.select(sa.func.count()).select_from(schema.write_budget)
    assert store.database.read(lambda c: c.execute(count).scalar_one()) == 1
    clock.now += DAY_S
    store.prune()
    assert store.database.read(lambda c: c.execute(count).scalar_one()) == 0


def test_the_setting_reaches_the_store(tmp_path: Path) -> None:
    from moodtape.config import Settings
    from moodtape.store import store_from_settings

    values = {"MOODTAPE_DATA_DIR": str(tmp_path), "MOODTAPE_HISTORY_MB_PER_ADDRESS": "0.5"}
    store = store_from_settings(Settings.load(overrides=values, environ={}, dotenv=None))
    assert store.client_budget_bytes == 512 * 1024


def test_turning_history_off_is_never_refused_and_costs_nothing(url: str) -> None:
    """The refusal tells the person to turn history off: that must work once the budget is spent."""
    store = Store(url, client_budget_bytes=CHOICE_BYTES + list_cost(a_list()), writer=lambda: "x", clock=Clock(NOON))
    store.set_consent("s", True)
    store.save_list("s", a_list())
    with pytest.raises(HistoryBudgetError):
        store.save_list("s", a_list())
    store.set_consent("s", False)
    assert store.consent("s") is False
    store.set_consent("never-on", False)  # a first choice of "off" writes no history either
    spent = sa.select(schema.write_budget.c.spent)
    assert store.database.read(lambda c: c.execute(spent).scalar_one()) == CHOICE_BYTES + list_cost(a_list())


class Tables:
    """The tables each SQL statement names, in the order a store issues them."""

    def __init__(self, store: Store) -> None:
        self.seen: list[str] = []
        sa.event.listen(store.database.engine, "before_cursor_execute", self._heard)

    def _heard(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        lowered = statement.lower()
        for table in ("write_budget", "sessions"):
            if f"{table} " in lowered or f'"{table}"' in lowered or lowered.rstrip().endswith(table):
                self.seen.append(table)

    def first_of_each(self) -> list[str]:
        self.seen, seen = [], self.seen
        return list(dict.fromkeys(seen))


def test_every_write_takes_the_session_row_before_the_budget_row(url: str) -> None:
    """PostgreSQL deadlocked (and retried) when "history on/off" held the budget row and waited for
    the session row while a list save held the session row (FOR SHARE) and waited for the budget."""
    store = Store(url, writer=lambda: "x", clock=Clock(NOON))
    store.set_consent("warm", False)  # migrate before listening
    tables = Tables(store)
    store.set_consent("s", True, visit=Visit([a_list()], [], {"sad": "calm"}))
    assert tables.first_of_each() == ["sessions", "write_budget"]
    store.save_list("s", a_list(), if_kept=True)
    assert tables.first_of_each() == ["sessions", "write_budget"]
    store.add_feedback("s", Feedback("k", "a", "like"), if_kept=True)
    assert tables.first_of_each() == ["sessions", "write_budget"]
    store.keep_visit("s", [a_list()], [], {})
    assert tables.first_of_each() == ["sessions", "write_budget"]
    store.set_consent("s", False)
    assert tables.first_of_each() == ["sessions"]
