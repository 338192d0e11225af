"""``/readyz`` answers within about a second whatever the database or Redis does; a schema newer than
this instance takes it out of rotation; a stuck store cannot hold every request thread.

Found by a cluster probe (two instances behind HAProxy): a database host that was gone made
``/readyz`` take 5.1 s (libpq's connect timeout) and a frozen one never answered, longer than the
balancer's check timeout (3 s), so HAProxy marked every instance down and the whole site answered
503, photo analysis included. These tests need no PostgreSQL (the store is made to hang in-process);
tests/web/test_frozen_database.py does the same through a frozen TCP relay in front of a real one.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from webtools import AppFactory, running_server

from moodtape.store import Store, migrate
from moodtape.store import database as database_module
from moodtape.web.ops import CHECK_WITHIN_S

#: An answer later than this is a failure: the bound plus room for a loaded test machine.
IN_TIME_S = CHECK_WITHIN_S + 0.8


def _get(app: Flask, path: str, limit: float = 4.0) -> tuple[Any, float]:
    """``GET path`` in a thread; its reply (None when none came within ``limit``) and the seconds it took."""
    replies: list[Any] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: replies.append(app.test_client().get(path)), daemon=True)
    thread.start()
    thread.join(limit)
    return (replies[0] if replies else None), time.monotonic() - started


def test_readyz_answers_in_time_while_the_store_hangs_and_checks_it_once(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    store = app.extensions["moodtape"].recommender().store
    release = threading.Event()
    calls: list[int] = []

    def hangs() -> None:
        calls.append(1)
        release.wait(30)

    monkeypatch.setattr(store, "ping", hangs)
    caplog.set_level(logging.WARNING, logger="moodtape.web")
    try:
        for _ in range(3):
            reply, took = _get(app, "/readyz")
            assert reply is not None, "/readyz did not answer within 4 s"
            assert took < IN_TIME_S, f"/readyz took {took:.1f} s"
            assert reply.status_code == 200, "a shared store that hangs keeps the instance in rotation"
            assert reply.get_json() == {
                "status": "degraded",
                "checks": {"model": "ok", "database": "the history store did not answer within 1 s"},
            }
        strict, took = _get(app, "/readyz?strict=true")
        assert strict is not None and strict.status_code == 503 and took < IN_TIME_S
        assert calls == [1], "one check in flight, not one more per poll"
        assert caplog.text.count("the history store did not answer within 1 s") == 1, "logged once per stuck check"
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the stuck check ends; the next poll checks afresh
        reply, _ = _get(app, "/readyz")
        if reply is not None and reply.get_json()["status"] == "ready":
            break
        time.sleep(0.05)
    assert reply.get_json() == {"status": "ready", "checks": {"model": "ok", "database": "ok"}}
    # That answer may be the stuck check's own, ending; the poll after it checks afresh.
    _get(app, "/readyz")
    assert len(calls) >= 2


def test_readyz_answers_in_time_while_redis_hangs(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, release: threading.Event
) -> None:
    """A Redis that accepts connections and says nothing: the same bound, the database still checked."""
    from moodtape.state import connection

    app = make_app()
    monkeypatch.setattr(connection, "ping", lambda _client: release.wait(30))
    # Only /readyz reads it after start; the ping above stands in for its calls (nothing listens there).
    app.extensions["moodtape"].redis = connection.connect("redis://127.0.0.1:1/0")
    reply, took = _get(app, "/readyz")
    assert reply is not None and took < IN_TIME_S, f"/readyz took {took:.1f} s"
    assert reply.status_code == 200
    # Worded as the ping's own timeout and the breaker's 503 (before: "Redis did not answer within 1 s").
    silent = "the shared state (Redis at 127.0.0.1:1) did not answer within 1 s; retry in a few seconds, and check"
    assert reply.get_json() == {
        "status": "degraded",
        "checks": {"model": "ok", "database": "ok", "redis": f"{silent} MOODTAPE_REDIS_URL if it lasts"},
    }


def test_a_schema_newer_than_this_instance_takes_it_out_of_rotation_and_is_not_retried_per_poll(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster probe: an instance older than the schema answered 200 degraded, so HAProxy kept
    sending it its share, and every one that needed the store failed with 503 store_not_set_up while
    the other instance worked; and each poll re-ran the migration attempt under the advisory lock."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).lists("s")  # migrated by this version
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    attempts: list[int] = []
    real_upgrade = migrate.upgrade

    def counted(*args: Any, **kwargs: Any) -> None:
        attempts.append(1)
        real_upgrade(*args, **kwargs)

    monkeypatch.setattr(migrate, "upgrade", counted)
    client = make_app(store=Store(url)).test_client()
    for _ in range(5):
        ready = client.get("/readyz")
        assert ready.status_code == 503, "the balancer should send this instance's share to the others"
        body = ready.get_json()
        assert body["status"] == "not_ready"
        assert "version 0099_from_the_future" in body["checks"]["database"]
        assert "a newer moodtape migrated it" in body["checks"]["database"]
    csrf = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
    refused = client.put("/api/history/consent", json={"history": True}, headers=csrf)
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "store_not_set_up"
    assert len(attempts) == 1, (
        f"the migration was attempted {len(attempts)} times, not once per {database_module.SETUP_RETRY_S:g} s"
    )


def test_a_store_that_is_down_keeps_the_instance_in_rotation(make_app: AppFactory) -> None:
    """The contrast: an outage is every instance's, so readiness stays 200 (degraded), at once."""
    from services import free_port

    app = make_app(store=Store(f"postgresql://u@127.0.0.1:{free_port()}/none"))
    reply, took = _get(app, "/readyz")
    assert reply is not None and reply.status_code == 200 and took < IN_TIME_S
    assert reply.get_json()["status"] == "degraded"
    assert (
        reply.get_json()["checks"]["database"] == "the history store is not answering right now; try again in a moment"
    )


