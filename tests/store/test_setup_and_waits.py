"""A failed setup is remembered, not run again on every use; a schema changed under a running process
is noticed, never migrated; threads waiting on the database are bounded."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from moodtape.errors import StoreSetupError, StoreUnavailableError
from moodtape.store import Store, migrate
from moodtape.store import database as database_module
from moodtape.store.database import StoreWaits
from moodtape.store.migrate import SchemaMovedBackError, SchemaTooNewError


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


def test_a_schema_migrated_under_a_running_process_is_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster probe: during a rolling upgrade a newer instance migrated the database, and an
    older one that had set it up before kept answering /readyz 200 and using the schema it did not
    know, for as long as it ran (the version was read once, at start)."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3, raising=False)  # absent before: read once
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    running = Store(url)  # the older instance, set up and serving
    running.ping()
    assert running.lists("s") == []
    with sqlite3.connect(tmp_path / "shared.db") as connection:  # the newer instance migrates
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    time.sleep(0.4)
    with pytest.raises(SchemaTooNewError, match="version 0099_from_the_future"):
        running.ping()
    with pytest.raises(SchemaTooNewError):
        running.lists("s")


def _version_reads(store: Store) -> list[str]:
    """The statements ``store`` sends that read the schema's version, from now on."""
    reads: list[str] = []

    def seen(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().startswith("SELECT") and "version_num" in statement:
            reads.append(statement)

    event.listen(store.database.engine, "before_cursor_execute", seen)
    return reads


def test_reading_the_schema_version_waits_for_no_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: the re-read opened a write transaction (SQLite's BEGIN IMMEDIATE), so readiness and
    every request waited behind any other writer, and got a 503 when it held on (after about 20 s)."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    monkeypatch.setattr(database_module, "CONNECT_TIMEOUT_S", 1)  # a wait for the lock gives up after 1 s
    running = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    running.ping()
    reads = _version_reads(running)
    writer = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's write, held throughout
    try:
        time.sleep(0.4)
        running.ping()
        assert running.lists("s") == []
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert len(reads) == 1, "the version was read again, beside the writer"


def test_a_schema_moved_back_is_not_migrated_forward_under_traffic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A review: a database restored from a backup to roll an upgrade back was migrated forward
    again within 5 s by a newer instance still running, undoing the rollback under traffic."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    path = tmp_path / "shared.db"
    running = Store(f"sqlite:///{path}")  # the newer instance, set up and serving
    running.ping()
    assert migrate.head_revision() == "0005", "the restore below is 0005's downgrade"
    with sqlite3.connect(path) as connection:  # the operator restores the backup from before 0005
        connection.execute("DROP TABLE deployment_facts")
        connection.execute("UPDATE alembic_version SET version_num = '0004'")
    time.sleep(0.4)
    caplog.set_level(logging.WARNING, logger="moodtape.store.database")
    for _ in range(3):  # three reads of the version, one warning
        with pytest.raises(SchemaMovedBackError, match=r"moved back to version 0004 .* needs version 0005;") as refused:
            running.ping()
        assert isinstance(refused.value, StoreSetupError) and refused.value.code == "store_not_set_up"
        with pytest.raises(SchemaMovedBackError):
            running.lists("s")
        time.sleep(0.4)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0004",)]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "deployment_facts" not in tables, "left as the operator restored it"
    assert len([r for r in caplog.records if "moved back to version 0004" in r.getMessage()]) == 1
    Store(f"sqlite:///{path}").ping()  # the operator migrates it forward again (a restart does the same)
    time.sleep(0.4)
    running.ping()
    assert running.lists("s") == []


def test_reading_the_version_again_writes_nothing_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A review: each read configured an Alembic context, two INFO lines every 5 s (about 1,440 an
    hour per process)."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    running = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    running.ping()
    reads = _version_reads(running)
    caplog.set_level(logging.INFO)
    caplog.clear()  # the first set-up's own lines (Alembic's, at INFO when an earlier test set that level)
    for _ in range(3):  # the same version, read again and again: never unready
        time.sleep(0.4)
        running.ping()
        assert running.lists("s") == []
    assert len(reads) == 3
    assert [r.getMessage() for r in caplog.records] == []


def test_requests_arriving_together_read_the_version_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: the next read's time moved only after a read succeeded, so requests arriving
    together after the period each read the version (8 reads for 8 requests)."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    running = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    running.ping()
    reads = _version_reads(running)

    def slow(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement in reads:
            time.sleep(0.1)  # the others arrive while the first reads

    event.listen(running.database.engine, "before_cursor_execute", slow)
    together = threading.Barrier(8)
    answers: list[object] = []

    def request() -> None:
        together.wait(5)
        answers.append(running.lists("s"))

    time.sleep(0.4)
    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [[]] * 8
    assert len(reads) == 1, "one read for the eight requests"


def test_two_recorded_versions_are_a_clear_setup_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: Alembic's answer to two rows in alembic_version is no database error, so every
    history request would have been a 500."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    running = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    running.ping()
    with sqlite3.connect(tmp_path / "shared.db") as connection:
        connection.execute("INSERT INTO alembic_version VALUES ('0003')")
    time.sleep(0.4)
    with pytest.raises(StoreSetupError, match="records 2 schema versions"):
        running.lists("s")
    with pytest.raises(StoreSetupError, match="records 2 schema versions"):
        Store(f"sqlite:///{tmp_path / 'shared.db'}").ping()  # a first use says the same


def test_an_in_memory_database_is_never_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody else can migrate or restore it: no read of the version after the first use."""
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.0)
    store = Store("sqlite:///:memory:")
    store.ping()
    reads = _version_reads(store)
    for _ in range(3):
        assert store.lists("s") == []
    assert reads == []


def test_each_kind_of_schema_change_is_named_on_postgresql(postgres: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read with PostgreSQL's catalog too: newer, older, and no version table at all."""
    import sqlalchemy as sa

    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    running = Store(postgres)
    running.ping()
    operator = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    changes = [
        ("UPDATE alembic_version SET version_num = '0099_from_the_future'", SchemaTooNewError, "version 0099"),
        ("UPDATE alembic_version SET version_num = '0003'", SchemaMovedBackError, "moved back to version 0003"),
        ("DROP TABLE alembic_version", SchemaMovedBackError, "has no moodtape schema now"),
    ]
    try:
        for change, error, words in changes:
            with operator.begin() as connection:
                connection.execute(sa.text(change))
            time.sleep(0.4)
            with pytest.raises(error, match=words):
                running.lists("s")
    finally:
        operator.dispose()
