"""The Redis ACL rule docs/deployment.md gives is enough for everything moodtape does with Redis.

A user who locks moodtape's Redis user down to what it needs copies that rule; a command or key it
lacks would turn requests into 503s (or, for the rate limit, quietly count in each process).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import redis
from flask import Flask

from moodtape.config import Settings
from moodtape.vision.pipeline import get_analyzer
from moodtape.web.app import create_app
from redis_server import RedisServer, redis_of_its_own

DOCS = Path(__file__).parents[2] / "docs" / "deployment.md"
PASSWORD = "acl-test-pw-5520"


def documented_rule() -> list[str]:
    """The arguments of the ``ACL SETUSER moodtape …`` line in docs/deployment.md, password filled in."""
    found = re.search(r"^ACL SETUSER moodtape (.+)$", DOCS.read_text(), re.MULTILINE)
    assert found, "docs/deployment.md gives no ACL SETUSER moodtape line"
    return ["moodtape", *found.group(1).replace(">PASSWORD", f">{PASSWORD}").split()]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_of_its_own(tmp_path / "redis") as running:
        yield running


def _app(tmp_path: Path, url: str) -> Flask:
    values = {
        "MOODTAPE_DATA_DIR": str(tmp_path / "data"),
        "MOODTAPE_OFFLINE": "true",
        "MOODTAPE_REDIS_URL": url,
        "MOODTAPE_SECRET_KEY": "k" * 32,
    }
    app = create_app(Settings.load(overrides=values, environ={}, dotenv=None), analyzer=get_analyzer(None, None, 1))
    app.config["TESTING"] = True
    return app


def _frame(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[40:440, 120:520] = cv2.resize(astronaut_bgr, (400, 400))
    return bytes(cv2.imencode(".jpg", frame)[1].tobytes())


def test_the_documented_acl_lets_every_shared_state_request_through(
    server: RedisServer, tmp_path: Path, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    admin = redis.Redis(port=server.port)
    admin.execute_command("ACL", "SETUSER", *documented_rule())
    admin.acl_log_reset()
    client = _app(tmp_path, f"redis://moodtape:{PASSWORD}@127.0.0.1:{server.port}/1").test_client()
    token = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
    frame = _frame(astronaut_bgr)

    deadline = time.monotonic() + 20  # the first check also sets the store up: it may take over its 1 s
    while (ready := client.get("/readyz?strict=true")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready.status_code == 200, ready.get_json()
    shown = client.post("/api/lists?emotion=sad&n=3", headers=token)
    assert shown.status_code == 201, shown.get_json()
    list_id = shown.get_json()["list_id"]
    replies = [
        client.post("/api/feedback", json={"action": "dislike", "list": list_id, "position": 0}, headers=token),
        client.post(f"/api/lists/{list_id}/undo", headers=token),
        client.get(f"/api/export?list={list_id}&format=csv"),
        client.post("/api/calibration?emotion=happy", data=frame, content_type="image/jpeg", headers=token),
        client.get("/api/calibration"),
        client.post("/api/analyze?stream=cam", data=frame, content_type="image/jpeg"),
        client.delete("/api/calibration", headers=token),
        client.delete("/api/history?confirm=true", headers=token),
        client.get("/readyz?strict=true"),
    ]
    assert [reply.status_code for reply in replies] == [200] * len(replies), [r.get_data(as_text=True) for r in replies]
    refused = [(entry["reason"], entry["object"]) for entry in admin.acl_log()]
    assert refused == [], refused  # the rate limit's calls too: they fall back to counting in memory silently
    assert redis.Redis(port=server.port, db=1).keys("moodtape:limits:*"), "the rate limit counted in Redis"
