"""Migrations, retries and an unreachable or restarting database, on SQLite and a real PostgreSQL 15."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from moodtape.errors import DataError, StoreUnavailableError
from moodtape.store import Store, new_id, schema
from moodtape.store import database as database_module
from moodtape.store.database import _MIGRATION_LOCK, ATTEMPTS, Database, engine_url
from moodtape.store.migrate import current_revision, head_revision
from moodtape.store.records import SavedList
from moodtape.store.schema import metadata
from services import PostgresServer, free_port


def a_list() -> SavedList:
    return SavedList(new_id(), "tracks", "match", {"mood": {"emotion": "happy"}, "items": [{"key": "k", "title": "t"}]})


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///x.db", "sqlite+pysqlite"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
    ],
)
def test_urls_name_the_driver(url: str, driver: str) -> None:
    assert engine_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://h/db", "nonsense", "sqlite://"])
def test_other_urls_are_refused_with_the_forms_that_work(url: str) -> None:
    with pytest.raises(DataError, match=r"sqlite:///path"):
        engine_url(url)


def _schema_differences(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(url)
    store.lists("s")  # first use migrates
    with store.database.engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def test_migrations_build_exactly_the_declared_schema_on_sqlite(tmp_path: Path) -> None:
    assert _schema_differences(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_migrations_build_exactly_the_declared_schema_on_postgresql(postgres: str) -> None:
    assert _schema_differences(postgres) == []


def test_upgrade_is_safe_to_repeat(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    first = Store(url)
    kept = first.save_list("s", a_list())
    Database(url).upgrade()
    assert Store(url).get_list("s", kept.id) is not None


def test_a_moodtape_0_1_database_keeps_its_rows(tmp_path: Path) -> None:
    """Before Alembic, history was one row per item; each list becomes one record, in order."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE history (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
                position INTEGER NOT NULL, item_key TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
                artist TEXT NOT NULL, genre TEXT, source TEXT NOT NULL, emotion TEXT, strategy TEXT NOT NULL);
            CREATE INDEX history_session ON history (session_id);
            CREATE TABLE feedback (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
                item_key TEXT NOT NULL, artist TEXT NOT NULL, genre TEXT, action TEXT NOT NULL);
            CREATE INDEX feedback_session ON feedback (session_id);
            CREATE TABLE mood_corrections (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
                detected TEXT NOT NULL, corrected TEXT NOT NULL);
            CREATE INDEX corrections_session ON mood_corrections (session_id);
            """
        )
        now = time.time()
        rows = [
            (
                f"h{i}",
                "sess",
                now - (100 if i < 2 else 50),
                i % 2,
                f"k{i}",
                "tracks",
                f"t{i}",
                "a",
                None,
                "catalog",
                "sad",
                "uplift",
            )
            for i in range(4)
        ]
        old.executemany("INSERT INTO history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        old.execute("INSERT INTO feedback VALUES ('f1', 'sess', ?, 'k0', 'a', 'pop', 'like')", (now,))
        old.execute("INSERT INTO mood_corrections VALUES ('c1', 'sess', ?, 'angry', 'neutral')", (now,))
    store = Store(path)
    lists = store.lists("sess")
    assert [[item["title"] for item in x.items] for x in lists] == [["t2", "t3"], ["t0", "t1"]]
    assert lists[0].emotion == "sad" and lists[0].strategy == "uplift"
    assert [f.action for f in store.feedback("sess")] == ["like"]
    assert store.correction("sess", "angry") == "neutral"
    assert _schema_differences(f"sqlite:///{path}") == []


def test_an_unreachable_database_is_a_clear_503_error_quickly() -> None:
    store = Store(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    with pytest.raises(StoreUnavailableError):  # the first call also imports the driver: not timed
        store.lists("s")
    started = time.perf_counter()
    with pytest.raises(StoreUnavailableError, match="try again") as raised:
        store.lists("s")  # no retries, no waiting out the 5 s connect timeout: refused is final at once
    assert raised.value.status == 503 and time.perf_counter() - started < 3
    assert "127.0.0.1" not in str(raised.value), "no addresses or driver text reach people"


def _raise_serialisation_failure(connection: sa.Connection) -> None:
    connection.exec_driver_sql(
        "DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = 'serialization_failure'; END $$"
    )


def test_a_transaction_that_loses_a_race_is_run_again(postgres: str) -> None:
    database = Database(postgres)
    attempts: list[int] = []

    def work(connection: sa.Connection) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            _raise_serialisation_failure(connection)
        return "done"

    assert database.write(work) == "done" and len(attempts) == 3


def test_a_race_lost_every_time_ends_in_a_503_not_a_traceback(postgres: str) -> None:
    database = Database(postgres)
    calls: list[int] = []

    def work(connection: sa.Connection) -> None:
        calls.append(1)
        _raise_serialisation_failure(connection)

    with pytest.raises(StoreUnavailableError):
        database.write(work)
    assert len(calls) == ATTEMPTS


def test_restarting_postgresql_gives_503s_then_recovers(make_postgres: Callable[[], PostgresServer]) -> None:
    server = make_postgres()
    store = Store(server.create_database())
    kept = store.save_list("s", a_list())  # the pool now holds a connection
    server.stop()
    for _ in range(3):
        with pytest.raises(StoreUnavailableError):
            store.lists("s")
        with pytest.raises(StoreUnavailableError):
            store.save_list("s", a_list())
    server.start()
    assert [x.id for x in store.lists("s")] == [kept.id], "the same store works again, no restart of moodtape"
    store.save_list("s", a_list())
    assert len(store.lists("s")) == 2


def test_a_lock_held_by_a_stuck_transaction_is_a_503_within_the_statement_timeout(
    postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "STATEMENT_TIMEOUT_S", 1)
    store = Store(postgres)
    assert store.consent("s") is None  # migrated, and a pooled connection is ready
    with sa.create_engine(engine_url(postgres)).connect() as stuck, stuck.begin():
        stuck.exec_driver_sql("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")  # and never commits
        started = time.perf_counter()
        with pytest.raises(StoreUnavailableError, match="try again"):
            store.consent("s")
        waited = time.perf_counter() - started
    assert 0.9 < waited < 3, f"waited {waited:.1f} s behind the lock"
    assert store.consent("s") is None, "the next request works once the lock is gone"


def test_a_migration_may_wait_longer_than_a_request(postgres: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another instance's migration holds the lock for 2 s; this one waits it out, not fails at 1 s."""
    monkeypatch.setattr(database_module, "STATEMENT_TIMEOUT_S", 1)
    held = threading.Event()

    def migrate_elsewhere() -> None:
        with sa.create_engine(engine_url(postgres)).connect() as other:
            other.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
            held.set()
            time.sleep(2)
            other.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")

    elsewhere = threading.Thread(target=migrate_elsewhere)
    elsewhere.start()
    assert held.wait(10)
    started = time.perf_counter()
    Database(postgres).upgrade()
    elsewhere.join()
    assert time.perf_counter() - started > 1.5
    assert _schema_differences(postgres) == []


