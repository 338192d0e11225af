"""A PostgreSQL that refuses writes (a standby after a failover, ``default_transaction_read_only``).

Before: each write was a 500 "something went wrong on the server" with a traceback in the log
(probe: three instances behind HAProxy, ``ALTER DATABASE … SET default_transaction_read_only = on``:
every new list 500), ``/readyz`` said ``ready``, and pooled connections kept the read-only default
after it was turned off, until they were recycled.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from moodtape.errors import StoreUnavailableError
from moodtape.store import Store
from moodtape.store.database import WATCHDOG
from moodtape.web.logs import quiet_floods
from services import PostgresServer


def _set_read_only(server: PostgresServer, url: str, on: bool) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.SQL("on" if on else "off")
            )
        )


def test_a_read_only_database_is_a_503_that_names_it_and_readiness_says_so(
    postgres_server: PostgresServer, postgres: str
) -> None:
    store = Store(postgres)
    store.set_consent("s", True)
    store.ping()  # opens the pool's connections while writes are taken
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()  # new connections take the database's new default
    with pytest.raises(StoreUnavailableError) as refused:
        store.set_consent("s", False)
    said = str(refused.value)
    assert "read-only" in said and "point MOODTAPE_DATABASE_URL at the primary" in said, said
    assert store.consent("s") is True  # reads go on
    with pytest.raises(StoreUnavailableError) as readiness:
        store.ping()
    assert str(readiness.value) == said


def test_writes_work_again_once_the_database_takes_them_without_recycling_by_hand(
    postgres_server: PostgresServer, postgres: str
) -> None:
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    with pytest.raises(StoreUnavailableError):
        store.set_consent("s", False)
    _set_read_only(postgres_server, postgres, on=False)  # no connection is closed on the server
    store.set_consent("s", False)
    store.ping()
    assert store.consent("s") is False


def _connections(server: PostgresServer, url: str) -> int:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.url(), autocommit=True) as admin:
        found = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
    return int(found[0]) if found else 0


def test_refused_writes_from_many_threads_keep_one_pool_and_few_connections(
    postgres_server: PostgresServer, postgres: str
) -> None:
    """Before: each refusal disposed of the engine, a new pool each time, and the connections other
    threads held went back to the old pools and stayed open until garbage collected: 4 writers and
    4 readers filled PostgreSQL's 100 connections within seconds, and reads failed too.

    Renewed at every refusal instead of at most once a second, the 8 threads opened 241
    connections in 1.5 s (24 with the limit): counted here, as the peak alone does not show it."""
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    pool = store.database.engine.pool
    connects = [0]

    def opened(*_args: object) -> None:
        connects[0] += 1  # the pool's "connect" event runs under its lock: no two at once

    event.listen(store.database.engine, "connect", opened)
    started = time.monotonic()
    stop = started + 1.5
    failures: list[str] = []

    def writer(n: int) -> None:
        while time.monotonic() < stop:
            with contextlib.suppress(StoreUnavailableError):
                store.set_consent(f"s{n}", True)

    def reader() -> None:
        while time.monotonic() < stop:
            try:
                store.consent("s")
            except StoreUnavailableError as error:
                failures.append(str(error))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    peak = 0
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, _connections(postgres_server, postgres))
        time.sleep(0.05)
    seconds = time.monotonic() - started
    assert failures == []
    assert store.database.engine.pool is pool
    assert peak <= 8, peak  # one per thread at most (the pool holds up to 15)
    # Each thread's connection: the first, then one more per renewal (at most once a second, and a
    # second one when two threads hear "due" at once).
    assert connects[0] <= 8 * (seconds + 2), (connects[0], seconds)


def test_a_read_does_not_end_the_log_run_of_refused_writes_a_write_does(
    postgres_server: PostgresServer, postgres: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: refusals were logged as an outage, which any read that succeeded ended ("database
    available again"), so the log filter wrote every refusal: 100 refused writes, each followed by
    a read, wrote 200 lines."""
    caplog.set_level(logging.WARNING, logger="moodtape.store")
    quiet_floods()
    try:
        store = Store(postgres)
        store.set_consent("s", True)
        _set_read_only(postgres_server, postgres, on=True)
        store.database.engine.dispose()
        for _ in range(50):
            with contextlib.suppress(StoreUnavailableError):
                store.set_consent("s", False)
            assert store.consent("s") is True
        lines = [record.getMessage() for record in caplog.records]
        assert len(lines) == 1 and "read-only transaction" in lines[0], lines
        _set_read_only(postgres_server, postgres, on=False)
        deadline = time.monotonic() + 5
        while True:  # connections opened while it was read-only are renewed at most once a second
            try:
                store.set_consent("s", False)
                break
            except StoreUnavailableError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        back = [record.getMessage() for record in caplog.records][len(lines) :]
        assert len(back) == 2 and "and " in back[0] and back[1].startswith("store: database takes writes again"), back
    finally:
        for name in ("moodtape.store.database", "moodtape.store.database.writes"):
            logger = logging.getLogger(name)
            for found in [f for f in logger.filters if hasattr(f, "flush")]:
                found.close()
                logger.removeFilter(found)


