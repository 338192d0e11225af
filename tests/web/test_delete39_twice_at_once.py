""" "Delete everything" sent twice at once, or again after its answer: one deletion, counted once.

Before session 39 two copies of ``DELETE /api/history?confirm=true`` sent at the same moment (a
double click, two tabs, a client retrying before the answer came) each read the session's lists
before either deleted them, and both answered ``deleted: 2`` for two lists. A copy that reached the
server once the first had ended the session was a 403 (``csrf_failed``: its cookie named an ended
session) that carried no new token, so an API client that lost the first answer had no session to
go on with. Now the copies take turns (``web/session_turns.py``): the second finds nothing left and
says ``deleted: 0``, and every answer carries a new session whose token works.

Checked where the session's state can live: this process's memory, the store's short-lived table
(SQLite; PostgreSQL when a server can be started) and Redis (when one can be started).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import STATE_BACKENDS, AppFactory, app_with_state_in, csrf_headers

from moodtape.web.session import COOKIE_NAME

#: How long the first copy waits at each step for the second to catch up. Without turns the second
#: comes within milliseconds; with them it never comes, and the first goes on after this wait.
MEET_S = 1.0


@pytest.fixture(params=STATE_BACKENDS)
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    """The app with its session state in one of the places it can live (skips when a server is missing)."""
    return app_with_state_in(request, make_app)


def _meeting(monkeypatch: pytest.MonkeyPatch, owner: object, method: str) -> None:
    """Make the first call of ``owner.method`` wait (at most :data:`MEET_S`) for a second call, so
    that two deletions without turns reach each step together, as two requests at one moment do."""
    original: Callable[..., Any] = getattr(owner, method)
    arrived = threading.Event()
    first = threading.Lock()

    def met(*args: Any, **kwargs: Any) -> Any:
        if first.acquire(blocking=False):
            arrived.wait(MEET_S)
        else:
            arrived.set()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, met)


@pytest.fixture
def threads() -> Iterator[list[threading.Thread]]:
    started: list[threading.Thread] = []
    yield started
    for thread in started:
        thread.join(30)


def _copy(app: Flask, cookie: str) -> FlaskClient:
    """A client holding ``cookie``: the same browser's second connection, or another tab."""
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, cookie)
    return client


def _cookie(client: FlaskClient) -> str:
    found = client.get_cookie(COOKIE_NAME)
    assert found is not None
    return found.value


def _two_lists_kept(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    for emotion in ("happy", "sad"):
        assert browser.post(f"/api/lists?emotion={emotion}&n=4", headers=csrf).status_code == 201
    return browser, csrf


def _goes_on(client: FlaskClient, token: str) -> None:
    """The client's next change works with the token its deletion's answer gave, in an empty session."""
    made = client.post("/api/lists?emotion=neutral&n=3", headers={"X-CSRF-Token": token})
    assert made.status_code == 201, made.get_json()
    assert [item["list_id"] for item in client.get("/api/history").get_json()["items"]] == [made.get_json()["list_id"]]


def test_two_deletions_at_once_count_the_lists_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch, threads: list[threading.Thread]
) -> None:
    """Before: ``[2, 2]`` (each copy counted both lists); now ``[0, 2]``, and each copy's client goes on."""
    browser, csrf = _two_lists_kept(app)
    old = _cookie(browser)
    services = app.extensions["moodtape"]
    _meeting(monkeypatch, services.retired, "retire")
    _meeting(monkeypatch, services.memory, "delete")
    copies = [_copy(app, old), _copy(app, old)]
    answers: dict[int, Any] = {}
    for index, copy in enumerate(copies):
        call = (lambda i, c: lambda: answers.__setitem__(i, c.delete("/api/history?confirm=true", headers=csrf)))(
            index, copy
        )
        threads.append(threading.Thread(target=call, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [answers[i].status_code for i in (0, 1)] == [200, 200], [answers[i].get_json() for i in (0, 1)]
    assert sorted(answers[i].get_json()["deleted"] for i in (0, 1)) == [0, 2]
    for index, copy in enumerate(copies):
        assert _cookie(copy) != old
        _goes_on(copy, answers[index].get_json()["csrf_token"])
    assert _copy(app, old).get("/api/history").get_json() == {"items": [], "history": None}


def test_a_deletion_sent_again_after_its_answer_finds_nothing_and_goes_on(app: Flask) -> None:
    """Before: 403 ``csrf_failed`` ("names a session that Delete everything ended") and no token."""
    browser, csrf = _two_lists_kept(app)
    old = _cookie(browser)
    first = browser.delete("/api/history?confirm=true", headers=csrf)
    assert first.status_code == 200 and first.get_json()["deleted"] == 2
    again = _copy(app, old)  # the answer was lost: the client still holds the old cookie and token
    repeat = again.delete("/api/history?confirm=true", headers=csrf)
    assert repeat.status_code == 200, repeat.get_json()
    assert repeat.get_json()["deleted"] == 0
    assert _cookie(again) not in (old, _cookie(browser))
    _goes_on(again, repeat.get_json()["csrf_token"])
    _goes_on(browser, first.get_json()["csrf_token"])


def test_an_ended_session_cookie_without_its_token_is_still_refused(app: Flask) -> None:
    """The repeat is taken only with the ended session's own token: a replayed cookie alone is a 403."""
    browser, csrf = _two_lists_kept(app)
    old = _cookie(browser)
    assert browser.delete("/api/history?confirm=true", headers=csrf).status_code == 200
    replay = _copy(app, old).delete("/api/history?confirm=true", headers={"X-CSRF-Token": "0" * 64})
    assert replay.status_code == 403
    assert "Delete everything" in replay.get_json()["error"]["message"]
