"""PostgreSQL failing over behind a relay that leaves the old connections half-open.

A cluster probe put a relay in front of PostgreSQL, let the instances fill their pools, then "failed
over": the relay kept every existing connection open and acknowledged what came in, but passed
nothing on (as a moved virtual address, a relay or a stuck PgBouncer leaves them), while new
connections reached the server. No timeout of libpq, the kernel or the server fires then. Every
request that took a pooled connection waited for good in the pool's ``SELECT 1`` (watched for
40 s), and in the web app those threads held every turn on the database, so the instance answered
each history request 503 until it was restarted. Now ``ConnectionWatchdog`` closes a connection
that waits too long and the pool opens new ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from moodtape.errors import StoreUnavailableError
from moodtape.store import Store
from moodtape.store.database import Database
from services import PostgresServer
from tcp_relay import TcpRelay

pytestmark = pytest.mark.slow


@pytest.fixture
def relay(postgres_server: PostgresServer) -> Iterator[TcpRelay]:
    relay = TcpRelay(postgres_server.port)
    yield relay
    relay.close()


@pytest.fixture
def relayed_url(postgres_server: PostgresServer, relay: TcpRelay) -> str:
    url = postgres_server.create_database()
    return url.replace(f":{postgres_server.port}/", f":{relay.port}/")


def _timed(call: Callable[[], Any], within: float) -> tuple[str, Any, float]:
    """``call()`` in a thread: ("ok", value, s) / ("error", exception, s), or ("hung", None, within)."""
    outcome: list[tuple[str, Any, float]] = []
    started = time.monotonic()

    def run() -> None:
        try:
            value = call()
        except Exception as exc:
            outcome.append(("error", exc, time.monotonic() - started))
        else:
            outcome.append(("ok", value, time.monotonic() - started))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    return outcome[0] if outcome else ("hung", None, within)


def _fill_pool(database: Database, connections: int) -> None:
    """Leave ``connections`` connections idle in the pool (each used once)."""
    held = [database.engine.connect() for _ in range(connections)]
    for connection in held:
        connection.execute(sa.text("SELECT 1"))
    for connection in held:
        connection.close()


def test_pooled_connections_left_half_open_are_replaced(relayed_url: str, relay: TcpRelay) -> None:
    database = Database(relayed_url)
    database.ensure_ready()
    _fill_pool(database, 3)
    relay.silence()
    select_one = lambda: database.read(lambda c: c.execute(sa.text("SELECT 1")).scalar_one())  # noqa: E731
    results = [_timed(select_one, 15) for _ in range(3)]
    # Before: each waited for good in the pool's check of its idle connection.
    assert all(kind == "ok" and value == 1 for kind, value, _ in results), results
    assert all(took < 8 for _, _, took in results), results
    assert _timed(select_one, 5)[:2] == ("ok", 1)  # new connections: no wait at all
    database.dispose()


def test_a_statement_on_a_connection_that_goes_silent_fails_in_time(
    relayed_url: str, relay: TcpRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("moodtape.store.database.GIVE_UP_S", 2.0)
    database = Database(relayed_url)
    database.ensure_ready()
    threading.Timer(0.3, relay.silence).start()
    kind, error, took = _timed(lambda: database.read(lambda c: c.execute(sa.text("SELECT pg_sleep(1)")).all()), 15)
    # Before: the statement waited for good (nothing bounds a wait the other end acknowledges).
    assert kind == "error" and isinstance(error, StoreUnavailableError), (kind, error)
    assert took < 6, took
    assert _timed(lambda: database.read(lambda c: c.execute(sa.text("SELECT 1")).scalar_one()), 8)[:2] == ("ok", 1)
    database.dispose()


def test_the_history_store_recovers_without_a_restart(relayed_url: str, relay: TcpRelay) -> None:
    """What the web app runs: a session's history read and written through the store's pool."""
    store = Store(relayed_url)
    store.set_consent("s1", True)
    _fill_pool(store.database, 4)
    relay.silence()
    answers = [_timed(lambda: store.set_consent("s1", True), 20) for _ in range(2)]
    assert all(kind != "hung" for kind, _, _ in answers), answers
    kind, value, _ = _timed(lambda: store.consent("s1"), 8)
    assert (kind, value) == ("ok", True)
    store.database.dispose()
