"""Two copies of one request at once from one session (a double click, an early retry) act once.

Before: six identical ``POST /api/lists`` at once made four lists in 8 of 10 rounds, and under
``serve --processes 2`` (a browser sends the second copy on a second connection, which may reach
the other process) more than one list in 19 of 20 rounds. The turn is now a mark that processes and instances
share, so the copies wait for each other in one process or in two, with each place it can live:
this process's memory, the store's short-lived table (SQLite, PostgreSQL) and Redis (skipped when
their servers are missing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_feedback_names_its_row import SHARED, _session, _worker_factory
from webtools import AppFactory, csrf_headers, same_session

from moodtape.state.turns import RedisTurnMarks, StoreTurnMarks
from moodtape.store.database import Database
from moodtape.web.session_turns import POLL_S, TURN_WAIT_S, LocalTurnMarks, TurnMarks, session_turn

#: Where each backend of the two-worker tests must put the marks.
MARKS_IN = {"memory": "memory", "sqlite-shared": "sqlite", "redis": "redis", "postgresql-shared": "postgresql"}
SESSION = "session-1"


@pytest.fixture(params=("memory", *SHARED))
def two_workers(request: pytest.FixtureRequest, make_app: AppFactory) -> tuple[Flask, Flask, str]:
    """Two processes' apps sharing session state; with "memory", one process (one app) twice."""
    make = _worker_factory(request, make_app, request.param)
    first = make()
    second = first if request.param == "memory" else make()
    return first, second, MARKS_IN[request.param]


def _where_marks_live(app: Flask) -> str:
    marks = app.extensions["moodtape"].turn_marks
    if isinstance(marks, StoreTurnMarks):
        return marks.database.dialect
    return "redis" if isinstance(marks, RedisTurnMarks) else "memory"


def test_a_double_submitted_list_is_made_once(
    two_workers: tuple[Flask, Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second copy arrives while the first is ranking; the first goes on once the second has
    looked at the session's shared state, its lists or its turn (no timing: before, that look found
    no list, and the second made its own)."""
    first_app, second_app, marks_in = two_workers
    assert _where_marks_live(first_app) == _where_marks_live(second_app) == marks_in
    first = first_app.test_client()
    headers = csrf_headers(first)
    second = same_session(second_app, first)
    first.put("/api/history/consent", json={"history": True}, headers=headers)
    ranking, looked = threading.Event(), threading.Event()
    engine = first_app.extensions["moodtape"].recommender()
    rank = engine.recommend

    def held(*args: Any, **kwargs: Any) -> Any:
        ranking.set()
        assert looked.wait(timeout=30)
        return rank(*args, **kwargs)

    monkeypatch.setattr(engine, "recommend", held)
    answers: dict[str, Any] = {}

    def post(name: str, client: FlaskClient) -> None:
        answers[name] = client.post("/api/lists?emotion=sad", headers=headers)

    thread = threading.Thread(target=post, args=("first", first))
    thread.start()
    try:
        assert ranking.wait(timeout=30)
        services = second_app.extensions["moodtape"]
        assert services.turn_marks.holder(_session(first)) is not None, f"the first copy's mark is not in {marks_in}"
        monkeypatch.setattr(services.memory, "get", _looking(services.memory.get, looked))
        monkeypatch.setattr(services.turn_marks, "claim", _looking(services.turn_marks.claim, looked))
        post("second", second)  # sent while the first is still being ranked
    finally:
        looked.set()
        thread.join(timeout=60)

    ids = {answers[name].get_json()["list_id"] for name in answers}
    assert len(ids) == 1, "two copies of one request made two lists"
    assert sorted(answers[name].status_code for name in answers) == [200, 201]
    assert len(first.get("/api/history").get_json()["items"]) == 1
    assert services.turn_marks.holder(_session(first)) is None, "the mark outlived its request"


def _looking(read: Callable[..., Any], looked: threading.Event) -> Callable[..., Any]:
    """``read`` that also says it was called."""

    def look(*args: Any) -> Any:
        looked.set()
        return read(*args)

    return look


@pytest.fixture(params=("memory", "sqlite", "postgresql", "redis"))
def keepers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], TurnMarks]]:
    """Keepers of one place's marks, each with its own connections as each instance has (memory: one
    keeper, as it is one process's); skips when the place's server is missing."""
    clients: list[Any] = []
    databases: list[Database] = []
    if request.param == "memory":
        shared = LocalTurnMarks()
        yield lambda: shared
        return
    if request.param == "redis":
        import redis

        url = request.getfixturevalue("redis_url")

        def new_redis() -> TurnMarks:
            client = redis.Redis.from_url(url)
            clients.append(client)
            return RedisTurnMarks(client)

        yield new_redis
    else:
        url = request.getfixturevalue("postgres") if request.param == "postgresql" else f"sqlite:///{tmp_path}/t.db"

        def new_store() -> TurnMarks:
            database = Database(url)
            databases.append(database)
            return StoreTurnMarks(database)

        yield new_store
    for client in clients:
        client.close()
    for database in databases:
        database.dispose()


def test_one_request_holds_a_turn_when_many_claim_it_at_once(keepers: Callable[[], TurnMarks]) -> None:
    """Eight requests of one session claim its turn at the same moment, each through its own
    instance: while one holds it nobody else does, and each has it in turn."""
    racers = 8
    marks = [keepers() for _ in range(racers)]
    for keeper in marks:
        assert keeper.holder(SESSION) is None  # connected (and the schema made) before the race
    start, lock = threading.Barrier(racers), threading.Lock()
    inside, most, had = [0], [0], []

    def race(keeper: TurnMarks) -> None:
        start.wait(timeout=30)
        with session_turn(keeper, SESSION) as held:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)  # keep the turn a moment, as making a list does
            with lock:
                inside[0] -= 1
                had.append(held)

    threads = [threading.Thread(target=race, args=(keeper,)) for keeper in marks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert most[0] == 1, f"{most[0]} requests held one session's turn at once"
    assert had == [True] * racers, "a request went on without its turn"
    assert marks[0].holder(SESSION) is None


def test_a_fresh_mark_holds_an_instance_whose_clock_runs_ahead(
    keepers: Callable[[], TurnMarks], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marks lapse by their keeper's clock: an instance 5 s ahead of the one that took the turn a
    moment ago does not take it over (with the instances' clocks it did, at once)."""
    first, ahead = keepers(), keepers()
    assert first.claim(SESSION, "first", TURN_WAIT_S)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + TURN_WAIT_S)
    assert not ahead.claim(SESSION, "ahead", TURN_WAIT_S)
    assert ahead.holder(SESSION) == "first"
    first.release(SESSION, "first")
    assert ahead.claim(SESSION, "ahead", TURN_WAIT_S)


