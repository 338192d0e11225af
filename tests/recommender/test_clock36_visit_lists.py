"""A visit's lists are dated by the store's clock, not by the clock of the instance that made them.

Instances behind one balancer share the visit (Redis, or the database's short-lived table) and the
database. A visit that keeps no history dated each list by the clock of the machine that made it:
probed with libfaketime, one instance of two 2 min ahead, a visitor's 8 lists made alternately on
each were listed the ahead instance's 4 first (shown 2 min in the future), and kept in that order
when history was turned on. The store's clock is the database's on PostgreSQL (store/clock.py);
here a fake one, while this machine's ``time.time`` is 120 s ahead for the instance that is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pytest
from recommend_fakes import FakeProvider

from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.session_state import LocalSessionMemory
from moodtape.sessions import SessionService
from moodtape.store import Store

AHEAD_S = 120.0
T = TypeVar("T")


class SharedClock:
    """The database's clock as every instance reads it: a second further at each reading."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _on_machine(monkeypatch: pytest.MonkeyPatch, skew: float, run: Callable[[], T]) -> T:
    """``run()`` on a machine whose wall clock is ``skew`` seconds off the shared one."""
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real() + skew)
        return run()


@pytest.fixture
def two_instances(catalog: FakeProvider) -> tuple[SessionService, SessionService, Store]:
    """Two instances' services sharing one visit memory and one store (with the shared clock)."""
    store = Store(":memory:", clock=SharedClock())
    memory = LocalSessionMemory()
    ahead = SessionService(Recommender([], catalog, store=store), store, memory)
    in_step = SessionService(Recommender([], catalog, store=store), store, memory)
    return ahead, in_step, store


def _alternate_lists(
    monkeypatch: pytest.MonkeyPatch, ahead: SessionService, in_step: SessionService, count: int = 4
) -> list[str]:
    """``count`` lists of one visit, made alternately by the instance ahead and the one in step."""
    made = []
    for index in range(count):
        service, skew = (ahead, AHEAD_S) if index % 2 == 0 else (in_step, 0.0)
        mood = mood_from_emotion("happy" if index % 2 else "sad")
        made.append(_on_machine(monkeypatch, skew, partial(service.recommend, "v1", mood, n=3, seed=0)).list_id or "")
    return made


def test_a_visits_history_is_in_the_order_its_lists_were_made(
    monkeypatch: pytest.MonkeyPatch, two_instances: tuple[SessionService, SessionService, Store]
) -> None:
    ahead, in_step, store = two_instances
    made = _alternate_lists(monkeypatch, ahead, in_step)
    shown = in_step.history("v1")
    assert [saved.id for saved, _ in shown] == made[::-1]  # was made[0], made[2] (the ahead one's) first
    # Dated by the shared clock: 2 min in the future before.
    assert all(saved.created_at < store.time() for saved, _ in shown)


def test_turning_history_on_keeps_the_visits_order(
    monkeypatch: pytest.MonkeyPatch, two_instances: tuple[SessionService, SessionService, Store]
) -> None:
    ahead, in_step, store = two_instances
    made = _alternate_lists(monkeypatch, ahead, in_step)
    _on_machine(monkeypatch, AHEAD_S, partial(ahead.set_consent, "v1", True))
    assert [saved.id for saved in store.lists("v1")] == made[::-1]
