"""The session cookie's issue time: copies older than its 180 days are refused by the server too,
old-format cookies (no issue time) keep working and come back in the new format for 180 days after
the deployment first issued the new one, cookies dated ahead by another instance's clock keep their
session, and the issue time cannot be moved without the key."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers

from moodtape.store import Store, deployment_facts
from moodtape.web import session

KEY = "k" * 40
DAY = 24 * 3600
CONSENT = "/api/history/consent"
SESSION_ID = "A" * 12 + "b" * 12  # 24 characters of the cookie id's alphabet


@pytest.fixture
def app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(MOODTAPE_SECRET_KEY=KEY)  # type: ignore[no-any-return]


def _legacy_cookie(session_id: str, key: str = KEY) -> str:
    """A cookie as moodtape signed it before issue times: ``<id>.<hmac of "session:<id>">``."""
    signature = hmac.new(key.encode(), f"session:{session_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{session_id}.{signature}"


def _issued_ago(seconds: float) -> str:
    return session.signed_cookie(SESSION_ID, int(time.time() - seconds), KEY)


def _seconds_ahead(line: str) -> int:
    found = re.search(r"dated (\d+) s ahead", line)
    assert found is not None, line
    return int(found[1])


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("moodtape_session", value)
    return client


def _cookie_value(client: FlaskClient) -> str:
    cookie = client.get_cookie("moodtape_session")
    assert cookie is not None
    return cookie.value


def _change_is_kept(client: FlaskClient, token: dict[str, str]) -> tuple[int, str]:
    reply = client.put(CONSENT, json={"history": True}, headers=token)
    return reply.status_code, (reply.get_json() or {}).get("error", {}).get("message", "")


def test_an_old_format_cookie_keeps_its_session_and_is_sent_back_with_an_issue_time(app: Flask) -> None:
    client = _with_cookie(app, _legacy_cookie(SESSION_ID))
    token = {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)}  # the token the page holds already
    assert _change_is_kept(client, token) == (200, "")
    renewed = _cookie_value(client)
    session_part, issued, _signature = renewed.split(".")
    assert session_part == SESSION_ID and abs(int(issued) - time.time()) < 60
    # From then on the new cookie alone names the session, and is not sent again.
    again = client.get("/api/config")
    assert again.get_json()["csrf_token"] == token["X-CSRF-Token"]
    assert again.headers.get("Set-Cookie") is None


def test_a_cookie_issued_181_days_ago_is_refused_as_expired(app: Flask) -> None:
    client = _with_cookie(app, _issued_ago(181 * DAY))
    token = {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)}
    status, message = _change_is_kept(client, token)
    assert status == 403 and message == session.EXPIRED_COOKIE_MESSAGE
    assert _cookie_value(client).split(".")[0] != SESSION_ID  # a fresh session's cookie came instead
    fresh = client.get("/api/config").get_json()["csrf_token"]
    assert client.put(CONSENT, json={"history": True}, headers={"X-CSRF-Token": fresh}).status_code == 200


def test_a_cookie_within_its_age_or_a_few_minutes_ahead_is_kept(app: Flask) -> None:
    token = {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)}
    for issued in (_issued_ago(179 * DAY), _issued_ago(-120)):  # another instance's clock 2 min ahead
        client = _with_cookie(app, issued)
        assert _change_is_kept(client, token) == (200, "")
        assert client.get("/api/config").headers.get("Set-Cookie") is None


def test_a_cookie_two_hours_ahead_is_kept_and_redated_and_two_days_ahead_is_refused(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A review: instance A's clock 2 h ahead issued a cookie that instance B refused as expired,
    logging the visitor out (a new, empty session) each time the balancer crossed to B."""
    token = {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)}
    assert _change_is_kept(_with_cookie(app, _issued_ago(DAY)), token) == (200, "")  # history on
    session.AHEAD_WARNINGS.close()  # no run of these warnings left open by an earlier test
    caplog.set_level(logging.WARNING, logger=session.__name__)
    client = _with_cookie(app, _issued_ago(-2 * 3600))  # issued by an instance 2 h ahead
    reply = client.get("/api/history")
    assert reply.get_json()["history"] is True, "the same session, its history kept"
    session_part, issued, _signature = _cookie_value(client).split(".")
    assert session_part == SESSION_ID and abs(int(issued) - time.time()) < 60, "sent back dated by this clock"
    assert f"Max-Age={session.COOKIE_MAX_AGE}" in reply.headers["Set-Cookie"]
    assert _change_is_kept(client, token) == (200, "")
    assert client.get("/api/config").headers.get("Set-Cookie") is None  # re-dated once, then left alone
    ahead = [r.getMessage() for r in caplog.records if "ahead of this server's clock" in r.getMessage()]
    assert len(ahead) == 1 and 7198 <= _seconds_ahead(ahead[0]) <= 7200
    status, message = _change_is_kept(_with_cookie(app, _issued_ago(-2 * DAY)), token)
    assert status == 403 and message == session.FAR_AHEAD_COOKIE_MESSAGE


