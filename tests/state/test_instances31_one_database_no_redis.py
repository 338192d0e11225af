"""One-process instances on one PostgreSQL, without Redis, share a visit's lists through it.

Session 31's probe: two ``moodtape serve`` (one process each) on one PostgreSQL behind HAProxy,
no ``MOODTAPE_REDIS_URL``. Both said ``/readyz`` ``ready``; a list made on b was a 404 "no such
list" on a (2 of 4 reopenings), and 3 of 6 dislikes of its rows were 404s: each instance kept the
visit's short-lived state in its own memory. ``serve --processes N`` already kept it in the store's
``short_lived`` table; a PostgreSQL store (what several machines share) now does so with one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from moodtape.state.in_store import StoreSessionMemory
from moodtape.web.multiprocess import share_state
from readiness_instances import offline_instance


def _instance(folder: Path, database_url: str) -> tuple[Flask, str | None]:
    """One single-process instance as ``moodtape serve`` sets it up (its own data folder, the shared
    database), and what it says at start."""
    app: Flask = offline_instance(folder, MOODTAPE_DATABASE_URL=database_url).application
    services: Any = app.extensions["moodtape"]
    return app, share_state(app, services.settings, processes=1)


def _on(app: Flask, browser: FlaskClient) -> FlaskClient:
    """A client of ``app`` with ``browser``'s session cookie: the balancer sent the visit there."""
    client = app.test_client()
    cookie = browser.get_cookie("moodtape_session")
    assert cookie is not None
    client.set_cookie("moodtape_session", cookie.value)
    return client


def test_a_list_made_on_one_instance_is_reopened_disliked_and_undone_on_the_other(
    tmp_path: Path, postgres: str
) -> None:
    (first, note), (second, _) = _instance(tmp_path / "a", postgres), _instance(tmp_path / "b", postgres)
    browser = first.test_client()
    csrf = {"X-CSRF-Token": browser.get("/api/config").get_json()["csrf_token"]}
    shown = browser.post("/api/lists?emotion=happy&n=6&seed=4", headers=csrf).get_json()
    there = _on(second, browser)
    reopened = there.get(f"/api/lists/{shown['list_id']}")
    assert reopened.status_code == 200, reopened.get_json()  # a 404 "no such list" when kept in memory
    row = {"action": "dislike", "list": shown["list_id"], "position": 2, "item": shown["items"][2]["key"]}
    disliked = there.post("/api/feedback", json=row, headers=csrf)
    assert disliked.status_code == 200 and disliked.get_json()["replaced"] is True, disliked.get_json()
    assert browser.get(f"/api/lists/{shown['list_id']}").get_json()["undo"] == 1  # seen back on the first
    undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert [i["key"] for i in undone.get_json()["items"]] == [i["key"] for i in shown["items"]]
    assert isinstance(first.extensions["moodtape"].memory, StoreSessionMemory)
    assert note is not None and "rate-limit counters" in note and "MOODTAPE_REDIS_URL" in note, note


def test_a_sqlite_file_of_one_process_keeps_the_state_in_memory(tmp_path: Path) -> None:
    """A file is one machine's: one process there shares with nobody, and pays nothing for it."""
    app = offline_instance(tmp_path / "a").application
    services: Any = app.extensions["moodtape"]
    assert share_state(app, services.settings, processes=1) is None
    assert not isinstance(services.memory, StoreSessionMemory)
