"""``moodtape db upgrade`` and ``moodtape db status``, on SQLite and PostgreSQL, and their one-line errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error

from moodtape.state.in_store import StoreSessionMemory
from moodtape.store.database import Database
from moodtape.store.migrate import head_revision
from moodtape.store.short_lived import ShortLived
from services import free_port


def moodtape(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real entry point with only the given MOODTAPE_* settings (no .env is read from tests/)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOODTAPE_")}
    return subprocess.run(
        [sys.executable, "-c", "from moodtape.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        cwd=Path(__file__).parent,
    )


def test_upgrade_then_status_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'm.db'}"
    done = moodtape("db", "upgrade", MOODTAPE_DATABASE_URL=url)
    assert done.returncode == 0 and f"schema at version {head_revision()}" in done.stderr
    status = moodtape("db", "status", "--json", MOODTAPE_DATABASE_URL=url, MOODTAPE_HISTORY_DAYS="7")
    report = json.loads(status.stdout)
    assert report["schema"] == report["newest_schema"] == head_revision()
    assert report["rows"] == 0 and report["retention_days"] == 7 and report["short_lived_rows"] == {}


def test_status_counts_the_short_lived_state_of_several_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    database = Database(url)
    StoreSessionMemory(database).update("s1", lambda state: state)
    StoreSessionMemory(database).update("s2", lambda state: state)
    ShortLived(database, "profile", 60.0).put("s1", "{}")
    report = json.loads(moodtape("db", "status", "--json", MOODTAPE_DATABASE_URL=url).stdout)
    assert report["short_lived_rows"] == {"profile": 1, "session": 2}
    human = moodtape("db", "status", MOODTAPE_DATABASE_URL=url).stdout
    assert "short lived rows: profile 1, session 2" in human


def test_upgrade_on_postgresql(postgres: str) -> None:
    done = moodtape("db", "upgrade", MOODTAPE_DATABASE_URL=postgres)
    assert done.returncode == 0, done.stderr
    assert (
        json.loads(moodtape("db", "status", "--json", MOODTAPE_DATABASE_URL=postgres).stdout)["schema"]
        == head_revision()
    )


def test_a_database_that_is_down_is_one_line() -> None:
    result = moodtape("db", "status", MOODTAPE_DATABASE_URL=f"postgresql://u@127.0.0.1:{free_port()}/none")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "not answering", "try again")


def test_a_bad_url_names_the_forms_that_work() -> None:
    result = moodtape("db", "upgrade", MOODTAPE_DATABASE_URL="mysql://h/db")
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "MOODTAPE_DATABASE_URL", "sqlite:///", "postgresql://")


def _migrated_by_a_newer_moodtape(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    assert moodtape("db", "upgrade", MOODTAPE_DATABASE_URL=url).returncode == 0
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    return url


@pytest.mark.parametrize("command", ["upgrade", "status"])
def test_a_schema_newer_than_this_moodtape_is_one_line_that_says_what_to_do(tmp_path: Path, command: str) -> None:
    """A rollback after an upgrade migrated the database: Alembic's traceback before."""
    result = moodtape("db", command, MOODTAPE_DATABASE_URL=_migrated_by_a_newer_moodtape(tmp_path))
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "version 0099", "a newer moodtape migrated it")


def test_status_reports_a_schema_moved_back_and_leaves_it_there(tmp_path: Path) -> None:
    """A database restored from a backup to roll an upgrade back: status migrated it forward first
    (its first read set the database up), then reported the newest version, the rollback undone."""
    path = tmp_path / "restored.db"
    url = f"sqlite:///{path}"
    assert moodtape("db", "upgrade", MOODTAPE_DATABASE_URL=url).returncode == 0
    older = sorted(p.stem.split("_")[0] for p in _migration_scripts())[-2]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (older,))
    status = moodtape("db", "status", "--json", MOODTAPE_DATABASE_URL=url)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["schema"] == older and report["newest_schema"] == head_revision() and report["rows"] is None
    assert "`moodtape db upgrade` migrates it" in status.stderr
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(older,)]


def _migration_scripts() -> list[Path]:
    import moodtape.store.migrations.versions as versions

    return [p for p in Path(versions.__path__[0]).glob("0*.py")]
