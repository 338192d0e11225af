"""What an operator or a damaged table does to the store under a running process: a version that
cannot be read, several ``Database`` objects on one URL, a SQLite file replaced or removed.

Found by the session-23 probe (/tmp/store-probe): a version read failing with something that is no
database error (a KeyError, Alembic, PostgreSQL's ProgrammingError) was a 500 every 5 s; the
store and the short-lived state of ``serve --processes N`` each logged the same schema warning; and
a SQLite file replaced under a running store (``mv restored.db moodtape.db``) went unnoticed: every
write was answered and landed in the old, unlinked file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from moodtape.errors import StoreSetupError
from moodtape.store import Store, migrate
from moodtape.store import database as database_module

SESSION = "a" * 32


@pytest.fixture(autouse=True)
def quick_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.2)


def _warnings(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return len([r for r in caplog.records if r.levelno == logging.WARNING and words in r.getMessage()])


def test_a_version_read_failing_without_a_database_error_is_a_503_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    running = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    running.ping()

    def malformed(_connection: object) -> str:
        raise KeyError("version_num")

    monkeypatch.setattr(migrate, "current_revision", malformed)
    caplog.set_level(logging.WARNING, logger="moodtape.store.database")
    for _ in range(3):  # three reads of the version
        time.sleep(0.25)
        with pytest.raises(StoreSetupError, match=r"could not be read \(KeyError") as refused:
            running.lists(SESSION)
        assert refused.value.status == 503 and refused.value.code == "store_not_set_up"
    assert _warnings(caplog, "could not be read") == 1
    monkeypatch.undo()
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.2)
    time.sleep(0.25)
    assert running.lists(SESSION) == [], "usable again once the version reads"


def test_a_renamed_version_column_on_postgresql_is_a_503_not_a_500(postgres: str) -> None:
    running = Store(postgres)
    running.ping()
    operator = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with operator.begin() as connection:
            connection.execute(sa.text("ALTER TABLE alembic_version RENAME COLUMN version_num TO v"))
        time.sleep(0.25)
        with pytest.raises(StoreSetupError, match=r"could not be read \(ProgrammingError"):
            running.lists(SESSION)
    finally:
        operator.dispose()


def test_a_migration_failing_without_a_database_error_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic.util.exc import CommandError

    attempts: list[int] = []

    def broken(_connection: object, _revision: str = "head") -> None:
        attempts.append(1)
        raise CommandError("Can't locate revision identified by 'x'")

    monkeypatch.setattr(migrate, "upgrade", broken)
    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    for _ in range(3):
        with pytest.raises(StoreSetupError, match=r"setting the database's schema up failed \(CommandError"):
            store.ping()
    assert len(attempts) == 1, "tried once, then remembered for SETUP_RETRY_S"


def test_two_databases_of_one_process_on_one_url_log_a_change_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``serve --processes N`` without Redis: the store and the short-lived state share the URL."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    both = [Store(url), Store(url)]
    for store in both:
        store.ping()
    with sqlite3.connect(tmp_path / "shared.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    caplog.set_level(logging.INFO, logger="moodtape.store.database")
    time.sleep(0.25)
    for store in both:
        with pytest.raises(StoreSetupError, match="0099_from_the_future"):
            store.ping()
    assert _warnings(caplog, "0099_from_the_future") == 1
    with sqlite3.connect(tmp_path / "shared.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (migrate.head_revision(),))
    time.sleep(0.25)
    for store in both:
        store.ping()
    assert len([r for r in caplog.records if "usable again" in r.getMessage()]) == 1


def test_a_sqlite_file_replaced_under_a_running_store_is_used_no_more(tmp_path: Path) -> None:
    path, restored = tmp_path / "moodtape.db", tmp_path / "restored.db"
    running = Store(f"sqlite:///{path}")
    running.set_consent(SESSION, True)
    Store(f"sqlite:///{restored}").ping()
    os.replace(path, tmp_path / "old.db")  # the operator keeps the old file aside...
    os.replace(restored, path)  # ...and puts the restored one in its place
    with pytest.raises(StoreSetupError, match="replaced") as refused:
        running.set_consent("b" * 32, True)  # at once: no write may land in the old file
    assert type(refused.value).__name__ == "StoreFileReplacedError", "readiness says this instance's own"
    assert refused.value.status == 503 and refused.value.code == "store_not_set_up"
    with pytest.raises(StoreSetupError, match="replaced"):
        running.ping()
    # Not read here: opening the restored file beside the old file's -wal is what the error prevents.
    os.replace(path, restored)
    os.replace(tmp_path / "old.db", path)  # put back: the file this process opened, usable again
    assert running.consent(SESSION) is True and running.consent("b" * 32) is None


def test_a_sqlite_file_removed_under_a_running_store_is_not_made_again(tmp_path: Path) -> None:
    path = tmp_path / "moodtape.db"
    running = Store(f"sqlite:///{path}")
    running.ping()
    path.unlink()
    with pytest.raises(StoreSetupError, match="removed"):
        running.lists(SESSION)
    assert not path.exists(), "an empty database appeared at the path"


def _swap_in_a_restored_file(tmp_path: Path, path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 'restored.db'}").ping()
    os.replace(path, tmp_path / "old.db")
    os.replace(tmp_path / "restored.db", path)


def test_a_second_database_first_used_after_the_swap_is_refused_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``serve --processes N`` without Redis: the store and the short-lived state are two objects on
    one URL, the second set up seconds after the first. Before, the second took the swapped-in file
    for its own: it read the old file's -wal into it and wrote there, and the two then disagreed on
    which file was right, logging a warning and "usable again" in turn at every use."""
    path = tmp_path / "moodtape.db"
    first, second = Store(f"sqlite:///{path}"), Store(f"sqlite:///{path}")
    first.set_consent(SESSION, True)
    _swap_in_a_restored_file(tmp_path, path)
    caplog.set_level(logging.INFO, logger="moodtape.store.database")
    for _ in range(2):
        for store in (second, first):
            with pytest.raises(StoreSetupError, match="replaced") as refused:
                store.set_consent("b" * 32, True)
            assert type(refused.value).__name__ == "StoreFileReplacedError"
    assert _warnings(caplog, "replaced") == 1 and not [r for r in caplog.records if "usable again" in r.getMessage()]
    os.replace(path, tmp_path / "restored.db")
    os.replace(tmp_path / "old.db", path)  # put back: the file the process opened first
    assert second.consent(SESSION) is True and first.consent("b" * 32) is None


