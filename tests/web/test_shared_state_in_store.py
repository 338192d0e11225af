"""Without Redis, ``serve --processes N`` shares session lists and calibrations through the store.

Two apps on one data folder stand for two gunicorn workers: a request of one session may reach
either (tests/web/test_multiprocess.py runs the real thing).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from webtools import AppFactory, csrf_headers, post_calibration, same_session

from moodtape.config import Settings
from moodtape.state.in_store import StoreProfileStore, StoreSessionMemory
from moodtape.web.multiprocess import share_state
from moodtape.web.profiles import MemoryProfileStore


def _worker(make_app: AppFactory, **values: str) -> Flask:
    app = make_app(**values)
    share_state(app, app.extensions["moodtape"].settings, processes=2)
    return app


def test_a_list_made_on_one_worker_is_undone_and_exported_on_the_other(make_app: AppFactory) -> None:
    first, second = _worker(make_app), _worker(make_app)
    browser = first.test_client()
    csrf = csrf_headers(browser)
    shown = browser.post("/api/lists?emotion=neutral&n=6&seed=2", headers=csrf).get_json()
    there = same_session(second, browser)
    disliked = there.post(
        "/api/feedback", json={"action": "dislike", "list": shown["list_id"], "position": 1}, headers=csrf
    )
    assert disliked.status_code == 200 and disliked.get_json()["list"]["undo"] == 1
    undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert undone.status_code == 200, undone.get_json()
    assert [i["title"] for i in undone.get_json()["items"]] == [i["title"] for i in shown["items"]]
    exported = there.get(f"/api/export?list={shown['list_id']}&format=m3u8")
    assert exported.status_code == 200 and shown["items"][0]["title"] in exported.get_data(as_text=True)


def test_a_calibration_made_on_one_worker_applies_on_the_other(make_app: AppFactory, frame_640: bytes) -> None:
    first, second = _worker(make_app), _worker(make_app)
    browser = first.test_client()
    csrf = csrf_headers(browser)
    assert post_calibration(browser, frame_640, "neutral", csrf)["calibrated"] is True
    there = same_session(second, browser)
    assert there.get("/api/calibration").get_json()["examples"] == {"neutral": 1}
    assert there.delete("/api/calibration", headers=csrf).get_json() == {"deleted": True, "removed": 1}
    assert browser.get("/api/calibration").get_json()["calibrated"] is False


def test_cookieless_visitors_write_no_short_lived_rows(make_app: AppFactory) -> None:
    app = _worker(make_app, MOODTAPE_RATE_LIMIT="1000000")
    services = app.extensions["moodtape"]
    for i in range(30):
        with app.test_client() as stranger:
            assert stranger.get(f"/api/recommendations?emotion=sad&n=12&seed={i}").status_code == 200
            assert stranger.get("/api/export?emotion=happy&n=5&format=m3u8").status_code == 200
            assert stranger.get("/api/calibration").status_code == 200
            assert stranger.post("/api/lists?emotion=sad").status_code == 403
    assert len(services.memory) == 0 and len(services.profiles) == 0


@pytest.mark.parametrize(
    ("processes", "redis_url", "shared"), [(2, "", True), (2, "redis://127.0.0.1:6379/0", False), (1, "", False)]
)
def test_only_several_processes_without_redis_use_the_store(
    make_app: AppFactory, processes: int, redis_url: str, shared: bool
) -> None:
    """Found by an outside probe: with --processes 2 an undo on another connection answered 404."""
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    services: Any = app.extensions["moodtape"]
    settings: Settings = services.settings
    note = share_state(app, settings, processes)
    assert isinstance(services.memory, StoreSessionMemory) == shared
    assert isinstance(services.profiles, StoreProfileStore) == shared
    if not shared and not redis_url:
        assert isinstance(services.profiles, MemoryProfileStore)
    assert (note is not None) == shared
    if note:
        assert "rate-limit" in note and "MOODTAPE_REDIS_URL" in note
