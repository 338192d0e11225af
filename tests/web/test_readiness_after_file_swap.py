"""``/readyz`` and the API when the SQLite file is replaced under a running instance, or its
schema version cannot be read (session-23 probe: the first went unnoticed, the second was a 500)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from webtools import AppFactory, csrf_headers

from moodtape.store import Store, migrate
from moodtape.store import database as database_module


def test_a_replaced_sqlite_file_takes_the_instance_out_of_rotation(make_app: AppFactory, tmp_path: Path) -> None:
    path = tmp_path / "moodtape.db"
    client = make_app(store=Store(f"sqlite:///{path}")).test_client()
    assert client.get("/readyz").status_code == 200
    Store(f"sqlite:///{tmp_path / 'restored.db'}").ping()
    os.replace(tmp_path / "restored.db", path)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["status"] == "not_ready"
    assert "database file was replaced" in ready.get_json()["checks"]["database"]
    refused = client.put("/api/history/consent", json={"history": True}, headers=csrf_headers(client))
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "store_not_set_up"


def test_a_version_that_cannot_be_read_is_a_503_for_requests(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.2)
    client = make_app(store=Store(f"sqlite:///{tmp_path / 'moodtape.db'}")).test_client()
    csrf = csrf_headers(client)
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200

    def malformed(_connection: object) -> str:
        raise KeyError("version_num")

    monkeypatch.setattr(migrate, "current_revision", malformed)
    time.sleep(0.25)
    for _ in range(2):
        answer = client.get("/api/history")
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "store_not_set_up"
    ready = client.get("/readyz")  # shared by every instance: degraded, naming it
    assert ready.status_code == 200 and "could not be read" in ready.get_json()["checks"]["database"]


def test_with_processes_and_no_redis_short_lived_state_is_refused_too(make_app: AppFactory, tmp_path: Path) -> None:
    """``serve --processes N`` without Redis keeps calibrations and the lists on screen in the same
    file (a second database object on the URL): after a swap those requests get the 503 too, as
    docs/store.md says. Before, that object, first used after the swap, set the swapped-in file up
    as its own (beside the old file's -wal) and a calibration request was answered 200."""
    from moodtape.web.multiprocess import share_state

    path = tmp_path / "moodtape.db"
    store = Store(f"sqlite:///{path}")
    app = make_app(store=store, MOODTAPE_DATABASE_URL=f"sqlite:///{path}")
    share_state(app, app.extensions["moodtape"].settings, processes=2)
    client = app.test_client()
    csrf = csrf_headers(client)
    state = app.extensions["moodtape"].state_database
    store.ping()  # the store set up first...
    assert not state._ready, "...the short-lived state's object not used yet"
    Store(f"sqlite:///{tmp_path / 'restored.db'}").ping()
    os.replace(tmp_path / "restored.db", path)
    calibration = client.get("/api/calibration")  # the short-lived state alone
    assert calibration.status_code == 503 and calibration.get_json()["error"]["code"] == "store_not_set_up"
    made = client.post("/api/lists?emotion=neutral&n=6", headers=csrf)
    assert made.status_code == 503 and made.get_json()["error"]["code"] == "store_not_set_up"
    assert "database file was replaced" in client.get("/readyz").get_json()["checks"]["database"]
