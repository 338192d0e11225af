""" "Delete everything" answered 503 has removed nothing: the calibration, the lists and the history stay.

Before session 38 the deletion removed the calibration, the webcam smoothing and the short-lived
lists (Redis, or this process) before the history (the database): with PostgreSQL stopped it was
answered 503 ``store_unavailable`` with the calibration already gone and the history kept. The
database's part goes first now; the shared state's first write (the marker that ends the session,
``web/retired.py``) comes before both, so a Redis that is away fails the deletion before either.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, post_calibration

from moodtape.errors import StoreUnavailableError
from moodtape.state.connection import SharedStateError
from moodtape.store import Store
from moodtape.web.session import COOKIE_NAME
from redis_server import redis_of_its_own
from services import PostgresServer, wait_until

#: Generous: the connection pool and Redis's circuit breaker take about a second to come back.
BACK_WITHIN_S = 15.0


def _use(client: FlaskClient, csrf: dict[str, str], frame: bytes) -> str:
    """Keep history, make a list and calibrate: returns the list's id."""
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    made = client.post("/api/lists?emotion=happy&n=5", headers=csrf)
    assert made.status_code == 201, made.get_json()
    assert post_calibration(client, frame, "neutral", csrf)["calibrated"] is True
    return str(made.get_json()["list_id"])


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def _refused(client: FlaskClient, csrf: dict[str, str], code: str) -> None:
    """ "Delete everything" answered the outage's 503, asking for a retry, with the session kept."""
    before = _cookie(client)
    reply = client.delete("/api/history?confirm=true", headers=csrf)
    assert reply.status_code == 503, reply.get_json()
    assert reply.get_json()["error"]["code"] == code
    assert reply.headers.get("Retry-After") == "1"
    assert _cookie(client) == before, "a refused deletion must not end the session"


def _all_there(client: FlaskClient, kept: str) -> None:
    """The session still has its history, its list and its calibration."""
    history = client.get("/api/history").get_json()
    assert history["history"] is True
    assert [entry["list_id"] for entry in history["items"]] == [kept]
    assert client.get(f"/api/lists/{kept}").status_code == 200
    calibration = client.get("/api/calibration").get_json()
    assert calibration["calibrated"] is True, "the calibration went while the deletion was refused"
    assert calibration["examples"] == {"neutral": 1}


def _answers(client: FlaskClient) -> Callable[[], bool]:
    """Whether the stores answer again (a history read that is not a 503)."""
    return lambda: client.get("/api/history").status_code == 200


def _deleted_for_good(app: Flask, client: FlaskClient, csrf: dict[str, str], kept: str, lists: int = 1) -> None:
    """The retry, with the same cookie and token, deletes everything (``lists`` of them) and ends the session."""
    old_cookie = _cookie(client)
    old_id = old_cookie.split(".")[0]
    again = client.delete("/api/history?confirm=true", headers=csrf)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["deleted"] == lists
    assert _cookie(client) != old_cookie
    services = app.extensions["moodtape"]
    sessions = services.sessions()
    assert sessions.store.lists(old_id) == [] and sessions.store.consent(old_id) is None
    assert sessions.find_list(old_id, kept) is None
    left = services.profiles.get(old_id)
    assert left is None or (not left.tallies and left.profile is None), "only a removal count may stay"


def _shared_state_away_at(app: Flask, monkeypatch: pytest.MonkeyPatch, nth: int) -> list[object]:
    """Make the ``nth`` calibration write (``ProfileStore.update``) fail as an unreachable Redis
    does, once; returns the writes seen so far (a list that grows as they come)."""
    profiles = app.extensions["moodtape"].profiles
    update = profiles.update
    calls: list[object] = []

    def away_at_nth(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == nth:
            monkeypatch.setattr(profiles, "update", update)
            raise SharedStateError("the shared state is not answering right now; try again in a moment")
        return update(*args, **kwargs)

    monkeypatch.setattr(profiles, "update", away_at_nth)
    return calls


def test_with_postgresql_stopped_nothing_is_deleted(
    make_app: AppFactory, make_postgres: Callable[[], PostgresServer], redis_url: str, frame_640: bytes
) -> None:
    """The deployment's shape: history in PostgreSQL, the calibration and short-lived lists in Redis.
    Before: 503, then the calibration was gone (``calibrated: false``) while the history was kept."""
    database = make_postgres()
    app = make_app(store=Store(database.create_database()), MOODTAPE_REDIS_URL=redis_url)
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640)

    database.stop()
    _refused(browser, csrf, "store_unavailable")
    database.start()
    assert wait_until(_answers(browser), BACK_WITHIN_S), "the history store never answered again"

    _all_there(browser, kept)
    _deleted_for_good(app, browser, csrf, kept)


