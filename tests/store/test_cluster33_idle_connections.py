"""A burst's PostgreSQL connections go back to the server once idle, and the next use simply works.

Session 33's probe: ``max_connections=10``, one ``serve --processes 4`` and one single-process
instance on one PostgreSQL without Redis. Once a burst was over, the pools kept every connection
it had opened: with 4 clients left, the single-process instance still answered 3 of 6 lists and 2
of 6 history reads 503 "the database has no free connection", for as long as the other held them.
And with an idle bound, a pool lending its connections in turn kept all of a burst's alive under
light steady traffic (5 of 5 after 6 s of a request every 0.15 s, a 1 s bound).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
import sqlalchemy as sa

from moodtape.store import idle_sessions
from moodtape.store.database import Database


@pytest.fixture
def database(postgres: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(idle_sessions, "IDLE_SESSION_S", 1.0)
    opened = Database(postgres)
    yield opened
    opened.dispose()


def _connections(url: str) -> int:
    """Connections to the test's database other than the one asking."""
    with psycopg.connect(url, autocommit=True) as own:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        row = own.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _burst(database: Database, size: int) -> None:
    """``size`` transactions at once, so that the pool opens ``size`` connections."""
    together = threading.Barrier(size)

    def use() -> None:
        together.wait(10)
        database.read(lambda connection: connection.execute(sa.text("SELECT pg_sleep(0.3)")))

    threads = [threading.Thread(target=use) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_idle_pooled_connections_are_ended_and_replaced_unseen(database: Database, postgres: str) -> None:
    database.read(lambda connection: connection.execute(sa.text("SELECT 1")))  # migrated, before counting
    _burst(database, 4)
    assert _connections(postgres) >= 4  # the burst's connections, kept by the pool
    # Before: the pool kept them for good (pool_recycle acts only when one is lent again).
    assert _wait_for(lambda: _connections(postgres) == 0, 20), f"{_connections(postgres)} connections still open"
    said = database.read(lambda connection: connection.execute(sa.text("SHOW idle_session_timeout")).scalar())
    assert said == "1s"  # a fresh connection, the ended one replaced before it was lent
    database.write(lambda connection: connection.execute(sa.text("SELECT 1")))


def test_light_steady_traffic_leaves_only_the_connections_it_needs(database: Database, postgres: str) -> None:
    database.read(lambda connection: connection.execute(sa.text("SELECT 1")))
    _burst(database, 5)
    assert _connections(postgres) >= 5
    # Before: the pool lent its connections in turn (first in, first out), so one request every
    # 0.15 s touched each of the burst's 5 within the 1 s bound and PostgreSQL ended none of them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _connections(postgres) > 2:
        database.read(lambda connection: connection.execute(sa.text("SELECT 1")))
        time.sleep(0.15)
    assert _connections(postgres) <= 2, f"{_connections(postgres)} connections kept open by light traffic"


def test_the_bound_outlives_the_pools_rollbacks(database: Database) -> None:
    for _ in range(3):  # every lending ends in a rollback or commit; set_config(…, false) is the session's
        said = database.read(lambda connection: connection.execute(sa.text("SHOW idle_session_timeout")).scalar())
        assert said == "1s"