def test_a_file_uri_is_checked_too(tmp_path: Path) -> None:
    """``sqlite:///file:…?uri=true`` turned the check off: its path was looked for as written."""
    path = tmp_path / "moodtape.db"
    running = Store(f"sqlite:///file:{path}?uri=true")
    running.set_consent(SESSION, True)
    _swap_in_a_restored_file(tmp_path, path)
    with pytest.raises(StoreSetupError, match="replaced"):
        running.set_consent("b" * 32, True)
    assert not (Path.cwd() / "file:").exists(), "a folder named after the URI's text"


def test_a_relative_path_still_names_its_file_after_a_change_of_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    running = Store("sqlite:///moodtape.db")
    running.set_consent(SESSION, True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # before: "the SQLite database file was removed"
    assert running.consent(SESSION) is True
    assert not (tmp_path / "elsewhere" / "moodtape.db").exists()


def test_a_file_that_cannot_be_looked_at_any_more_is_not_used(tmp_path: Path) -> None:
    """Only a missing file counted: any other error of ``stat`` (here a folder on the path replaced by
    a file) let every use go on to the connections, as if nothing had happened."""
    folder = tmp_path / "data"
    running = Store(f"sqlite:///{folder / 'moodtape.db'}")
    running.set_consent(SESSION, True)
    os.replace(folder, tmp_path / "data-old")
    folder.write_text("not a folder")
    with pytest.raises(StoreSetupError, match="unreachable") as refused:
        running.set_consent("b" * 32, True)
    assert type(refused.value).__name__ == "StoreFileReplacedError"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_worker_logs_for_itself_and_still_knows_the_file(tmp_path: Path) -> None:
    """``serve --processes N`` forks its workers: each logs a change once itself (the parent's table
    of what it logged is not theirs), and each refuses a file swapped after the parent opened it."""
    path = tmp_path / "moodtape.db"
    running = Store(f"sqlite:///{path}")
    running.ping()
    _swap_in_a_restored_file(tmp_path, path)
    with pytest.raises(StoreSetupError, match="replaced"):
        running.ping()  # the parent logs it, and notes that it did
    assert any(key.endswith("#file") for key in database_module._NOTED)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            said = [] if database_module._NOTED else ["table cleared"]
            seen: list[str] = []
            handler = logging.Handler()
            handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
            logging.getLogger("moodtape.store.database").addHandler(handler)
            try:
                Store(f"sqlite:///{path}").ping()  # a new object in the child: the parent's file counts
            except StoreSetupError:
                said.append("refused")
            said.append(f"{sum('replaced' in line for line in seen)} lines")
            os.write(writing, ",".join(said).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        answer = pipe.read()
    os.waitpid(child, 0)
    assert answer == "table cleared,refused,1 lines"
