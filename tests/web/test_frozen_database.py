"""A real PostgreSQL 15 behind a TCP relay that freezes: ``/readyz`` stays within its bound, and a
frozen database holds at most half the request threads (tests/tcp_relay.py says what "frozen" is).

A cluster probe found: database host gone, ``/readyz`` 5.1 s; database frozen, ``/readyz`` never
answered; both beyond HAProxy's 3 s check timeout, so every instance was marked down at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask
from webtools import AppFactory, running_server

from moodtape.store import Store
from moodtape.web.ops import CHECK_WITHIN_S
from services import PostgresServer
from tcp_relay import TcpRelay

IN_TIME_S = CHECK_WITHIN_S + 0.8


@pytest.fixture
def relay(postgres_server: PostgresServer) -> Iterator[TcpRelay]:
    with TcpRelay(postgres_server.port) as relay:
        yield relay


@pytest.fixture
def relayed_url(postgres_server: PostgresServer, relay: TcpRelay) -> str:
    url = postgres_server.create_database()
    return url.replace(f":{postgres_server.port}/", f":{relay.port}/")


def _working_app(make_app: AppFactory, url: str, **settings: str) -> Flask:
    """An app whose store is migrated and holds a pooled connection: ``ready``. On a loaded machine
    (the whole suite on 2 cores) the first poll's migration can outlast the check's bound, and that
    poll says ``degraded``; the next ones find the store ready."""
    app = make_app(store=Store(url), **settings)
    client = app.test_client()
    deadline = time.monotonic() + 20
    while (status := client.get("/readyz").get_json()["status"]) != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status == "ready"
    return app


def _readyz(app: Flask) -> tuple[dict[str, object] | None, float]:
    replies: list[dict[str, object]] = []
    started = time.monotonic()

    def get() -> None:
        reply = app.test_client().get("/readyz")
        assert reply.status_code == 200
        replies.append(reply.get_json())

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(8)
    return (replies[0] if replies else None), time.monotonic() - started


@pytest.mark.parametrize("how", ["frozen", "host gone"])
def test_readyz_answers_within_its_bound_while_the_database_does_not(
    make_app: AppFactory, relay: TcpRelay, relayed_url: str, how: str
) -> None:
    app = _working_app(make_app, relayed_url)
    if how == "host gone":
        relay.cut()  # pooled connections break at once; new ones get no answer (libpq waits 5 s)
    relay.freeze()
    try:
        for _ in range(3):
            body, took = _readyz(app)
            assert body is not None, "/readyz did not answer within 8 s"
            assert took < IN_TIME_S, f"/readyz took {took:.1f} s; HAProxy's check timeout is 3 s"
            assert body["status"] == "degraded"
            time.sleep(0.3)
    finally:
        relay.thaw()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the database answers again: the instance is ready again
        body, _ = _readyz(app)
        if body is not None and body["status"] == "ready":
            break
        time.sleep(0.2)
    assert body is not None and body["status"] == "ready", body


def test_a_frozen_database_leaves_request_threads_for_everything_else(
    make_app: AppFactory, relay: TcpRelay, relayed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe's four ``GET /api/history`` held all four threads; /healthz timed out."""
    monkeypatch.setattr("moodtape.store.database.STORE_WAIT_S", 1.0)  # refusals within the test's bounds
    app = _working_app(make_app, relayed_url, MOODTAPE_WORKERS="4")
    with running_server(app, threads=4) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/config")
        assert client.get("/api/history").status_code == 200
        answers: list[tuple[int, float]] = []

        def history() -> None:
            started = time.monotonic()
            reply = httpx.get(f"{base}/api/history", cookies=client.cookies, timeout=30)
            answers.append((reply.status_code, time.monotonic() - started))

        relay.freeze()
        try:
            waiting = [threading.Thread(target=history, daemon=True) for _ in range(4)]
            for thread in waiting:
                thread.start()
            time.sleep(0.5)
            for path in ("/healthz", "/api/config"):
                started = time.monotonic()
                try:
                    reply = httpx.get(f"{base}{path}", timeout=4)
                except httpx.TimeoutException:
                    pytest.fail(f"{path} got no answer within 4 s while the database is frozen")
                assert reply.status_code == 200 and time.monotonic() - started < 2.5, path
            deadline = time.monotonic() + 4
            while len(answers) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = [took for status, took in answers if status == 503]
            assert len(refused) >= 2 and all(took < 2.5 for took in refused), answers
        finally:
            relay.thaw()
        for thread in waiting:
            thread.join(15)
        assert len(answers) == 4 and client.get("/api/history").status_code == 200, answers