@contextmanager
def _store_hangs(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every transaction that begins from now on hangs until the event is set (a frozen database)."""
    release = threading.Event()
    real_begin = database_module.Database._begin

    @contextmanager
    def hanging(self: database_module.Database, write: bool) -> Iterator[Any]:
        release.wait(30)
        with real_begin(self, write) as connection:
            yield connection

    monkeypatch.setattr(database_module.Database, "_begin", hanging)
    try:
        yield release
    finally:
        release.set()


def test_a_hanging_store_holds_at_most_half_the_request_threads(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster probe: with the database frozen, four history requests held all four request
    threads, and /healthz and /api/config on that instance timed out."""
    monkeypatch.setattr("moodtape.store.database.STORE_WAIT_S", 1.0)  # refusals within the test's bounds
    app = make_app(MOODTAPE_WORKERS="4")
    with running_server(app, threads=4) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/config")  # the session cookie
        assert client.get("/api/history").status_code == 200  # migrated, working
        answers: list[tuple[int, float]] = []
        with _store_hangs(monkeypatch) as release:

            def history() -> None:
                started = time.monotonic()
                reply = httpx.get(f"{base}/api/history", cookies=client.cookies, timeout=30)
                answers.append((reply.status_code, time.monotonic() - started))
                if reply.status_code == 503:
                    error = reply.json()["error"]
                    assert error["code"] == "store_unavailable" and "try again" in error["message"]
                    assert reply.headers["Retry-After"] == "1"

            waiting = [threading.Thread(target=history, daemon=True) for _ in range(4)]
            for thread in waiting:
                thread.start()
            time.sleep(0.3)
            for path in ("/healthz", "/api/config", "/readyz"):
                started = time.monotonic()
                try:
                    reply = httpx.get(f"{base}{path}", timeout=4)
                except httpx.TimeoutException:
                    pytest.fail(f"{path} got no answer within 4 s while the store hangs")
                assert time.monotonic() - started < 2.5, path
                assert reply.status_code == 200, (path, reply.text)
            deadline = time.monotonic() + 5
            while len(answers) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert sorted(status for status, _ in answers) == [503, 503], "two held, the two others refused"
            assert all(took < 2.5 for _, took in answers)
            release.set()
            for thread in waiting:
                thread.join(10)
        assert sorted(status for status, _ in answers) == [200, 200, 503, 503], "the held ones finish once it answers"
