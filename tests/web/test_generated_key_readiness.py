"""Readiness names a generated secret key as such (web/ops.py).

With no MOODTAPE_SECRET_KEY set, each instance generated its own key into its data folder, and
``/readyz`` said "1 other MOODTAPE_SECRET_KEY(s) in use among the instances" on both: the operator
went looking for a setting nobody had made. It now says the key was generated because the setting
is unset here, and to set the same one on every instance; the JSON keeps its shape.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from webtools import AppFactory


def test_instances_that_generated_their_keys_are_told_to_set_one(
    make_app: AppFactory,
    redis_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("moodtape.web.ops._keys_logged", 0)  # logged once per change in a process
    clients = [
        make_app(MOODTAPE_REDIS_URL=redis_url, MOODTAPE_DATA_DIR=str(tmp_path / f"machine-{n}")).test_client()
        for n in range(2)
    ]
    clients[0].get("/readyz")  # notes the first machine's key
    with caplog.at_level(logging.ERROR, logger="moodtape.web.ops"):
        for client in reversed(clients):  # one against one: neither can tell whose key is right
            ready = client.get("/readyz")
            body = ready.get_json()
            assert ready.status_code == 200 and body["status"] == "degraded"
            said = body["checks"]["secret_key"]
            assert isinstance(said, str)
            assert "MOODTAPE_SECRET_KEY is unset on this instance" in said and "generated" in said, said
            assert "1 other key(s)" in said and "set the same MOODTAPE_SECRET_KEY on every instance" in said
            assert "other MOODTAPE_SECRET_KEY(s)" not in said and "FALLBACKS" not in said
    logged = [r.getMessage() for r in caplog.records if "keys that disagree" in r.getMessage()]
    assert logged and all("MOODTAPE_SECRET_KEY is unset on this instance" in line for line in logged), logged
