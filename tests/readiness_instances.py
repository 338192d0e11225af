"""Offline app instances sharing a store or Redis, and readiness's history check polled on them.

Used where several instances must compare their history limits (``/readyz``'s
``checks.history_limits``), through Redis or through a shared PostgreSQL.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from moodtape.config import Settings
from moodtape.vision.pipeline import get_analyzer
from moodtape.web.app import create_app


def offline_instance(folder: Path, **settings: str) -> FlaskClient:
    """A test client for one instance: offline, its own data folder, the shared secret key."""
    values = {
        "MOODTAPE_DATA_DIR": str(folder),
        "MOODTAPE_OFFLINE": "true",
        "MOODTAPE_SECRET_KEY": "k" * 32,
        **settings,
    }
    app = create_app(Settings.load(overrides=values, environ={}, dotenv=None), analyzer=get_analyzer(None, None, 1))
    app.config["TESTING"] = True
    return app.test_client()


def history_check(client: FlaskClient, *, expected: bool = True) -> tuple[str, str]:
    """Readiness's status and history check, once the model has loaded and the store is set up
    (the first polls start both, and answer before they are done), and the check has answered
    when it is ``expected``; ``"(no check)"`` when readiness has none."""
    deadline = time.monotonic() + 20
    while True:
        ready = client.get("/readyz").get_json()
        checks = ready["checks"]
        settled = checks["model"] == checks["database"] == "ok" and ("history_limits" in checks or not expected)
        if settled or time.monotonic() > deadline:
            return ready["status"], checks.get("history_limits", "(no check)")
        time.sleep(0.2)
