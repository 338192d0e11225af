""" "Delete everything" ends the session: the answer sends a new cookie and its CSRF token.

Before: ``DELETE /api/history?confirm=true`` emptied the session but kept its id, so whoever held
a copy of the cookie (a shared computer, a log line, an earlier copy) saw the lists, history and
calibration the person made afterwards. Checked with every place a session's state can live: this
process's memory, the store's short-lived table (SQLite, PostgreSQL) and Redis.

Then a request of the old session in flight during the deletion (a list being saved, the history
choice being set) finished after the forget and wrote under the old id, so replaying the old cookie
showed that list or that choice; and during a key rotation the in-flight answer re-signed the old
id, sending the browser back to the old session (the page's new token got 403 until a reload).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import STATE_BACKENDS, AppFactory, app_with_state_in, csrf_headers, post_calibration

from moodtape.errors import StoreSetupError, StoreUnavailableError
from moodtape.sessions import SessionService
from moodtape.web.session import COOKIE_NAME

OLD_KEY, NEW_KEY = "o" * 40, "n" * 40


@pytest.fixture(params=STATE_BACKENDS)
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    """The app with its session state in one of the places it can live (skips when a server is missing)."""
    return app_with_state_in(request, make_app)


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding ``cookie`` (a copy of it, replayed)."""
    other = app.test_client()
    other.set_cookie(COOKIE_NAME, cookie)
    return other


def _use(client: FlaskClient, csrf: dict[str, str], frame: bytes, emotion: str) -> str:
    """Keep history, make a list and calibrate: returns the list's id."""
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    made = client.post(f"/api/lists?emotion={emotion}&n=5", headers=csrf)
    assert made.status_code == 201, made.get_json()
    assert post_calibration(client, frame, "neutral", csrf)["calibrated"] is True
    return str(made.get_json()["list_id"])


def _delete_everything(client: FlaskClient, csrf: dict[str, str]) -> dict[str, Any]:
    reply = client.delete("/api/history?confirm=true", headers=csrf)
    assert reply.status_code == 200, reply.get_json()
    body: dict[str, Any] = reply.get_json()
    return body


def test_the_old_cookie_sees_nothing_of_what_follows_a_deletion(app: Flask, frame_640: bytes) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    _use(browser, csrf, frame_640, "happy")
    old_cookie = _cookie(browser)

    answer = _delete_everything(browser, csrf)
    assert answer["deleted"] == 1
    assert _cookie(browser) != old_cookie, "the answer to Delete everything must send a new session cookie"
    assert "csrf_token" in answer and answer["csrf_token"] != csrf["X-CSRF-Token"]

    # The person goes on at once, with the token the answer gave (no reload).
    renewed = {"X-CSRF-Token": answer["csrf_token"]}
    after = _use(browser, renewed, frame_640, "sad")
    assert [entry["list_id"] for entry in browser.get("/api/history").get_json()["items"]] == [after]

    replayed = _with_cookie(app, old_cookie)
    assert replayed.get("/api/history").get_json() == {"items": [], "history": None}
    assert replayed.get(f"/api/lists/{after}").status_code == 404
    assert replayed.get(f"/api/export?list={after}&format=csv").status_code == 404
    status = replayed.get("/api/calibration").get_json()
    assert status["calibrated"] is False and status["examples"] == {}
    # Nor can the old token act for the new session: it went with the old one.
    assert browser.post("/api/lists?emotion=sad", headers=csrf).status_code == 403


def test_nothing_of_the_old_session_stays_in_any_store(app: Flask, frame_640: bytes) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    kept = _use(browser, csrf, frame_640, "happy")
    old_id = _cookie(browser).split(".")[0]
    _delete_everything(browser, csrf)

    services = app.extensions["moodtape"]
    sessions = services.sessions()
    assert sessions.memory.get(old_id).lists == ()
    assert sessions.store.lists(old_id) == [] and sessions.store.consent(old_id) is None
    assert sessions.find_list(old_id, kept) is None
    left = services.profiles.get(old_id)
    assert left is None or (not left.tallies and left.profile is None), "only a removal count may stay"


def test_a_frame_taken_before_the_deletion_is_dropped_in_the_new_session(app: Flask, frame_640: bytes) -> None:
    """A calibration under way: its next frame goes out with the new cookie but the removal count
    it was taken under, and must not start a calibration in the new session."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    _use(browser, csrf, frame_640, "happy")
    answer = _delete_everything(browser, csrf)
    late = browser.post(
        "/api/calibration?emotion=neutral&removed=0",
        data=frame_640,
        content_type="image/jpeg",
        headers={"X-CSRF-Token": answer["csrf_token"]},
    )
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "calibration_removed"
    assert browser.get("/api/calibration").get_json() == {
        "calibrated": False,
        "examples": {},
        "expressions": False,
        "removed": 1,
    }


# --- requests of the old session still in flight during the deletion ---


class Held:
    """Holds the first call of a ``SessionService`` method until released, as a slow write would be."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        original: Callable[..., Any] = getattr(SessionService, method)

        def held(service: SessionService, *args: Any, **kwargs: Any) -> Any:
            if not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(30), "never released"
            return original(service, *args, **kwargs)

        monkeypatch.setattr(SessionService, method, held)


@pytest.fixture
def in_flight() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(30)


def _start(threads: list[threading.Thread], call: Callable[[], Any], answers: list[Any]) -> None:
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    threads.append(thread)
    thread.start()