def test_a_dropped_mark_taken_over_stays_with_whoever_took_it(keepers: Callable[[], TurnMarks]) -> None:
    marks = keepers()
    assert marks.claim(SESSION, "late", 0.001)
    time.sleep(0.01)  # the holder overran its hold
    assert marks.claim(SESSION, "next", TURN_WAIT_S)
    marks.release(SESSION, "late")
    assert marks.holder(SESSION) == "next"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_mark_from_before_the_database_clock_stepped_back_is_taken_over(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A row due to last far longer than any hold (taken, then the database's clock stepped back an
    hour, and its holder died) would otherwise hold each request of the session for that hour."""
    url = request.getfixturevalue("postgres") if backend == "postgresql" else f"sqlite:///{tmp_path}/t.db"
    database = Database(url)
    try:
        marks = StoreTurnMarks(database)
        assert marks.claim(SESSION, "dead", 3600 + TURN_WAIT_S)  # as if taken an hour "later"
        assert marks.claim(SESSION, "next", TURN_WAIT_S)
    finally:
        database.dispose()


class Clocks:
    """A monotonic clock that moves only when a waiter sleeps, and a wall clock that steps back an
    hour once a second of waiting has passed."""

    def __init__(self) -> None:
        self.steady = 1_000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.steady

    def wall(self) -> float:
        return 1_700_000_000.0 + self.slept - (3600.0 if self.slept >= 1.0 else 0.0)

    def sleep(self, seconds: float) -> None:
        if self.slept > 120:
            raise AssertionError("still waiting after 120 s")
        self.steady += seconds
        self.slept += seconds


def test_a_wall_clock_stepping_back_does_not_stretch_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request waits on a dead holder's mark while the wall clock steps back an hour: it still
    waits TURN_WAIT_S at most (before, counted on the wall clock, it was still waiting after 120 s)."""
    clocks = Clocks()
    monkeypatch.setattr(time, "time", clocks.wall)
    marks = LocalTurnMarks(clock=clocks.monotonic)
    assert marks.claim(SESSION, "crashed", TURN_WAIT_S)
    with session_turn(marks, SESSION, clock=clocks.monotonic, sleep=clocks.sleep) as held:
        assert held and marks.holder(SESSION) not in (None, "crashed")
    assert TURN_WAIT_S <= clocks.slept <= TURN_WAIT_S + POLL_S + 1e-9
    assert len(marks) == 0


def test_a_turn_is_taken_at_once_when_free_and_dropped_after() -> None:
    clocks = Clocks()
    marks = LocalTurnMarks(clock=clocks.monotonic)
    with session_turn(marks, SESSION, clock=clocks.monotonic, sleep=clocks.sleep) as held:
        assert held and marks.holder(SESSION) is not None
    assert clocks.slept == 0 and len(marks) == 0
