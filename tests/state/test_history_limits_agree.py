"""Instances that keep history differently are named by readiness.

``MOODTAPE_HISTORY_DAYS`` and ``MOODTAPE_HISTORY_MAX_LISTS`` act on every session whichever instance
it visits: the one with the shortest retention deletes everyone's older history at its next sweep,
the one with the lowest cap trims each session it writes for. Before, every instance said ``ready``.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from moodtape.state.instances import HISTORY_LIMITS_KEY, NOTED_FOR_S
from readiness_instances import history_check, offline_instance


def test_instances_with_other_history_limits_are_named_on_both_sides(tmp_path: Path, redis_url: str) -> None:
    month = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    assert history_check(month) == ("ready", "ok")  # alone so far
    same = offline_instance(
        tmp_path / "b", MOODTAPE_REDIS_URL=redis_url, MOODTAPE_HISTORY_DAYS="30.0", MOODTAPE_HISTORY_MAX_LISTS="50"
    )
    assert history_check(same) == ("ready", "ok")  # the defaults, written otherwise
    week = offline_instance(tmp_path / "c", MOODTAPE_REDIS_URL=redis_url, MOODTAPE_HISTORY_DAYS="7")
    status, said = history_check(week)
    assert status == "degraded" and "this one 7 days, 50 lists; others 30 days, 50 lists" in said, said
    status, said = history_check(month)
    assert status == "degraded" and "others 7 days, 50 lists" in said, said  # seen from both sides
    assert week.get("/readyz?strict=true").status_code == 503  # a monitor that should alert does


def test_a_lower_cap_alone_is_named_too(tmp_path: Path, redis_url: str) -> None:
    history_check(offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url))
    status, said = history_check(
        offline_instance(tmp_path / "b", MOODTAPE_REDIS_URL=redis_url, MOODTAPE_HISTORY_MAX_LISTS="10")
    )
    assert status == "degraded" and "30 days, 10 lists" in said and "MOODTAPE_HISTORY_MAX_LISTS" in said, said


def _history_check_until(client: FlaskClient, wanted: str) -> tuple[str, str]:
    """Readiness's status and history check once the check starts with ``wanted`` (or at a deadline)."""
    deadline = time.monotonic() + 20
    while True:
        status, said = history_check(client)
        if said.startswith(wanted) or time.monotonic() > deadline:
            return status, said
        time.sleep(0.2)


def test_another_instance_is_named_for_two_minutes_after_its_last_note_and_then_not(
    tmp_path: Path, redis_url: str
) -> None:
    """docs/deployment.md: "It clears two minutes after the last instance with other values stops"."""
    import redis

    month = offline_instance(tmp_path / "a", MOODTAPE_REDIS_URL=redis_url)
    assert history_check(month) == ("ready", "ok")
    admin = redis.Redis.from_url(redis_url)
    now = float(admin.time()[0])
    admin.zadd(HISTORY_LIMITS_KEY, {"7 days, 50 lists": now - 115})  # a week-keeping instance, 115 s silent
    status, said = _history_check_until(month, "the instances keep history differently")
    assert status == "degraded" and "others 7 days, 50 lists" in said, said
    admin.zadd(HISTORY_LIMITS_KEY, {"7 days, 50 lists": now - NOTED_FOR_S - 1})  # silent past two minutes
    assert _history_check_until(month, "ok") == ("ready", "ok")
