""" "Delete everything" ends the session: the answer sends a new cookie and its CSRF token.

Before: ``DELETE /api/history?confirm=true`` emptied the session but kept its id, so whoever held
a copy of the cookie (a shared computer, a log line, an earlier copy) saw the lists, history and
calibration the person made afterwards. Checked with every place a session's state can live: this
process's memory, the store's short-lived table (SQLite, PostgreSQL) and Redis.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers

from moodtape.store import Store
from moodtape.web.multiprocess import share_state
from moodtape.web.session import COOKIE_NAME

BACKENDS = ("memory", "sqlite-shared", "redis", "postgresql-shared")


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    """The app with its session state in one of the places it can live (skips when a server is missing)."""
    if request.param == "memory":
        return make_app()
    if request.param == "redis":
        return make_app(MOODTAPE_REDIS_URL=request.getfixturevalue("redis_url"))
    built = (
        make_app(store=Store(request.getfixturevalue("postgres")))
        if request.param == "postgresql-shared"
        else make_app()
    )
    share_state(built, built.extensions["moodtape"].settings, processes=2)  # short-lived state in the store
    return built


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding ``cookie`` (a copy of it, replayed)."""
    other = app.test_client()
    other.set_cookie(COOKIE_NAME, cookie)
    return other


def _use(client: FlaskClient, csrf: dict[str, str], frame: bytes, emotion: str) -> str:
    """Keep history, make a list and calibrate: returns the list's id."""
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    made = client.post(f"/api/lists?emotion={emotion}&n=5", headers=csrf)
    assert made.status_code == 201, made.get_json()
    calibrated = client.post("/api/calibration?emotion=neutral", data=frame, content_type="image/jpeg", headers=csrf)
    assert calibrated.status_code == 200 and calibrated.get_json()["calibrated"] is True
    return str(made.get_json()["list_id"])


def _delete_everything(client: FlaskClient, csrf: dict[str, str]) -> dict[str, Any]:
    reply = client.delete("/api/history?confirm=true", headers=csrf)
    assert reply.status_code == 200, reply.get_json()
    body: dict[str, Any] = reply.get_json()
    return body


def test_the_old_cookie_sees_nothing_of_what_follows_a_deletion(app: Flask, frame_640: bytes) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    _use(browser, csrf, frame_640, "happy")
    old_cookie = _cookie(browser)

    answer = _delete_everything(browser, csrf)
    assert answer["deleted"] == 1
    assert _cookie(browser) != old_cookie, "the answer to Delete everything must send a new session cookie"
    assert "csrf_token" in answer and answer["csrf_token"] != csrf["X-CSRF-Token"]

    # The person goes on at once, with the token the answer gave (no reload).
    renewed = {"X-CSRF-Token": answer["csrf_token"]}
    after = _use(browser, renewed, frame_640, "sad")
    assert [entry["list_id"] for entry in browser.get("/api/history").get_json()["items"]] == [after]

    replayed = _with_cookie(app, old_cookie)
    assert replayed.get("/api/history").get_json() == {"items": [], "history": None}
    assert replayed.get(f"/api/lists/{after}").status_code == 404
    assert replayed.get(f"/api/export?list={after}&format=csv").status_code == 404
    status = replayed.get("/api/calibration").get_json()
    assert status["calibrated"] is False and status["examples"] == {}
    # Nor can the old token act for the new session: it went with the old one.
    assert browser.post("/api/lists?emotion=sad", headers=csrf).status_code == 403


def test_nothing_of_the_old_session_stays_in_any_store(app: Flask, frame_640: bytes) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640, "happy")
    old_id = _cookie(browser).split(".")[0]
    _delete_everything(browser, csrf)

    services = app.extensions["moodtape"]
    sessions = services.sessions()
    assert sessions.memory.get(old_id).lists == ()
    assert sessions.store.lists(old_id) == [] and sessions.store.consent(old_id) is None
    assert sessions.find_list(old_id, kept) is None
    left = services.profiles.get(old_id)
    assert left is None or (not left.tallies and left.profile is None), "only a removal count may stay"


def test_a_frame_taken_before_the_deletion_is_dropped_in_the_new_session(app: Flask, frame_640: bytes) -> None:
    """A calibration under way: its next frame goes out with the new cookie but the removal count
    it was taken under, and must not start a calibration in the new session."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    _use(browser, csrf, frame_640, "happy")
    answer = _delete_everything(browser, csrf)
    late = browser.post(
        "/api/calibration?emotion=neutral&removed=0",
        data=frame_640,
        content_type="image/jpeg",
        headers={"X-CSRF-Token": answer["csrf_token"]},
    )
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "calibration_removed"
    assert browser.get("/api/calibration").get_json() == {
        "calibrated": False,
        "examples": {},
        "expressions": False,
        "removed": 1,
    }