def test_a_database_at_an_older_version_is_brought_to_the_newest(tmp_path: Path) -> None:
    from moodtape.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = Database(url)
    with database.engine.begin() as connection:
        upgrade(connection, "0001")
        assert current_revision(connection) == "0001"
    assert _schema_differences(url) == []  # the first use migrates the rest


def test_ping_says_whether_the_database_answers(postgres: str) -> None:
    Store(postgres).ping()
    with pytest.raises(StoreUnavailableError):
        Store(f"postgresql://u@127.0.0.1:{free_port()}/none").ping()


def test_choosing_at_once_from_many_threads_never_collides(postgres: str) -> None:
    import threading

    store = Store(postgres)
    errors: list[BaseException] = []

    def choose(keep: bool) -> None:
        try:
            for _ in range(10):
                store.set_consent("s", keep)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=choose, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.consent("s") in (True, False) and store.row_count() == 1


def test_two_instances_keeping_one_visit_at_once_store_it_once(postgres: str) -> None:
    """Two tabs (or a double click) turn history on together, each on its own instance: the second
    transaction cannot see the first one's uncommitted rows, and must skip them, not fail."""
    from moodtape.store.records import Feedback

    stores = [Store(postgres), Store(postgres)]  # two processes, two pools
    for round_number in range(8):
        session = f"visit-{round_number}"
        stores[0].set_consent(session, True)
        lists = [a_list() for _ in range(3)]
        likes = [Feedback(f"k{i}", "artist", "like", list_id=lists[0].id, position=i) for i in range(2)]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def keep(
            store: Store,
            session: str = session,
            lists: list[SavedList] = lists,
            likes: list[Feedback] = likes,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                store.keep_visit(session, lists, likes, {})
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=keep, args=(store,)) for store in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(x.id for x in stores[1].lists(session)) == sorted(x.id for x in lists)
        assert sorted(f.id for f in stores[0].feedback(session)) == sorted(f.id for f in likes)


