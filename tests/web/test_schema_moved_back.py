"""An instance whose database was restored to an older schema under it leaves the balancer, and
leaves the restored schema as it is.

Found in review: a newer instance still running when the operator restored a backup to roll an
upgrade back migrated the database forward again within 5 s, under traffic, undoing the rollback.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from webtools import AppFactory

from moodtape.store import Store
from moodtape.store import database as database_module


def test_a_schema_moved_back_takes_the_running_instance_out_of_rotation(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SCHEMA_RECHECK_S", 0.3)
    path = tmp_path / "shared.db"
    client = make_app(store=Store(f"sqlite:///{path}")).test_client()
    assert client.get("/readyz").status_code == 200
    with sqlite3.connect(path) as connection:  # restored from the backup taken before 0004
        connection.execute("DROP TABLE write_budget")
        connection.execute("UPDATE alembic_version SET version_num = '0003'")
    time.sleep(0.4)
    ready = client.get("/readyz")
    assert ready.status_code == 503, "the balancer should send this instance's share to the others"
    body = ready.get_json()
    assert body["status"] == "not_ready"
    assert "moved back to version 0003" in body["checks"]["database"]
    csrf = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
    refused = client.put("/api/history/consent", json={"history": True}, headers=csrf)
    assert refused.status_code == 503 and refused.get_json()["error"]["code"] == "store_not_set_up"
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [("0003",)]
