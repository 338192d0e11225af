"""Rotating MOODTAPE_SECRET_KEY machine by machine: old cookies and tokens still accepted, nothing lost."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, same_session

from moodtape.config import Settings
from moodtape.errors import SettingsError

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

    rotated = make_app(MOODTAPE_SECRET_KEY=NEW, MOODTAPE_SECRET_KEY_FALLBACKS=f" {'u' * 16} , {OLD} ")
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


def test_a_key_that_begins_another_apps_key_leaves_no_tail_of_it(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Every app in a process logs through one logger. A key that is the start of another app's
    longer key must not blank out only that start, leaving the rest of the longer key in the line;
    and making apps must not pile up one filter each on that logger."""
    short, long = "p" * 20, "p" * 40
    make_app(MOODTAPE_SECRET_KEY=short)
    app = make_app(MOODTAPE_SECRET_KEY=long)
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        app.logger.info("key %s.", long)
    assert caplog.records[-1].getMessage() == "key [redacted]."
    assert sum(type(f).__name__ == "RedactSecrets" for f in app.logger.filters) == 1


def test_fallbacks_are_read_as_a_comma_separated_list() -> None:
    settings = Settings({"MOODTAPE_SECRET_KEY_FALLBACKS": f" {OLD}, ,{STRANGER} "})
    assert settings.get_list("MOODTAPE_SECRET_KEY_FALLBACKS") == (OLD, STRANGER)
    assert settings.public()["MOODTAPE_SECRET_KEY_FALLBACKS"] == "set"


@pytest.mark.parametrize("listed", ["k" * 20 + ",ab", "0123456789abcdef0123,456789abcdef"])
def test_a_short_fallback_or_a_key_split_at_its_comma_is_refused(listed: str) -> None:
    """A key with a comma in it would be split in two, and its halves accepted as keys of their own
    (a short one is easy to guess): refused at start, without showing the value."""
    with pytest.raises(SettingsError, match="at least 16 characters separated by commas") as refused:
        Settings({"MOODTAPE_SECRET_KEY_FALLBACKS": listed})
    assert "(set, hidden)" in str(refused.value) and listed.split(",")[1] not in str(refused.value)


def test_the_two_passes_keep_a_visit_that_crosses_instances_on_either_key(make_app: AppFactory) -> None:
    """Pass 2 half done: one instance signs with the new key, one still with the old (each accepts
    the other's). A visit going back and forth keeps its session and its history on both."""
    first_pass = make_app(MOODTAPE_SECRET_KEY=OLD, MOODTAPE_SECRET_KEY_FALLBACKS=NEW)
    second_pass = make_app(MOODTAPE_SECRET_KEY=NEW, MOODTAPE_SECRET_KEY_FALLBACKS=OLD)
    visit = make_app(MOODTAPE_SECRET_KEY=OLD).test_client()
    token = csrf_headers(visit)
    visit.put("/api/history/consent", json={"history": True}, headers=token)
    visit.post("/api/lists?emotion=sad&n=4", headers=token)
    session = _cookie(visit).partition(".")[0]
    for n, app in enumerate([second_pass, first_pass, second_pass, first_pass]):
        visit = same_session(app, visit)
        assert _cookie(visit).partition(".")[0] == session
        assert len(_history_ids(visit)) == n + 1
        assert visit.post(f"/api/lists?emotion=happy&n=4&seed={n}", headers=token).status_code == 201