def test_a_visit_crossing_instances_with_clocks_two_hours_apart_keeps_its_session(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The balancer alternates one browser between instance A (clock 2 h ahead) and B; each change is
    sent to the other instance than the one whose answer gave the token and the cookie."""
    now = time.time()
    clocks = {"A": now + 2 * 3600, "B": now}
    client = app.test_client()
    seen, refusals = set(), []
    for instance in "AABABBA":
        monkeypatch.setattr(session, "_now", lambda instance=instance: clocks[instance])
        token = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
        seen.add(_cookie_value(client).split(".")[0])
        other = "B" if instance == "A" else "A"
        monkeypatch.setattr(session, "_now", lambda other=other: clocks[other])
        status, message = _change_is_kept(client, token)
        if status != 200:
            refusals.append((instance, status, message))
        seen.add(_cookie_value(client).split(".")[0])
    assert refusals == [] and len(seen) == 1


def test_cookies_dated_ahead_write_one_warning_a_minute(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """The warning is the only visible sign that instances' clocks disagree, and each visit crossing
    to the instance behind carries such a cookie once: one line, then a count once a minute."""
    session.AHEAD_WARNINGS.close()
    caplog.set_level(logging.WARNING, logger=session.__name__)
    for seconds_ahead in (3600, 7200, 600):
        for _ in range(10):
            assert _with_cookie(app, _issued_ago(-seconds_ahead)).get("/api/config").status_code == 200
    lines = [r.getMessage() for r in caplog.records if "ahead of this server's clock" in r.getMessage()]
    assert len(lines) == 1 and 3598 <= _seconds_ahead(lines[0]) <= 3600 and "summed up every 60 s" in lines[0]
    session.AHEAD_WARNINGS.flush()  # the minute's summary, written now
    lines = [r.getMessage() for r in caplog.records if "ahead of this server's clock" in r.getMessage()]
    assert len(lines) == 2 and "29 more session cookies" in lines[1]
    assert re.search(r"at most 7(199|200) s ahead", lines[1])
    session.AHEAD_WARNINGS.close()


def test_a_moved_issue_time_breaks_the_signature(app: Flask) -> None:
    old = _issued_ago(181 * DAY)
    session_part, _issued, signature = old.split(".")
    client = _with_cookie(app, f"{session_part}.{int(time.time())}.{signature}")
    status, message = _change_is_kept(client, {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)})
    assert status == 403 and message == session.REFUSED_COOKIE_MESSAGE


def test_old_format_cookies_work_for_180_days_from_the_upgrade_on_every_instance(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: a date written into the code (2027-06-04) logged every returning visitor out at once
    on a deployment upgraded after it. The window now starts when the deployment's database was
    migrated to the new format, a moment recorded once and read by every instance sharing it."""
    upgraded = 1_830_000_000.0  # 2027-12-28: an upgrade long after the date once written in the code
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setattr(deployment_facts, "now", lambda: upgraded)  # the clock the migration records by
    first = make_app(MOODTAPE_SECRET_KEY=KEY, store=Store(url))
    token = {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)}
    monkeypatch.setattr(session, "_now", lambda: upgraded + 179 * DAY)
    assert _change_is_kept(_with_cookie(first, _legacy_cookie(SESSION_ID)), token) == (200, "")
    # A second instance, started 50 days later on its own clock: the moment is the database's.
    monkeypatch.setattr(deployment_facts, "now", lambda: upgraded + 50 * DAY)
    second = make_app(MOODTAPE_SECRET_KEY=KEY, store=Store(url))
    assert _change_is_kept(_with_cookie(second, _legacy_cookie(SESSION_ID)), token) == (200, "")
    monkeypatch.setattr(session, "_now", lambda: upgraded + 181 * DAY)
    for instance in (first, second):
        status, message = _change_is_kept(_with_cookie(instance, _legacy_cookie(SESSION_ID)), token)
        assert status == 403 and message == session.EXPIRED_COOKIE_MESSAGE


def test_a_new_cookie_carries_its_issue_time_and_the_browser_age(app: Flask) -> None:
    client = app.test_client()
    token = csrf_headers(client)
    reply = client.get("/api/config")
    assert reply.headers.get("Set-Cookie") is None
    assert _change_is_kept(client, token) == (200, "")
    first = app.test_client().get("/api/config").headers["Set-Cookie"]
    assert f"Max-Age={session.COOKIE_MAX_AGE}" in first
    assert len(first.split(";")[0].split("=", 1)[1].split(".")) == 3


def test_an_issue_time_spelt_with_a_leading_zero_is_not_the_same_cookie(app: Flask) -> None:
    session_part, issued, signature = _issued_ago(DAY).split(".")
    client = _with_cookie(app, f"{session_part}.0{issued}.{signature}")
    status, message = _change_is_kept(client, {"X-CSRF-Token": session.csrf_token(KEY, SESSION_ID)})
    assert status == 403 and message == session.REFUSED_COOKIE_MESSAGE


def test_a_cookie_signed_again_after_a_key_rotation_keeps_its_age(make_app) -> None:  # type: ignore[no-untyped-def]
    old_key = "o" * 40
    rotated = make_app(MOODTAPE_SECRET_KEY=KEY, MOODTAPE_SECRET_KEY_FALLBACKS=old_key)
    issued = int(time.time() - 100 * DAY)
    client = _with_cookie(rotated, session.signed_cookie(SESSION_ID, issued, old_key))
    header = client.get("/api/config").headers["Set-Cookie"]
    assert header.startswith(f"moodtape_session={session.signed_cookie(SESSION_ID, issued, KEY)};")
    max_age = int(header.split("Max-Age=")[1].split(";")[0])
    assert abs(max_age - 80 * DAY) < 60  # the browser drops it when the server would refuse it