def test_with_redis_stopped_nothing_is_deleted(
    make_app: AppFactory, postgres: str, tmp_path: Path, frame_640: bytes
) -> None:
    """Redis goes first, and alone: the marker that ends the session is the deletion's first write,
    so a Redis that does not answer (stopped with SIGSTOP, its data kept) fails it before the
    database is touched."""
    with redis_of_its_own(tmp_path / "redis") as redis:
        app = make_app(store=Store(postgres), MOODTAPE_REDIS_URL=redis.url)
        browser = app.test_client()
        csrf = csrf_headers(browser)
        kept = _use(browser, csrf, frame_640)
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            _refused(browser, csrf, "shared_state_unavailable")
            # Read from PostgreSQL, which answers: the history must still be there.
            kept_history = app.extensions["moodtape"].sessions().store.lists(_cookie(browser).split(".")[0])
            assert [saved.id for saved in kept_history] == [kept], "the history went with Redis away"
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        assert wait_until(_answers(browser), BACK_WITHIN_S), "Redis never answered again"
        # GET /api/history reads no Redis for a kept session: wait for the calibration too.
        assert wait_until(lambda: browser.get("/api/calibration").status_code == 200, BACK_WITHIN_S)

        _all_there(browser, kept)
        _deleted_for_good(app, browser, csrf, kept)


def test_the_single_process_default_deletes_nothing_when_its_sqlite_file_refuses(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, frame_640: bytes
) -> None:
    """SQLite and this process's memory: a write the file cannot take (another process holding its
    lock past the busy timeout) is the same 503, and the lists and calibration in memory stay."""
    app = make_app()
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640)
    store = app.extensions["moodtape"].sessions().store
    deleting = type(store).delete_session

    def locked(self: Store, session: str) -> Any:
        raise StoreUnavailableError("the history store is not answering right now; try again in a moment")

    monkeypatch.setattr(type(store), "delete_session", locked)
    _refused(browser, csrf, "store_unavailable")
    monkeypatch.setattr(type(store), "delete_session", deleting)

    _all_there(browser, kept)
    _deleted_for_good(app, browser, csrf, kept)


def test_a_failure_after_the_history_went_is_finished_by_the_retry(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, frame_640: bytes
) -> None:
    """Redis failing in the moment after the database's delete: 503, the session not ended, and the
    retry (same cookie, same token) removes the rest; the database's part finds nothing the second time."""
    app = make_app()
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640)
    _shared_state_away_at(app, monkeypatch, 1)
    _refused(browser, csrf, "shared_state_unavailable")
    assert browser.get("/api/history").get_json()["items"] == [], "the history went first"
    assert browser.get("/api/calibration").get_json()["calibrated"] is True

    _deleted_for_good(app, browser, csrf, kept, lists=0)  # they went with the first try


def test_a_new_session_that_could_not_start_leaves_the_retry_open(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, frame_640: bytes
) -> None:
    """Everything deleted, then the shared state fails as the new session is started (its removal
    count, ``carry_removals``): 503, and the retry with the same cookie and token ends the session.
    Before: the old session stayed ended, so the retry was refused (403) and no new session came."""
    app = make_app()
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640)
    # The first write removes the calibration, the second starts the new session.
    calls = _shared_state_away_at(app, monkeypatch, 2)
    _refused(browser, csrf, "shared_state_unavailable")
    assert len(calls) == 2, "the failure must come as the new session starts"
    assert browser.get("/api/calibration").get_json()["calibrated"] is False, "the deletion itself was done"

    _deleted_for_good(app, browser, csrf, kept, lists=0)