def test_sqlite_database_is_locked_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holding SQLite's write lock: the transaction waits its turn by retrying."""
    import logging

    caplog.set_level(logging.INFO, logger="moodtape.store.database")
    from moodtape.store import database as database_module

    path = tmp_path / "locked.db"
    Store(path).lists("s")  # create the schema
    monkeypatch.setattr(database_module, "CONNECT_TIMEOUT_S", 0)  # no busy wait: every clash is "locked"
    store = Store(path)
    store.lists("s")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write lock, as another process would hold it
    _commit_on_first_retry(other, monkeypatch)
    kept = store.save_list("s", a_list())  # fails at first with "database is locked", then succeeds
    assert store.get_list("s", kept.id) is not None
    assert "database is locked" in caplog.text and "retrying" in caplog.text
    other.close()


@pytest.mark.parametrize("first_use", ["ensure_ready", "upgrade", "read"])
def test_a_migration_that_meets_a_locked_sqlite_file_waits_its_turn(
    first_use: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Workers that start together on one SQLite file all migrate it at once: the losers retry, not crash."""
    import logging

    caplog.set_level(logging.INFO, logger="moodtape.store.database")
    from moodtape.store import database as database_module

    path = tmp_path / "new.db"
    monkeypatch.setattr(database_module, "CONNECT_TIMEOUT_S", 0)  # no busy wait: every clash is "locked"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN IMMEDIATE")  # another worker, mid-migration
    _commit_on_first_retry(other, monkeypatch)
    database = Database(f"sqlite:///{path}")
    if first_use == "read":
        database.read(lambda connection: connection.execute(sa.text("SELECT 1")).scalar_one())
    else:
        getattr(database, first_use)()
    assert database.read(current_revision) == head_revision()
    assert "database is locked" in caplog.text and "retrying" in caplog.text
    other.close()


def _commit_on_first_retry(other: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other writer lets go while the first retry pauses: the test never depends on timing."""
    real_sleep = time.sleep

    def sleep_after_committing(seconds: float) -> None:
        if other.in_transaction:
            other.execute("COMMIT")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep_after_committing)  # the module the retries sleep through


def test_delete_everything_takes_the_rows_of_a_write_it_overlapped(postgres: str) -> None:
    """A list being saved on another instance when "Delete everything" ran: the delete removed the
    lists it could see, then waited for the saving transaction's share lock on the session row; the
    list committed meanwhile stayed behind, kept as history the person had just deleted."""
    from moodtape.store.queries import _keeps_history, _list_row

    store = Store(postgres)
    store.set_consent("visit", True)
    store.save_list("visit", a_list())
    saving = store.database.engine.connect()
    transaction = saving.begin()
    assert _keeps_history(saving, "visit")  # the write holds the session row, as save_list does
    saving.execute(sa.insert(schema.lists).values(_list_row("visit", a_list(), time.time())))
    deleting = threading.Thread(target=store.delete_session, args=("visit",))
    deleting.start()
    deleting.join(timeout=1.0)
    assert deleting.is_alive(), "the delete waits for the write holding the session row"
    transaction.commit()
    saving.close()
    deleting.join(timeout=10)
    assert not deleting.is_alive()
    assert store.lists("visit") == [] and store.row_count() == 0


def test_two_corrections_of_one_emotion_at_once_leave_one(postgres: str) -> None:
    """Two tabs say "not my mood" for the same emotion at the same moment: each deleted the old
    correction and inserted its own, neither seeing the other's uncommitted row, and two stayed in
    force (2 of 30 rounds in a cluster probe). Here the first is held between its delete and its
    insert while the second runs; the second must wait for it and replace it."""
    store = Store(postgres)
    store.set_consent("tabs", True)
    store.set_correction("tabs", "angry", "neutral", if_kept=True)
    first_deleted, first = threading.Event(), threading.current_thread()

    def hold_after_delete(connection: sa.Connection, cursor: object, statement: str, *args: object) -> None:
        if threading.current_thread() is first and statement.startswith("DELETE FROM mood_corrections"):
            first_deleted.set()
            time.sleep(0.5)  # the second tab runs now

    second = threading.Thread(
        target=lambda: first_deleted.wait(5) and store.set_correction("tabs", "angry", "sad", if_kept=True)
    )
    sa.event.listen(store.database.engine, "after_cursor_execute", hold_after_delete)
    try:
        second.start()
        store.set_correction("tabs", "angry", "happy", if_kept=True)
        second.join(10)
    finally:
        sa.event.remove(store.database.engine, "after_cursor_execute", hold_after_delete)
    table = schema.mood_corrections
    rows = store.database.read(
        lambda c: c.execute(sa.select(table.c.corrected).where(table.c.session_id == "tabs")).all()
    )
    assert [row[0] for row in rows] == ["sad"] and store.correction("tabs", "angry") == "sad"
