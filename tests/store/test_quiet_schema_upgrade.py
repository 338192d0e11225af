"""`moodtape serve` started with a dozen Alembic lines ("setup plugin …" seven times, "Context impl
SQLiteImpl.", each migration's whole docstring); the store now says in one line what changed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodtape.store.database import Database
from moodtape.web.logs import configure_logging


@pytest.fixture
def served_logging() -> Iterator[None]:
    """The logging `moodtape serve` sets up, undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    alembic_level = logging.getLogger("alembic").level
    configure_logging("text")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(alembic_level)


def test_a_new_database_is_announced_in_one_line(
    served_logging: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Database(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.upgrade()
        store.upgrade()  # nothing to do the second time: nothing said
    finally:
        store.dispose()
    lines = [(record.name, record.getMessage()) for record in caplog.records]
    assert lines == [("moodtape.store.migrate", "store schema upgraded from an empty database to 0005")], lines
