"""Another tab of the session while "Delete everything" waits on a slow database.

The deletion marks the session ended first (web/retired.py), then deletes the history in one
transaction, then the rest. While the database is slow, a request of another tab with the same
cookie is in a new, empty session: the person asked for everything to be forgotten, so a read shows
nothing of what is going (not half of it) and a change is refused with the "Delete everything
ended" 403 that says to reload, whose page then takes the new session. That is kept (docs/store.md).

Before session 39 a second "Delete everything" from that tab was such a 403 too, with no token to
go on with; now it waits for the first deletion's turn and answers ``deleted: 0`` with a new
session whose token works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers

from moodtape.sessions import SessionService
from moodtape.web.multiprocess import share_state
from moodtape.web.session import COOKIE_NAME


@pytest.fixture(params=("memory", "sqlite-shared"))
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    built = make_app()
    if request.param == "sqlite-shared":
        share_state(built, built.extensions["moodtape"].settings, processes=2)
    return built


class SlowDatabase:
    """Holds the first ``SessionService.forget`` (the deletion's database work) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        original: Callable[..., Any] = SessionService.forget

        def held(service: SessionService, session: str) -> int:
            if not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(30), "never released"
            return int(original(service, session))

        monkeypatch.setattr(SessionService, "forget", held)


def _tab(app: Flask, cookie: str) -> FlaskClient:
    tab = app.test_client()
    tab.set_cookie(COOKIE_NAME, cookie)
    return tab


def test_another_tab_during_a_slow_deletion(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    first_tab = app.test_client()
    csrf = csrf_headers(first_tab)
    assert first_tab.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    assert first_tab.post("/api/lists?emotion=happy&n=4", headers=csrf).status_code == 201
    cookie = first_tab.get_cookie(COOKIE_NAME)
    assert cookie is not None
    other_tab = _tab(app, cookie.value)
    slow = SlowDatabase(monkeypatch)
    answers: dict[str, Any] = {}
    deleting = threading.Thread(
        target=lambda: answers.__setitem__("first", first_tab.delete("/api/history?confirm=true", headers=csrf)),
        daemon=True,
    )
    deleting.start()
    try:
        assert slow.entered.wait(30)
        # A read: the new, empty session, and no cookie (the deletion's answer sets the one to keep).
        read = other_tab.get("/api/history")
        assert read.status_code == 200 and read.get_json() == {"items": [], "history": None}
        assert "Set-Cookie" not in read.headers
        # A change: refused, saying why; nothing is written.
        change = other_tab.post("/api/lists?emotion=sad&n=4", headers=csrf)
        assert change.status_code == 403 and "Delete everything" in change.get_json()["error"]["message"]
        # The same deletion from this tab: waits for the first one's turn, then finds nothing left.
        again = threading.Thread(
            target=lambda: answers.__setitem__("again", other_tab.delete("/api/history?confirm=true", headers=csrf)),
            daemon=True,
        )
        again.start()
    finally:
        slow.release.set()
        deleting.join(30)
    again.join(30)
    assert answers["first"].status_code == 200 and answers["first"].get_json()["deleted"] == 1
    repeat = answers["again"]
    assert repeat.status_code == 200, repeat.get_json()
    assert repeat.get_json()["deleted"] == 0
    made = other_tab.post("/api/lists?emotion=sad&n=4", headers={"X-CSRF-Token": repeat.get_json()["csrf_token"]})
    assert made.status_code == 201, made.get_json()
