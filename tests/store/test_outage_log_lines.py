"""A store outage is logged once per cause, summed up, and ended by one line when it is over.

Probing ``moodtape serve`` found "store: database unavailable: ..." written once per failed
request: 357 lines in a few seconds with SQLite on a full disk, as many during a PostgreSQL
restart. The full disk is real here: SQLite's ``max_page_count`` makes every write fail with
"database or disk is full", as a full file system does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from moodtape.errors import StoreUnavailableError
from moodtape.store.database import Database
from moodtape.web.logs import quiet_floods

LOGGER = "moodtape.store.database"


@pytest.fixture
def served_filters() -> Iterator[None]:
    """The log filters ``moodtape serve`` installs (``configure_logging``), taken off afterwards."""
    quiet_floods()
    yield
    logger = logging.getLogger(LOGGER)
    for found in [f for f in logger.filters if hasattr(f, "flush")]:
        found.close()
        logger.removeFilter(found)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    store = Database(f"sqlite:///{tmp_path / 'store.db'}")
    store.write(lambda c: c.execute(text("CREATE TABLE filler (data BLOB)")))
    yield store
    store.dispose()


def _each_connection(store: Database, pragma: str) -> Callable[[], None]:
    """Run ``pragma`` on every new connection of ``store`` from now on; returns the undo."""

    def on_connect(connection: object, _record: object) -> None:
        connection.execute(pragma)  # type: ignore[attr-defined]

    event.listen(store.engine, "connect", on_connect)
    store.dispose()

    def undo() -> None:
        event.remove(store.engine, "connect", on_connect)
        store.dispose()

    return undo


def _fill(connection: Connection) -> None:
    connection.execute(text("INSERT INTO filler VALUES (zeroblob(100000))"))


def _failing_writes(store: Database, count: int) -> None:
    for _ in range(count):
        with pytest.raises(StoreUnavailableError):
            store.write(_fill)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.getMessage().startswith("store: ")]


def test_a_full_disk_is_logged_once_then_summed_up_then_said_over(
    served_filters: None, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    disk_freed = _each_connection(database, "PRAGMA max_page_count = 1")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        _failing_writes(database, 300)
        assert len(_lines(caplog)) == 1, _lines(caplog)[:3]
        assert "database or disk is full" in _lines(caplog)[0]
        disk_freed()
        database.write(lambda c: c.execute(text("INSERT INTO filler VALUES (1)")))
        database.write(lambda c: c.execute(text("INSERT INTO filler VALUES (2)")))  # no second "again"
    first, summary, back = _lines(caplog)
    assert "summed up every 60 s" in first
    assert summary == "store: database unavailable: database or disk is full, and 299 more times in the last 60 s"
    assert back.startswith("store: database available again after ") and "(300 uses failed meanwhile)" in back


def test_each_cause_gets_its_own_line_and_count(
    served_filters: None, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        undo = _each_connection(database, "PRAGMA max_page_count = 1")
        _failing_writes(database, 40)
        undo()
        undo = _each_connection(database, "PRAGMA query_only = 1")  # "attempt to write a readonly database"
        _failing_writes(database, 25)
        assert len(_lines(caplog)) == 2, _lines(caplog)
        undo()
        database.write(lambda c: c.execute(text("INSERT INTO filler VALUES (1)")))
    lines = _lines(caplog)
    assert len(lines) == 5, lines
    assert any("database or disk is full, and 39 more times" in line for line in lines[2:4]), lines
    assert any("readonly database, and 24 more times" in line for line in lines[2:4]), lines
    assert "(65 uses failed meanwhile)" in lines[4]


def test_the_next_outage_is_written_at_once_again(
    served_filters: None, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):  # a handler that shows warnings only
        for _ in range(2):
            undo = _each_connection(database, "PRAGMA max_page_count = 1")
            _failing_writes(database, 3)
            undo()
            database.write(lambda c: c.execute(text("INSERT INTO filler VALUES (1)")))
    lines = _lines(caplog)
    assert len(lines) == 6, lines  # each outage: its first line, its summary, its end
    assert [line.split(" after ")[0] for line in (lines[2], lines[5])] == ["store: database available again"] * 2
    assert "summed up every 60 s" in lines[3] and "2 more times" in lines[4]
