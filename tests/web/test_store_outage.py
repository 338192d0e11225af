"""The web app on a real PostgreSQL 15: the same behaviour, clear 503s while it restarts, then recovery."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from webtools import AppFactory

from moodtape.store import Store
from services import PostgresServer


def _client(make_app: AppFactory, url: str) -> tuple[FlaskClient, dict[str, str]]:
    app = make_app(store=Store(url))
    client = app.test_client()
    return client, {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}


def test_history_and_saved_lists_on_postgresql(make_app: AppFactory, postgres: str) -> None:
    client, csrf = _client(make_app, postgres)
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    shown = client.post("/api/lists?emotion=sad&n=4", headers=csrf).get_json()
    reply = client.post(
        "/api/feedback", json={"action": "dislike", "list": shown["list_id"], "position": 1}, headers=csrf
    )
    changed = reply.get_json()["list"]
    # A second app on the same database (another instance) sees the list as changed.
    other, _ = _client(make_app, postgres)
    other.set_cookie("moodtape_session", client.get_cookie("moodtape_session").value)  # type: ignore[union-attr]
    assert other.get(f"/api/lists/{shown['list_id']}").get_json()["items"] == changed["items"]
    assert [entry["kept"] for entry in other.get("/api/history").get_json()["items"]] == [True]


def test_restarting_postgresql_mid_run_gives_503s_then_recovers(
    make_app: AppFactory, make_postgres: Callable[[], PostgresServer]
) -> None:
    server = make_postgres()
    client, csrf = _client(make_app, server.create_database())
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    first = client.post("/api/lists?emotion=sad&n=3", headers=csrf).get_json()
    server.stop()
    for method, path in (
        ("GET", "/api/history"),
        ("GET", "/api/history/consent"),
        ("POST", "/api/lists?emotion=happy&n=3"),
        ("PUT", "/api/history/consent"),
    ):
        reply = client.open(path, method=method, headers=csrf, json={"history": True})
        assert reply.status_code == 503, (method, path, reply.get_data(as_text=True))
        error = reply.get_json()["error"]
        assert error["code"] == "store_unavailable" and "try again" in error["message"]
        assert "Traceback" not in reply.get_data(as_text=True) and "127.0.0.1" not in error["message"]
    assert client.get("/healthz").status_code == 200, "the app itself stays up"
    server.start()
    history = client.get("/api/history")
    assert history.status_code == 200 and [e["list_id"] for e in history.get_json()["items"]] == [first["list_id"]]
    assert client.post("/api/lists?emotion=happy&n=3", headers=csrf).status_code == 201


def test_a_client_without_a_cookie_gets_lists_while_the_database_is_down(make_app: AppFactory) -> None:
    """Nothing to read or keep for a new visitor, so the store's outage does not reach them."""
    from services import free_port

    app = make_app(store=Store(f"postgresql://u@127.0.0.1:{free_port()}/none"))
    for path in ("/api/recommendations?emotion=sad&n=3", "/api/export?emotion=sad&n=3&format=csv"):
        with app.test_client() as visitor:
            assert visitor.get(path).status_code == 200
    with app.test_client() as visitor:
        assert visitor.get("/api/history").status_code == 503, "what needs the store says so"


def test_a_database_migrated_by_a_newer_moodtape_is_a_clear_503_not_a_500(make_app: AppFactory, tmp_path: Path) -> None:
    """A rollback after an upgrade: Alembic refused with a traceback, and every request that needed
    the store was a 500 while readiness said "failing (CommandError)"."""
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).lists("s")  # migrated by this version
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    client, csrf = _client(make_app, url)
    reply = client.put("/api/history/consent", json={"history": True}, headers=csrf)
    assert reply.status_code == 503 and reply.get_json()["error"]["code"] == "store_not_set_up"
    assert "a newer moodtape migrated it" in reply.get_json()["error"]["message"]
    ready = client.get("/readyz")  # this instance's own problem: out of rotation (test_readiness_bounds.py)
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "not_ready" and "version 0099" in ready.get_json()["checks"]["database"]
