"""Saved lists through the API: lists that stay put, one-row dislikes with undo, exact export, consent."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from unittest.mock import ANY

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, same_session

from moodtape.store import Store


def show(client: FlaskClient, csrf: dict[str, str], query: str, status: int | None = None) -> dict[str, Any]:
    reply = client.post(f"/api/lists?{query}", headers=csrf)
    assert reply.status_code in ((status,) if status else (200, 201)), reply.get_json()
    body: dict[str, Any] = reply.get_json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


def store_of(app: Flask) -> Store:
    store = app.extensions["moodtape"].recommender().store
    assert isinstance(store, Store)
    return store


def test_a_list_stays_put_until_the_request_really_changes(client: FlaskClient, csrf: dict[str, str]) -> None:
    first = show(client, csrf, "valence=-0.6&arousal=-0.3&n=6", status=201)
    assert len(first["list_id"]) == 32 and first["undo"] == 0
    # The webcam's mood wobbles a little: the same list comes back, not a redraw.
    again = show(client, csrf, "valence=-0.55&arousal=-0.25&n=6", status=200)
    assert again["list_id"] == first["list_id"] and titles(again) == titles(first)
    assert show(client, csrf, "valence=-0.6&arousal=-0.3&n=6&strategy=calm", status=201)["list_id"] != first["list_id"]
    assert show(client, csrf, "valence=0.8&arousal=0.4&n=6", status=201)["mood"]["emotion"] == "happy"
    asked = show(client, csrf, "valence=0.8&arousal=0.4&n=6&fresh=true", status=201)
    assert asked["list_id"] != first["list_id"]


def test_switching_kind_and_back_restores_the_list(client: FlaskClient, csrf: dict[str, str]) -> None:
    music = show(client, csrf, "emotion=sad&n=5", status=201)
    videos = show(client, csrf, "emotion=sad&n=5&kind=videos", status=201)
    back = show(client, csrf, "emotion=sad&n=5", status=200)
    assert back["list_id"] == music["list_id"] and titles(back) == titles(music)
    assert show(client, csrf, "emotion=sad&n=5&kind=videos", status=200)["list_id"] == videos["list_id"]
    # GET shows the same current list, read-only.
    assert client.get("/api/recommendations?emotion=sad&n=5").get_json()["list_id"] == music["list_id"]


def test_dislike_replaces_one_row_and_undo_puts_it_back(client: FlaskClient, csrf: dict[str, str]) -> None:
    shown = show(client, csrf, "emotion=neutral&n=6&seed=2")
    before = titles(shown)
    reply = client.post(
        "/api/feedback", json={"action": "dislike", "list": shown["list_id"], "position": 2}, headers=csrf
    ).get_json()
    after = titles(reply["list"])
    assert reply["replaced"] is True and reply["list"]["undo"] == 1
    assert after[:2] == before[:2] and after[3:] == before[3:], "only the disliked row changes"
    assert after[2] not in before
    # The page's list is the changed one, wherever it is read.
    assert titles(client.get(f"/api/lists/{shown['list_id']}").get_json()) == after
    undone = client.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf).get_json()
    assert titles(undone) == before and undone["undo"] == 0
    nothing = client.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert nothing.status_code == 409 and nothing.get_json()["error"]["code"] == "nothing_to_undo"
    # The dislike is forgotten too: a fresh list may hold the item again.
    preferences = client.application.extensions["moodtape"].sessions().preferences(_session(client))
    assert shown["items"][2]["key"] not in preferences.disliked


def test_likes_name_list_and_row_and_keep_the_list(app: Flask, client: FlaskClient, csrf: dict[str, str]) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    shown = show(client, csrf, "emotion=happy&n=4")
    reply = client.post("/api/feedback", json={"action": "like", "list": shown["list_id"], "position": 1}, headers=csrf)
    assert reply.get_json()["replaced"] is False and titles(reply.get_json()["list"]) == titles(shown)
    [kept] = store_of(app).feedback(_session(client))
    assert (kept.list_id, kept.position, kept.item_key) == (shown["list_id"], 1, shown["items"][1]["key"])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "like", "list": "0" * 32, "position": 0}, 404),
        ({"action": "like", "list": "not-an-id", "position": 0}, 400),
        ({"action": "like", "list": "LIST", "position": 99}, 400),
        ({"action": "like", "list": "LIST", "position": -1}, 400),
        ({"action": "like", "list": "LIST", "position": True}, 400),
    ],
)
def test_feedback_on_a_missing_list_or_row_is_refused(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], status: int
) -> None:
    shown = show(client, csrf, "emotion=happy&n=3")
    body = {**body, "list": shown["list_id"]} if body["list"] == "LIST" else body
    reply = client.post("/api/feedback", json=body, headers=csrf)
    assert reply.status_code == status and "error" in reply.get_json()


def test_export_writes_exactly_the_list_shown_corrections_included(client: FlaskClient, csrf: dict[str, str]) -> None:
    shown = show(client, csrf, "emotion=sad&n=5")
    changed = client.post(
        "/api/feedback", json={"action": "dislike", "list": shown["list_id"], "position": 0}, headers=csrf
    ).get_json()["list"]
    show(client, csrf, "emotion=happy&n=5")  # another list is on screen now
    reply = client.get(f"/api/export?list={shown['list_id']}&format=csv")
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert [row["title"] for row in rows] == titles(changed)
    assert client.get(f"/api/export?list={'0' * 32}").status_code == 404


def test_a_list_of_another_session_cannot_be_opened(app: Flask, client: FlaskClient, csrf: dict[str, str]) -> None:
    shown = show(client, csrf, "emotion=sad&n=3")
    with app.test_client() as stranger:
        assert stranger.get(f"/api/lists/{shown['list_id']}").status_code == 404
        assert stranger.get(f"/api/export?list={shown['list_id']}").status_code == 404


def test_history_is_off_until_chosen_and_reopens_kept_lists(make_app: AppFactory, csrf_client: Any) -> None:
    app = make_app()
    client, csrf = csrf_client(app)
    store = store_of(app)
    assert client.get("/api/history/consent").get_json() == {"history": None, "retention_days": 30.0, "max_lists": 50}
    show(client, csrf, "emotion=sad&n=3")
    assert store.row_count() == 0, "nothing reaches the database before the person chooses"
    assert [entry["kept"] for entry in client.get("/api/history").get_json()["items"]] == [False]
    chosen = client.put("/api/history/consent", json={"history": True}, headers=csrf)
    assert chosen.status_code == 200 and chosen.get_json()["history"] is True
    second = show(client, csrf, "emotion=happy&n=3")
    history = client.get("/api/history").get_json()
    assert history["history"] is True and [entry["kept"] for entry in history["items"]] == [True, True]
    # Another app on the same database (a restart, or another instance) reopens the kept list.
    other = make_app()
    assert other.extensions["moodtape"].memory is not app.extensions["moodtape"].memory
    later = same_session(other, client)
    assert titles(later.get(f"/api/lists/{second['list_id']}").get_json()) == titles(second)
    assert client.put("/api/history/consent", json={"history": "yes"}, headers=csrf).status_code == 400


@pytest.fixture
def csrf_client() -> Any:
    def make(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
        client = app.test_client()
        return client, csrf_headers(client)

    return make


def _session(client: FlaskClient) -> str:
    cookie = client.get_cookie("moodtape_session")
    assert cookie is not None
    return cookie.value.partition(".")[0]  # the cookie is "<id>.<issued>.<signature>"


def test_get_endpoints_and_cookieless_clients_leave_the_store_and_memory_alone(make_app: AppFactory) -> None:
    """Issue 10: 334 cookieless GETs grew the database by 8.5 MB; now nothing is written at all."""
    app = make_app(MOODTAPE_RATE_LIMIT="1000000")  # the flood here is the test, not the limiter's
    services = app.extensions["moodtape"]
    for i in range(150):
        with app.test_client() as stranger:  # a new client each time: no cookie
            assert stranger.get(f"/api/recommendations?emotion=sad&n=12&seed={i}").status_code == 200
            assert stranger.get("/api/export?emotion=happy&n=5&format=m3u8").status_code == 200
            assert stranger.get("/api/history").status_code == 200
            assert stranger.post("/api/lists?emotion=sad").status_code == 403
            assert stranger.post("/api/feedback", json={"action": "like", "key": "k", "artist": "a"}).status_code == 403
            assert stranger.put("/api/history/consent", json={"history": True}).status_code == 403
    assert store_of(app).row_count() == 0
    assert len(services.memory) == 0


def test_a_cross_site_top_level_get_adds_nothing(app: Flask, client: FlaskClient, csrf: dict[str, str]) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    show(client, csrf, "emotion=sad&n=3")
    before = client.get("/api/history").get_json()
    rows = store_of(app).row_count()
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Referer": "https://evil.example/"}
    for query in ("emotion=angry&n=12", "emotion=happy&kind=videos&n=3"):
        assert client.get(f"/api/recommendations?{query}", headers=cross_site).status_code == 200
        assert client.get(f"/api/export?{query}", headers=cross_site).status_code == 200
    assert client.get("/api/history").get_json() == before and store_of(app).row_count() == rows


def test_deleting_needs_confirmation_and_removes_everything(
    app: Flask, client: FlaskClient, csrf: dict[str, str]
) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    shown = show(client, csrf, "emotion=sad&n=3")
    client.post("/api/feedback", json={"action": "like", "list": shown["list_id"], "position": 0}, headers=csrf)
    refused = client.delete("/api/history", headers=csrf)
    assert refused.status_code == 400 and "confirm" in refused.get_json()["error"]["message"]
    assert store_of(app).row_count() > 0
    reply = client.delete("/api/history", json={"confirm": True}, headers=csrf)
    assert reply.get_json() == {"deleted": 1, "csrf_token": ANY} and store_of(app).row_count() == 0
    assert client.get(f"/api/lists/{shown['list_id']}").status_code == 404


@pytest.mark.parametrize(
    "raw",
    [
        '{"action": "like", "key": "\\ud800", "artist": "a"}',
        '{"action": "like", "key": "k", "artist": "a", "genre": "\\udfff"}',
        '{"action": "not_my_mood", "detected": "sad\\ud800", "corrected": "happy"}',
        "[" * 3000 + "]" * 3000,
        '{"action": ' + "{" * 2000 + "}" * 2000 + "}",
        "{not json",
    ],
)
def test_odd_feedback_bodies_are_400_not_500(app: Flask, client: FlaskClient, csrf: dict[str, str], raw: str) -> None:
    reply = client.post("/api/feedback", data=raw, content_type="application/json", headers=csrf)
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "bad_request"
    assert store_of(app).row_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"n": 0},
        {"n": 1000},
        {"kind": "songs"},
        {"strategy": "sleep"},
        {"corrected": "bored"},
    ],
)
def test_not_my_mood_validates_before_writing(
    app: Flask, client: FlaskClient, csrf: dict[str, str], body: dict[str, Any]
) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    rows = store_of(app).row_count()
    payload = {"action": "not_my_mood", "detected": "sad", "corrected": "happy", **body}
    assert client.post("/api/feedback", json=payload, headers=csrf).status_code == 400
    assert store_of(app).row_count() == rows
    assert client.get("/api/history").get_json()["items"] == []


def test_not_my_mood_answers_with_a_saved_list(client: FlaskClient, csrf: dict[str, str]) -> None:
    payload = {"action": "not_my_mood", "detected": "sad", "corrected": "happy", "n": 3}
    body = client.post("/api/feedback", json=payload, headers=csrf).get_json()
    list_id = body["recommendations"]["list_id"]
    assert len(list_id) == 32 and body["recommendations"]["mood"]["emotion"] == "happy"
    export = client.get(f"/api/export?list={list_id}&format=csv").get_data(as_text=True)
    assert [row["title"] for row in csv.DictReader(io.StringIO(export))] == titles(body["recommendations"])


def test_the_json_of_a_kept_list_is_the_json_shown(client: FlaskClient, csrf: dict[str, str]) -> None:
    client.put("/api/history/consent", json={"history": True}, headers=csrf)
    shown = show(client, csrf, "probabilities=" + json.dumps({"sad": 0.6, "neutral": 0.4}) + "&n=4")
    assert client.get(f"/api/lists/{shown['list_id']}").get_json() == shown
