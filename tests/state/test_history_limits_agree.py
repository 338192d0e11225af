"""Instances that keep history differently are named by readiness.

``MOODTAPE_HISTORY_DAYS`` and ``MOODTAPE_HISTORY_MAX_LISTS`` act on every session whichever instance
it visits: the one with the shortest retention deletes everyone's older history at its next sweep,
the one with the lowest cap trims each session it writes for. Before, every instance said ``ready``.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from moodtape.config import Settings
from moodtape.state.instances import HISTORY_LIMITS_KEY, NOTED_FOR_S
from moodtape.vision.pipeline import get_analyzer
from moodtape.web.app import create_app


def _instance(folder: Path, redis_url: str, **history: str) -> FlaskClient:
    values = {
        "MOODTAPE_DATA_DIR": str(folder),
        "MOODTAPE_OFFLINE": "true",
        "MOODTAPE_REDIS_URL": redis_url,
        "MOODTAPE_SECRET_KEY": "k" * 32,
        **history,
    }
    app = create_app(Settings.load(overrides=values, environ={}, dotenv=None), analyzer=get_analyzer(None, None, 1))
    app.config["TESTING"] = True
    return app.test_client()


def _history_check(client: FlaskClient) -> tuple[str, str]:
    """Readiness's status and its history check, once the model has loaded and the store is set up
    (the first polls start both, and answer before they are done)."""
    deadline = time.monotonic() + 20
    while True:
        ready = client.get("/readyz").get_json()
        settled = "history_limits" in ready["checks"] and ready["checks"]["database"] == "ok"
        if settled or time.monotonic() > deadline:
            return ready["status"], ready["checks"].get("history_limits", "")
        time.sleep(0.2)


def test_instances_with_other_history_limits_are_named_on_both_sides(tmp_path: Path, redis_url: str) -> None:
    month = _instance(tmp_path / "a", redis_url)
    assert _history_check(month) == ("ready", "ok")  # alone so far
    same = _instance(tmp_path / "b", redis_url, MOODTAPE_HISTORY_DAYS="30.0", MOODTAPE_HISTORY_MAX_LISTS="50")
    assert _history_check(same) == ("ready", "ok")  # the defaults, written otherwise
    week = _instance(tmp_path / "c", redis_url, MOODTAPE_HISTORY_DAYS="7")
    status, said = _history_check(week)
    assert status == "degraded" and "this one 7 days, 50 lists; others 30 days, 50 lists" in said, said
    status, said = _history_check(month)
    assert status == "degraded" and "others 7 days, 50 lists" in said, said  # seen from both sides
    assert week.get("/readyz?strict=true").status_code == 503  # a monitor that should alert does


def test_a_lower_cap_alone_is_named_too(tmp_path: Path, redis_url: str) -> None:
    _history_check(_instance(tmp_path / "a", redis_url))
    status, said = _history_check(_instance(tmp_path / "b", redis_url, MOODTAPE_HISTORY_MAX_LISTS="10"))
    assert status == "degraded" and "30 days, 10 lists" in said and "MOODTAPE_HISTORY_MAX_LISTS" in said, said


def _history_check_until(client: FlaskClient, wanted: str) -> tuple[str, str]:
    """Readiness's status and history check once the check starts with ``wanted`` (or at a deadline)."""
    deadline = time.monotonic() + 20
    while True:
        status, said = _history_check(client)
        if said.startswith(wanted) or time.monotonic() > deadline:
            return status, said
        time.sleep(0.2)


def test_another_instance_is_named_for_two_minutes_after_its_last_note_and_then_not(
    tmp_path: Path, redis_url: str
) -> None:
    """docs/deployment.md: "It clears two minutes after the last instance with other values stops"."""
    import redis

    month = _instance(tmp_path / "a", redis_url)
    assert _history_check(month) == ("ready", "ok")
    admin = redis.Redis.from_url(redis_url)
    now = float(admin.time()[0])
    admin.zadd(HISTORY_LIMITS_KEY, {"7 days, 50 lists": now - 115})  # a week-keeping instance, 115 s silent
    status, said = _history_check_until(month, "the instances keep history differently")
    assert status == "degraded" and "others 7 days, 50 lists" in said, said
    admin.zadd(HISTORY_LIMITS_KEY, {"7 days, 50 lists": now - NOTED_FOR_S - 1})  # silent past two minutes
    assert _history_check_until(month, "ok") == ("ready", "ok")
