"""Rotating MOODTAPE_SECRET_KEY machine by machine: old cookies and tokens still accepted, nothing lost."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, same_session

from moodtape.config import Settings

OLD, NEW, STRANGER = "o" * 40, "n" * 40, "s" * 40


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("moodtape_session")
    assert cookie is not None
    return cookie.value


def _history_ids(client: FlaskClient) -> list[str]:
    return [entry["list_id"] for entry in client.get("/api/history").get_json()["items"]]


def test_a_visit_begun_under_the_old_key_keeps_its_history_and_token(make_app: AppFactory) -> None:
    before = make_app(MOODTAPE_SECRET_KEY=OLD).test_client()
    token = csrf_headers(before)
    assert before.put("/api/history/consent", json={"history": True}, headers=token).status_code == 200
    saved = before.post("/api/lists?emotion=sad&n=4", headers=token).get_json()["list_id"]

    rotated = make_app(MOODTAPE_SECRET_KEY=NEW, MOODTAPE_SECRET_KEY_FALLBACKS=f" {STRANGER[:8]}x , {OLD} ")
    after = same_session(rotated, before)
    assert _history_ids(after) == [saved]  # the same session, found by the new machine
    # The page still holds the token it was given under the old key: its changes go through.
    assert after.post("/api/lists?emotion=happy&n=4", headers=token).status_code == 201
    # The cookie was signed again with the new key, and the session id kept.
    resigned = _cookie(after)
    assert resigned != _cookie(before) and resigned.partition(".")[0] == _cookie(before).partition(".")[0]
    assert after.get("/api/config").headers.get("Set-Cookie") is None  # once, not on every request
    # The old key can now go: the re-signed visit still holds.
    done = same_session(make_app(MOODTAPE_SECRET_KEY=NEW), after)
    assert len(_history_ids(done)) == 2
    assert csrf_headers(done) != token  # new tokens come from the new key


def test_a_key_that_is_not_a_fallback_still_starts_afresh(make_app: AppFactory) -> None:
    before = make_app(MOODTAPE_SECRET_KEY=STRANGER).test_client()
    token = csrf_headers(before)
    before.put("/api/history/consent", json={"history": True}, headers=token)
    before.post("/api/lists?emotion=sad&n=4", headers=token)
    elsewhere = same_session(make_app(MOODTAPE_SECRET_KEY=NEW, MOODTAPE_SECRET_KEY_FALLBACKS=OLD), before)
    assert _history_ids(elsewhere) == []
    assert _cookie(elsewhere).partition(".")[0] != _cookie(before).partition(".")[0]
    assert elsewhere.post("/api/lists?emotion=happy&n=4", headers=token).status_code == 403


def test_the_fallback_keys_never_reach_a_log_line(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(MOODTAPE_SECRET_KEY=NEW, MOODTAPE_SECRET_KEY_FALLBACKS=f"{OLD},{STRANGER}")
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        app.logger.info("keys were %s and %s", OLD, STRANGER)
    assert caplog.records and OLD not in caplog.text and STRANGER not in caplog.text
    assert "[redacted] and [redacted]" in caplog.records[-1].getMessage()


def test_fallbacks_are_read_as_a_comma_separated_list() -> None:
    settings = Settings({"MOODTAPE_SECRET_KEY_FALLBACKS": f" {OLD}, ,{STRANGER} "})
    assert settings.get_list("MOODTAPE_SECRET_KEY_FALLBACKS") == (OLD, STRANGER)
    assert settings.public()["MOODTAPE_SECRET_KEY_FALLBACKS"] == "set"
