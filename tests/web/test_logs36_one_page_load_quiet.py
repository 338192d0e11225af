"""One person's page load writes no "Task queue depth" warning (session 36).

A browser opens up to 6 connections to one host, so loading the page (39 requests) queued up to 3
of them behind the default 4 request threads, and the server logged "Task queue depth is 1" with a
single user. A deeper queue than one browser can make is still written, then summed up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from waitress.task import ThreadedTaskDispatcher

from moodtape.web.logs import flood_loggers, quiet_floods

#: A browser's connections to one host: the deepest queue one person's page load can make.
BROWSER_CONNECTIONS = 6


@pytest.fixture
def summed_up() -> Iterator[logging.Logger]:
    """The waitress queue's logger with the filters ``moodtape serve`` puts on it; taken off after."""
    quiet_floods()
    (queue,) = [logger for logger in flood_loggers() if logger.name == "waitress.queue"]
    yield queue
    for logger in flood_loggers():
        for found in [f for f in logger.filters if hasattr(f, "close")]:
            found.close()
            logger.removeFilter(found)


def _queued(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]


def test_a_page_loads_burst_is_not_logged(summed_up: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = ThreadedTaskDispatcher()  # no threads: each task queues behind the last
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(BROWSER_CONNECTIONS):
            dispatcher.add_task(object())
    assert _queued(caplog) == []


def test_a_deeper_queue_is_still_written(summed_up: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = ThreadedTaskDispatcher()
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(BROWSER_CONNECTIONS + 1):
            dispatcher.add_task(object())
    (line,) = _queued(caplog)
    assert line.startswith("Task queue depth is 7 ")