WRITES = {
    "a list being saved": ("record", lambda client, csrf: client.post("/api/lists?emotion=sad&n=4", headers=csrf)),
    "history being turned on": (
        "set_consent",
        lambda client, csrf: client.put("/api/history/consent", json={"history": True}, headers=csrf),
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_in_flight_during_the_deletion_is_not_seen_by_the_old_cookie(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    in_flight: list[threading.Thread],
    write: str,
) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.post("/api/lists?emotion=happy&n=4", headers=csrf).status_code == 201
    old_cookie = _cookie(browser)
    old_id = old_cookie.split(".")[0]

    method, send = WRITES[write]
    held = Held(monkeypatch, method)
    answers: list[Any] = []
    _start(in_flight, lambda: send(_with_cookie(app, old_cookie), csrf), answers)  # another tab
    assert held.entered.wait(30)
    _delete_everything(browser, csrf)
    held.release.set()
    in_flight[0].join(30)
    assert answers and answers[0].status_code in (200, 201)

    replayed = _with_cookie(app, old_cookie)
    seen = replayed.get("/api/history")
    assert seen.get_json() == {"items": [], "history": None}
    # An API answer hands out no replacement cookie (it could overwrite the deletion's own); a page does.
    kept = replayed.get_cookie(COOKIE_NAME)
    assert kept is not None and kept.value == old_cookie
    assert replayed.get("/").status_code == 200
    renewed = replayed.get_cookie(COOKIE_NAME)
    assert renewed is not None and renewed.value.split(".")[0] != old_id, "the old cookie starts a new session"
    # Nothing the late write did stays under the old id either.
    sessions = app.extensions["moodtape"].sessions()
    assert sessions.memory.get(old_id).lists == ()
    assert sessions.store.lists(old_id) == [] and sessions.store.consent(old_id) is None


def test_an_old_cookie_answer_in_flight_during_a_key_rotation_does_not_bring_the_old_session_back(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, in_flight: list[threading.Thread]
) -> None:
    signed_with_old_key = make_app(MOODTAPE_SECRET_KEY=OLD_KEY).test_client()
    old_token = csrf_headers(signed_with_old_key)
    old_cookie = _cookie(signed_with_old_key)
    app = make_app(MOODTAPE_SECRET_KEY=NEW_KEY, MOODTAPE_SECRET_KEY_FALLBACKS=OLD_KEY)
    browser = _with_cookie(app, old_cookie)

    held = Held(monkeypatch, "record")
    answers: list[Any] = []
    _start(in_flight, lambda: _with_cookie(app, old_cookie).post("/api/lists?emotion=sad", headers=old_token), answers)
    assert held.entered.wait(30)
    renewed = _delete_everything(browser, old_token)
    new_cookie = _cookie(browser)
    held.release.set()
    in_flight[0].join(30)

    late = answers[0]
    assert late.status_code == 201
    assert COOKIE_NAME not in late.headers.get("Set-Cookie", ""), "the ended session's cookie must not come back"
    # The page goes on in the new session with the token the deletion gave it.
    assert _cookie(browser) == new_cookie
    assert browser.post("/api/lists?emotion=happy", headers={"X-CSRF-Token": renewed["csrf_token"]}).status_code == 201


def test_a_page_with_a_cookie_loads_when_the_retired_ids_cannot_be_read(app: Flask) -> None:
    """A store whose setup failed (or any unreadable state) must not turn a page load into a 503:
    before, only "unavailable" errors were let through and a cookie's page load got 503."""
    client = app.test_client()
    assert client.get("/").status_code == 200  # a session cookie now

    class Unreadable:
        def retire(self, session_id: str) -> None:
            raise StoreSetupError("the database user may not create moodtape's tables")

        def is_retired(self, session_id: str) -> bool:
            raise StoreSetupError("the database user may not create moodtape's tables")

    app.extensions["moodtape"].retired = Unreadable()
    assert client.get("/").status_code == 200


def test_a_deletion_that_fails_can_be_tried_again_with_the_same_session(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the old id stayed retired after a 503, so the retry got a fresh session, its token was
    refused (403) and the old history stayed kept, out of the person's reach."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    assert browser.post("/api/lists?emotion=happy&n=4", headers=csrf).status_code == 201
    forget = SessionService.forget

    def fails_once(self: SessionService, session: str) -> int:
        monkeypatch.setattr(SessionService, "forget", forget)
        raise StoreUnavailableError("the history store did not answer")

    monkeypatch.setattr(SessionService, "forget", fails_once)
    assert browser.delete("/api/history?confirm=true", headers=csrf).status_code == 503
    again = browser.delete("/api/history?confirm=true", headers=csrf)
    assert again.status_code == 200 and again.get_json()["deleted"] == 1


def test_a_camera_frame_reads_the_retired_ids_once(app: Flask, frame_640: bytes) -> None:
    """Only the lists' requests write what lasts; a frame checks its cookie once, not again after."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.post("/api/lists?emotion=happy&n=4", headers=csrf).status_code == 201  # a known session
    retired = app.extensions["moodtape"].retired
    reads: list[str] = []
    original = retired.is_retired

    def counted(session: str) -> bool:
        reads.append(session)
        return bool(original(session))

    retired.is_retired = counted
    answer = browser.post("/api/analyze", data=frame_640, content_type="image/jpeg", headers=csrf)
    assert answer.status_code == 200 and len(reads) == 1
