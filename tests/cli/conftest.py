"""Fixtures for the CLI tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


def _own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers other than pytest's own (its log capture comes and goes each phase)."""
    return [handler for handler in logger.handlers if not type(handler).__module__.startswith("_pytest")]


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """Undo what a command run in this process did to the root logger.

    `moodtape serve` configures logging (web/logs.py) before it checks its other options, so a test
    of `serve --threads 0` left a handler writing to that test's captured stderr, closed since: every
    later test that logged printed "--- Logging error ---" into its own stderr.
    """
    root = logging.getLogger()
    handlers, level = _own_handlers(root), root.level
    alembic_level = logging.getLogger("alembic").level
    yield
    pytests = [handler for handler in root.handlers if handler not in _own_handlers(root)]
    root.handlers[:] = [*pytests, *handlers]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(alembic_level)
