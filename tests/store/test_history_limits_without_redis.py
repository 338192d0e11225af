"""Without Redis, instances sharing one database still compare their history limits (``/readyz``).

Several machines on one PostgreSQL and no ``MOODTAPE_REDIS_URL``: ``checks.history_limits`` was
missing, every instance said ``ready``, and
the one with the shortest ``MOODTAPE_HISTORY_DAYS`` deleted everyone's older history. Now each
notes its limits in the store (the ``short_lived`` table) and reads the others' there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from moodtape.store.schema import short_lived
from moodtape.web import ops
from moodtape.web.logs import OncePerCause, OncePerInterval, quiet_floods
from readiness_instances import history_check, offline_instance


@pytest.fixture(autouse=True)
def _note_at_every_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "NOTE_IN_STORE_EVERY_S", 0.0)  # no 20 s wait for a new note


def test_instances_on_one_postgresql_without_redis_name_other_history_limits(tmp_path: Path, postgres: str) -> None:
    url = postgres
    month = offline_instance(tmp_path / "a", MOODTAPE_DATABASE_URL=url)
    assert history_check(month) == ("ready", "ok")  # alone so far
    assert history_check(offline_instance(tmp_path / "b", MOODTAPE_DATABASE_URL=url, MOODTAPE_HISTORY_DAYS="30.0")) == (
        "ready",
        "ok",
    )
    week = offline_instance(tmp_path / "c", MOODTAPE_DATABASE_URL=url, MOODTAPE_HISTORY_DAYS="7")
    status, said = history_check(week)
    assert status == "degraded" and "this one 7 days, 50 lists; others 30 days, 50 lists" in said, said
    status, said = history_check(month)
    assert status == "degraded" and "others 7 days, 50 lists" in said, said  # seen from both sides
    assert week.get("/readyz?strict=true").status_code == 503


def test_a_sqlite_file_is_not_compared_and_readiness_writes_nothing(tmp_path: Path) -> None:
    """One machine's file, whose processes share one environment: no check, no write at each poll."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    history_check(offline_instance(tmp_path / "a", MOODTAPE_DATABASE_URL=url), expected=False)
    status, said = history_check(
        offline_instance(tmp_path / "b", MOODTAPE_DATABASE_URL=url, MOODTAPE_HISTORY_DAYS="7"), expected=False
    )
    assert (status, said) == ("ready", "(no check)")


def test_readiness_notes_its_limits_without_sweeping_other_rows(tmp_path: Path, postgres: str) -> None:
    """Before: each poll's note was a new ``ShortLived`` whose first write swept up to 500 dead rows
    of any kind, within readiness's one second, and took one of the request threads' turns."""
    instance = offline_instance(tmp_path / "a", MOODTAPE_DATABASE_URL=postgres)
    assert history_check(instance) == ("ready", "ok")
    dead = [
        {"kind": "session", "session_id": f"dead{n}", "revision": 1, "expires_at": 0.0, "document": "{}"}
        for n in range(50)
    ]
    with sa.create_engine(postgres).begin() as connection:
        connection.execute(sa.insert(short_lived), dead)
    for _ in range(3):
        assert history_check(instance) == ("ready", "ok")
    with sa.create_engine(postgres).connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).where(short_lived.c.kind == "session")).scalar_one()
    assert left == len(dead)


@pytest.fixture
def served_filters() -> Iterator[None]:
    """The log filters ``moodtape serve`` installs (``configure_logging``), taken off afterwards."""
    quiet_floods()
    yield
    for name in (
        "moodtape.web",
        "moodtape.store.database",
        "moodtape.store.database.writes",
        "moodtape.state.connection",
    ):
        logger = logging.getLogger(name)
        for found in [f for f in logger.filters if isinstance(f, OncePerCause | OncePerInterval)]:
            found.close()
            logger.removeFilter(found)


def test_a_missing_short_lived_table_is_logged_once_not_at_every_poll(
    tmp_path: Path, postgres: str, caplog: pytest.LogCaptureFixture, served_filters: None
) -> None:
    """Before: every poll logged "readiness check failed" with the whole SQL statement. The served
    per-cause filter (web/logs.py) is what lets one line per cause out; the table put back says so."""
    instance = offline_instance(tmp_path / "a", MOODTAPE_DATABASE_URL=postgres)
    assert history_check(instance) == ("ready", "ok")
    with sa.create_engine(postgres).begin() as connection:
        connection.execute(sa.text("DROP TABLE short_lived"))
    caplog.set_level(logging.WARNING)
    answers = {history_check(instance)[1] for _ in range(5)}
    assert answers == {"failing (ProgrammingError)"}, answers
    lines = [record.getMessage() for record in caplog.records if "short_lived" in record.getMessage()]
    assert len(lines) == 1 and "SELECT" not in lines[0] and "INSERT" not in lines[0], lines
    assert "summed up every 60 s" in lines[0], lines  # the served filter let it out, and said so

    short_lived.create(sa.create_engine(postgres))
    caplog.clear()
    assert history_check(instance) == ("ready", "ok")
    said = [record.getMessage() for record in caplog.records if "history limits" in record.getMessage()]
    summary = [line for line in said if "and 4 more times" in line]
    assert len(summary) == 1 and "short_lived" in summary[0], said  # the held-back polls, summed up at once
    assert said[-1] == ops.STORE_NOTE_WORKS, said

    with sa.create_engine(postgres).begin() as connection:
        connection.execute(sa.text("DROP TABLE short_lived"))
    caplog.clear()
    assert history_check(instance)[1] == "failing (ProgrammingError)"
    again = [record.getMessage() for record in caplog.records if "short_lived" in record.getMessage()]
    assert len(again) == 1, again  # a new failure after the recovery is written at once


class _MissingTable:
    """A ``ShortLived`` whose table is missing until ``back`` (what PostgreSQL says then)."""

    back = False

    def __init__(self, *args: object) -> None:
        pass

    def note(self, key: str, value: str) -> None:
        if not _MissingTable.back:
            raise RuntimeError('relation "short_lived" does not exist')

    def live(self) -> dict[str, str]:
        return {}


def test_the_lines_ops_writes_are_the_ones_the_served_filter_sums_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, served_filters: None
) -> None:
    """Without a PostgreSQL: the lines ``_note_in_store`` writes are matched by the served filter
    (web/logs.py), so a reword in either place cannot leave them unsummed."""
    from moodtape.store import short_lived as short_lived_module

    monkeypatch.setattr(short_lived_module, "ShortLived", _MissingTable)
    monkeypatch.setattr(_MissingTable, "back", False)
    caplog.set_level(logging.WARNING)
    last = None
    for _ in range(3):
        last = ops._note_in_store(object(), "30 days, 50 lists", last)
    assert last is not None and last.found == "failing (RuntimeError)"
    said = [record.getMessage() for record in caplog.records if "history limits" in record.getMessage()]
    assert len(said) == 1 and "short_lived" in said[0], said  # the other two held back

    monkeypatch.setattr(_MissingTable, "back", True)
    caplog.clear()
    assert ops._note_in_store(object(), "30 days, 50 lists", last).found == set()
    said = [record.getMessage() for record in caplog.records if "history limits" in record.getMessage()]
    assert len(said) == 2 and "and 2 more times" in said[0] and "short_lived" in said[0], said
    assert said[1] == ops.STORE_NOTE_WORKS, said
