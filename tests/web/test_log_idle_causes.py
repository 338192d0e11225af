"""Causes told apart by :class:`~moodtape.web.logs.OncePerCause` make room once they are idle.

Before: a cause stayed remembered until a line ended the whole failure, and Redis's refusals have
no such line, so after 8 causes met once each over a process's life (days apart), every new cause
(a wrong password, say) was filed under "other causes": its line never showed, only a count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from moodtape.web.logs import OncePerCause

LOGGER = "moodtape.tests.idle_causes"
SECONDS = 0.05


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    found = logging.getLogger(LOGGER)
    summed = OncePerCause(
        "%(cause)s, and %(count)d more",
        cause=logging.LogRecord.getMessage,
        ends=lambda _: False,
        seconds=SECONDS,
        causes=2,
    )
    found.addFilter(summed)
    yield found
    summed.close()
    found.removeFilter(summed)


def _written(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage().split(" (more like this")[0] for record in caplog.records if record.name == LOGGER]


def test_a_new_cause_gets_its_own_line_once_the_old_ones_are_idle(
    logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    logger.warning("cause a")
    logger.warning("cause b")
    time.sleep(8 * SECONDS)  # their timers ran with nothing held back: both runs are over
    logger.warning("cause c")
    logger.warning("cause d")
    assert _written(caplog) == ["cause a", "cause b", "cause c", "cause d"]


def test_while_the_causes_are_under_way_a_new_one_is_counted_with_the_others(
    logger: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    logger.warning("cause a")
    logger.warning("cause b")
    logger.warning("cause c")  # the first of "other causes": written
    logger.warning("cause d")  # held back, counted under "other causes"
    assert _written(caplog) == ["cause a", "cause b", "cause c"]
    time.sleep(8 * SECONDS)
    assert "other causes, and 1 more" in _written(caplog)
