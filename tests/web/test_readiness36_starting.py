"""An instance's first readiness check builds the recommender (catalog, store), which takes a second
or two at each start: that check said, and logged, "the history store did not answer within 1 s",
on every instance of a rolling restart, while PostgreSQL was fine (a probe of session 36). It now
says the instance is starting, logs nothing, and names a database that still hangs after
``OPENING_GRACE_S`` as before.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from flask import Flask
from webtools import AppFactory

from moodtape.recommender import api as recommender_api
from moodtape.web import ops

LATE = "the history store did not answer within 1 s"
STARTING = "the history store is being opened: this instance is starting"


def _starting_app(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, release: threading.Event) -> Flask:
    """An app whose recommender is not built yet and whose build waits for ``release``."""
    app = make_app()
    built = app.extensions["moodtape"].recommender()
    app.extensions["moodtape"]._recommender = None  # as at a start: built on first use

    def slow_build(*_args: Any, **_kwargs: Any) -> Any:  # (settings, catalog_file, pauses=)
        release.wait(30)
        return built

    monkeypatch.setattr(recommender_api, "build_recommender", slow_build)
    return app


def test_a_starting_instance_says_it_is_starting_not_that_the_database_is_late(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, release: threading.Event
) -> None:
    app = _starting_app(make_app, monkeypatch, release)
    caplog.set_level(logging.WARNING, logger="moodtape.web")
    reply = app.test_client().get("/readyz")
    assert reply.get_json() == {"status": "degraded", "checks": {"model": "ok", "database": STARTING}}
    assert LATE not in caplog.text


def test_a_database_that_hangs_at_start_is_named_after_the_grace(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, release: threading.Event
) -> None:
    app = _starting_app(make_app, monkeypatch, release)
    monkeypatch.setattr(ops, "OPENING_GRACE_S", 0.0, raising=False)  # a guard: this held before too
    caplog.set_level(logging.WARNING, logger="moodtape.web")
    reply = app.test_client().get("/readyz")
    assert reply.get_json()["checks"]["database"] == LATE
    assert caplog.text.count(LATE) == 1
