""" "Delete everything" on one instance while a calibration frame of the session is read on another.

Found with two ``moodtape serve`` sharing PostgreSQL and Redis: a calibration frame sent without
``removed`` to instance B within ±4 ms of ``DELETE /api/history`` on instance A kept its example
(the face's probabilities and embedding sums) under the deleted session id, in 1 of 300 tries,
answered 200 with ``"examples": {"happy": 1}``. The frame had resolved its session before the
deletion retired it, but read the calibration's removal count after the deletion removed it, so the
count matched and nothing told the example it came too late. The interleaving is made exact here:
the deletion's two steps (retire, then forget; ``lists_api.delete_history``) run between the
frame's session being resolved and its removal count being read.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from webtools import AppFactory, csrf_headers

from moodtape.web import calibration_api
from moodtape.web.profiles import ProfileStore, remove_calibration
from moodtape.web.session import COOKIE_NAME


@pytest.fixture(params=("memory", "redis"))
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    """The app with calibrations in this process, or in Redis as two instances share them."""
    if request.param == "redis":
        return make_app(MOODTAPE_REDIS_URL=request.getfixturevalue("redis_url"))
    return make_app()


def test_a_frame_read_while_its_session_is_deleted_keeps_nothing(
    app: Flask, frame_640: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    cookie = browser.get_cookie(COOKIE_NAME)
    assert cookie is not None
    old_id = cookie.value.split(".")[0]
    services = app.extensions["moodtape"]
    read_count = calibration_api.removals

    def deleted_on_the_other_instance_first(store: ProfileStore, session: str) -> Any:
        services.retired.retire(session)  # what DELETE /api/history does, in its order
        remove_calibration(store, session)
        return read_count(store, session)

    monkeypatch.setattr(calibration_api, "removals", deleted_on_the_other_instance_first)
    reply = browser.post("/api/calibration?emotion=happy", data=frame_640, content_type="image/jpeg", headers=csrf)

    left = services.profiles.get(old_id)
    assert left is not None and not left.tallies and left.profile is None, "an example of a deleted session was kept"
    assert reply.status_code == 409, reply.get_json()
    assert reply.get_json()["error"]["code"] == "calibration_removed"