def test_readiness_finding_writes_allowed_ends_the_refusals(
    postgres_server: PostgresServer, postgres: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="moodtape.store.database.writes")
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    with pytest.raises(StoreUnavailableError):
        store.ping()
    _set_read_only(postgres_server, postgres, on=False)
    _ping_until_writes_are_taken(store)  # the pinged connection is renewed at its next use (once a second)
    said = [record.getMessage() for record in caplog.records]
    assert said[-1].startswith("store: database takes writes again after"), said


def _ping_until_writes_are_taken(store: Store) -> None:
    """Poll readiness's ping until it finds writes allowed (within 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            store.ping()
            return
        except StoreUnavailableError:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def _fill_pool(store: Store, connections: int) -> None:
    held = [store.database.engine.connect() for _ in range(connections)]
    for connection in held:
        connection.close()


def test_readiness_says_ready_only_once_every_pooled_connection_takes_writes(
    postgres_server: PostgresServer, postgres: str
) -> None:
    """Before: readiness renewed only its own connection, so it said "ready" (and logged "takes
    writes again") while the pool's other connections kept the read-only default: /readyz flapped
    between ready and degraded, and the request threads' writes went on being refused."""
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    _fill_pool(store, 5)
    with pytest.raises(StoreUnavailableError):
        store.ping()
    _set_read_only(postgres_server, postgres, on=False)  # no connection is closed on the server
    _ping_until_writes_are_taken(store)
    held = [store.database.engine.connect() for _ in range(5)]
    try:
        said = [c.exec_driver_sql("SHOW default_transaction_read_only").scalar_one() for c in held]
    finally:
        for connection in held:
            connection.close()
    assert said == ["off"] * 5, said


def _refusal_of(exception: BaseException | None) -> bool:
    return getattr(getattr(exception, "orig", exception), "sqlstate", None) == "25006"


def test_a_refused_write_renews_the_pool_though_readiness_just_found_writes_refused(
    postgres_server: PostgresServer, postgres: str
) -> None:
    """Before: readiness and refused writes took turns from one once-a-second limiter, so readiness
    polled every second took every turn, and no refused write closed its connection (0 of 10)."""
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    closed: list[BaseException | None] = []

    def invalidated(_dbapi: object, _record: object, exception: BaseException | None) -> None:
        closed.append(exception)

    event.listen(store.database.engine, "invalidate", invalidated)
    with pytest.raises(StoreUnavailableError):
        store.ping()
    with pytest.raises(StoreUnavailableError):
        store.set_consent("s", False)
    assert any(_refusal_of(exception) for exception in closed), closed


def test_readiness_finding_writes_refused_keeps_its_connection_watched_until_it_commits(
    postgres_server: PostgresServer, postgres: str
) -> None:
    """Before: readiness marked its connection for renewal mid-transaction, and the watchdog took
    that mark for the connection's return: its COMMIT ran unwatched (a frozen server held it)."""
    store = Store(postgres)
    store.set_consent("s", True)
    _set_read_only(postgres_server, postgres, on=True)
    store.database.engine.dispose()
    watched_at_commit: list[bool] = []

    def committing(connection: Connection) -> None:
        dbapi: Any = connection.connection.dbapi_connection
        watched_at_commit.append(id(dbapi) in WATCHDOG._armed)

    event.listen(store.database.engine, "commit", committing)
    with pytest.raises(StoreUnavailableError):
        store.ping()
    assert watched_at_commit == [True]
