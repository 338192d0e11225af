"""A failed setup is remembered, not run again on every use; threads waiting on the database are bounded."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from moodtape.errors import StoreSetupError, StoreUnavailableError
from moodtape.store import Store, migrate
from moodtape.store import database as database_module
from moodtape.store.database import StoreWaits
from moodtape.store.migrate import SchemaTooNewError


def _newer_schema(tmp_path: Path) -> tuple[str, str]:
    """A SQLite database whose schema a newer moodtape migrated; returns its URL and the real version."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).lists("s")  # migrated by this version
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        real = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    return url, real


def test_a_schema_too_new_is_tried_once_then_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster probe: an instance older than the schema re-ran the migration attempt (under the
    advisory lock, with Alembic's lines in the log) at every readiness poll and every request."""
    url, real = _newer_schema(tmp_path)
    attempts = []
    real_upgrade = migrate.upgrade

    def counted(*args: object, **kwargs: object) -> None:
        attempts.append(1)
        real_upgrade(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(migrate, "upgrade", counted)
    monkeypatch.setattr(database_module, "SETUP_RETRY_S", 0.5)
    store = Store(url)
    for _ in range(5):
        with pytest.raises(SchemaTooNewError, match="version 0099_from_the_future") as refused:
            store.ping()
        assert isinstance(refused.value, StoreSetupError) and refused.value.code == "store_not_set_up"
    with pytest.raises(SchemaTooNewError):
        store.lists("s")
    assert len(attempts) == 1, "the same answer, without trying again, until SETUP_RETRY_S has passed"
    time.sleep(0.6)
    with pytest.raises(SchemaTooNewError):
        store.ping()
    assert len(attempts) == 2, "tried again once the pause is over"
    # Restored (or this version's turn came back): the next try after the pause works.
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (real,))
    time.sleep(0.6)
    store.ping()
    assert store.lists("s") == []


def test_an_outage_is_not_remembered(tmp_path: Path) -> None:
    """A database that is down is tried again by the very next use (it may be back)."""
    from services import free_port

    store = Store(f"postgresql://u@127.0.0.1:{free_port()}/none")
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            store.ping()
        assert time.monotonic() - started < 5
    assert store.database._setup_failed is None


def test_threads_beyond_the_bound_wait_briefly_then_get_a_503() -> None:
    waits = StoreWaits(2, wait_s=0.3)
    release = threading.Event()
    inside = threading.Barrier(3)

    def stuck() -> None:
        with waits.turn():
            inside.wait(5)
            release.wait(10)

    holders = [threading.Thread(target=stuck, daemon=True) for _ in range(2)]
    for holder in holders:
        holder.start()
    try:
        inside.wait(5)
        assert waits.busy == 2
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="slow to answer") as refused, waits.turn():
            pass
        assert 0.25 < time.monotonic() - started < 2
        assert refused.value.status == 503 and refused.value.code == "store_unavailable"
        assert refused.value.retry_after == 1
        waits.resize(3)  # the server knows its thread count late
        with waits.turn():
            assert waits.busy == 3
    finally:
        release.set()
    for holder in holders:
        holder.join(5)
    assert waits.busy == 0
    with waits.turn(), waits.turn():  # nested in one thread: one turn
        assert waits.busy == 1


def test_a_database_under_a_bound_holds_a_turn_per_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.database.waits = waits = StoreWaits(1, wait_s=0.3)
    seen = []
    store.database.read(lambda _connection: seen.append(waits.busy))
    assert seen == [1] and waits.busy == 0
    with waits.turn():  # held by this thread: its own transactions still run
        assert store.lists("s") == []
    blocker = threading.Event()
    released = threading.Event()

    def hold() -> None:
        with waits.turn():
            blocker.set()
            released.wait(10)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert blocker.wait(5)
        with pytest.raises(StoreUnavailableError):
            store.lists("s")
    finally:
        released.set()
        thread.join(5)
    assert store.lists("s") == []
