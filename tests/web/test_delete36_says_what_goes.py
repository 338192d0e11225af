""" "Delete everything" unconfirmed: the 400 says what would really go (session 36).

It said "delete 0 list(s), feedback and corrections" whatever the session held, and never named
the calibration that goes too (nor the history choice).
"""

from __future__ import annotations

from flask.testing import FlaskClient
from webtools import post_calibration


def _said(client: FlaskClient, csrf: dict[str, str]) -> str:
    reply = client.delete("/api/history", headers=csrf)
    assert reply.status_code == 400
    body = reply.get_json()
    assert isinstance(body, dict)
    return str(body["error"]["message"] if isinstance(body["error"], dict) else body["error"])


def test_an_empty_session_is_told_nothing_is_kept(client: FlaskClient, csrf: dict[str, str]) -> None:
    said = _said(client, csrf)
    assert "0 list" not in said and "list(s)" not in said
    assert said.endswith("to end this session (it holds no lists or calibration yet)")


def test_the_calibration_is_named(client: FlaskClient, csrf: dict[str, str], frame_640: bytes) -> None:
    post_calibration(client, frame_640, headers=csrf)
    said = _said(client, csrf)
    assert said.endswith("to delete your face calibration (1 example), and end this session")


def test_lists_calibration_and_choice_are_counted(client: FlaskClient, csrf: dict[str, str], frame_640: bytes) -> None:
    assert client.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    for emotion in ("happy", "sad"):
        assert client.post(f"/api/lists?emotion={emotion}&n=3", headers=csrf).status_code == 201
    for emotion in ("neutral", "happy"):
        post_calibration(client, frame_640, emotion, csrf)
    said = _said(client, csrf)
    assert said.endswith(
        "to delete 2 lists (with their feedback and corrections), your face calibration (2 examples)"
        " and your history choice, and end this session"
    )
    # Nothing went: the 400 deletes nothing.
    assert len(client.get("/api/history").get_json()["items"]) == 2
