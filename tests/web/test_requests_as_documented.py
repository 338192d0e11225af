"""Requests the OpenAPI description calls invalid are refused, and valid ones accepted, as a fuzzer expects.

Found by Schemathesis run against the live server (ST201: invalid request accepted; ST202: valid
request refused). A destructive call in particular must never guess: ``DELETE /api/history`` with a
malformed body, or a body that contradicts the query, deletes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from spectools import SPEC

LIKE = {"action": "like", "key": "track:1", "artist": "Someone"}


def keep_two_lists(client: FlaskClient, csrf: dict[str, str]) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    for emotion in ("sad", "happy"):
        assert client.post(f"/api/lists?emotion={emotion}", headers=csrf).status_code == 201


def history_size(client: FlaskClient) -> int:
    return len(client.get("/api/history").get_json()["items"])


# --- DELETE /api/history ---


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("confirm=true", {"confirm": {}}),  # a body that breaks the schema
        ("confirm=true", [None, None]),  # not an object
        ("confirm=false", {"confirm": True}),  # the query said no: the body may not overrule it
        ("confirm=true", {"confirm": False}),
        ("confirm=true", {"confirm": None}),  # the schema's boolean has no null
        ("confirm=TRUE", None),  # not a boolean as the API writes one
        ("confirm=yes", None),
    ],
)
def test_deleting_history_refuses_a_malformed_or_contradicting_confirmation(
    client: FlaskClient, csrf: dict[str, str], query: str, body: Any
) -> None:
    keep_two_lists(client, csrf)
    reply = client.delete(f"/api/history?{query}", json=body, headers=csrf)
    assert reply.status_code == 400
    assert history_size(client) == 2  # nothing deleted


def test_deleting_history_with_a_body_that_is_not_json_deletes_nothing(
    client: FlaskClient, csrf: dict[str, str]
) -> None:
    keep_two_lists(client, csrf)
    reply = client.delete("/api/history?confirm=true", data=b"\x00garbage", headers=csrf)
    assert reply.status_code == 415
    assert history_size(client) == 2


@pytest.mark.parametrize(
    ("query", "body"), [("confirm=true", None), ("", {"confirm": True}), ("confirm=1", {"confirm": True})]
)
def test_deleting_history_with_one_clear_confirmation_works(
    client: FlaskClient, csrf: dict[str, str], query: str, body: Any
) -> None:
    keep_two_lists(client, csrf)
    reply = client.delete(f"/api/history?{query}", json=body, headers=csrf)
    assert reply.status_code == 200 and reply.get_json()["deleted"] == 2
    assert history_size(client) == 0


# --- bodies sent as something other than JSON ---


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_json_body_sent_as_another_type_is_415_and_changes_nothing(
    client: FlaskClient, csrf: dict[str, str], content_type: str | None
) -> None:
    headers = {**csrf, **({"Content-Type": content_type} if content_type else {})}
    reply = client.put("/api/history/consent", data=b'{"history": true}', headers=headers)
    assert reply.status_code == 415
    assert reply.get_json()["error"] == {
        "code": "unsupported_media_type",
        "message": "send the body as JSON, with Content-Type: application/json",
    }
    assert client.get("/api/history/consent").get_json()["history"] is None
    assert client.post("/api/feedback", data=b'{"action": "like"}', headers=headers).status_code == 415


def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(client: FlaskClient, csrf: dict[str, str]) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        reply = client.put(
            "/api/history/consent", data=b'{"history": true}', headers={**csrf, "Content-Type": content_type}
        )
        assert reply.status_code == 200, content_type


# --- feedback: every documented field that is present is checked ---


@pytest.mark.parametrize(
    "extra",
    [
        {"position": -1},
        {"corrected": "nope"},
        {"detected": 3},
        {"kind": "zzz"},
        {"n": -4},
        {"n": None},
        {"list": "xyz"},
        {"strategy": "loud"},
        {"genre": 5},
    ],
)
def test_feedback_refuses_an_invalid_field_even_one_the_action_does_not_read(
    client: FlaskClient, csrf: dict[str, str], extra: dict[str, Any]
) -> None:
    reply = client.post("/api/feedback", json={**LIKE, **extra}, headers=csrf)
    assert reply.status_code == 400
    assert next(iter(extra)) in reply.get_json()["error"]["message"]


def test_not_my_mood_refuses_fields_it_does_not_read_when_invalid(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = {"action": "not_my_mood", "detected": "sad", "corrected": "happy"}
    assert client.post("/api/feedback", json={**body, "position": -5}, headers=csrf).status_code == 400
    assert (
        client.post(
            "/api/feedback", json={**body, "strategy": None, "kind": "videos", "n": 6}, headers=csrf
        ).status_code
        == 200
    )


def test_valid_feedback_with_optional_fields_is_still_taken(client: FlaskClient, csrf: dict[str, str]) -> None:
    reply = client.post("/api/feedback", json={**LIKE, "genre": None, "category": "music"}, headers=csrf)
    assert reply.status_code == 200 and reply.get_json() == {"ok": True}


# --- query values ---


def test_the_seed_bounds_the_server_keeps_are_the_ones_the_description_gives(client: FlaskClient) -> None:
    schema = SPEC["components"]["parameters"]["seed"]["schema"]
    low, high = schema["minimum"], schema["maximum"]
    for seed, status in ((low, 200), (high, 200), (low - 1, 400), (high + 1, 400)):
        assert client.get(f"/api/recommendations?emotion=sad&seed={seed}").status_code == status, seed


@pytest.mark.parametrize(
    ("fresh", "status"), [("banana", 400), ("yes", 400), ("1", 201), ("true", 201), ("false", 200), ("", 400)]
)
def test_fresh_is_a_boolean(client: FlaskClient, csrf: dict[str, str], fresh: str, status: int) -> None:
    assert client.post("/api/lists?emotion=sad", headers=csrf).status_code == 201
    assert client.post(f"/api/lists?emotion=sad&fresh={fresh}", headers=csrf).status_code == status


@pytest.mark.parametrize("name", ["kind", "strategy", "n", "seed", "emotion"])
def test_a_list_parameter_given_empty_is_refused_not_taken_as_the_default(client: FlaskClient, name: str) -> None:
    query = "valence=0.2&arousal=0.1" if name == "emotion" else "emotion=sad"
    reply = client.get(f"/api/recommendations?{query}&{name}=")
    assert reply.status_code == 400 and f"{name} is empty" in reply.get_json()["error"]["message"]


def test_whole_numbers_written_with_a_decimal_point_are_whole_numbers(
    client: FlaskClient, csrf: dict[str, str]
) -> None:
    """JSON Schema (OpenAPI 3.1) counts 28.0 as an integer; 0.5 is not one."""
    made = client.post("/api/lists?emotion=sad&n=6", headers=csrf).get_json()
    row = {"action": "play", "list": made["list_id"], "position": 0.0}
    assert client.post("/api/feedback", json={**row, "n": 28.0}, headers=csrf).status_code == 200
    assert client.post("/api/feedback", json={**row, "position": 0.5}, headers=csrf).status_code == 400
    assert client.post("/api/feedback", json={**row, "n": 1e300}, headers=csrf).status_code == 400
