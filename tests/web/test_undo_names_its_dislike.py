"""An undo that names its dislike (``dislike_id``) takes back that dislike or nothing.

Before: an undo could name only the song it brings back (``item``), and the server knew an undone
dislike only by that song being back on the list. A visitor undid a dislike (the answer was lost),
disliked the same song again, and the client's retry of the undo then undid the second dislike.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers

from moodtape.web.multiprocess import share_state


@pytest.fixture(params=("memory", "sqlite-shared"))
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    made = make_app()
    if request.param == "sqlite-shared":  # the session state in the store, as `serve --processes 2` keeps it
        share_state(made, made.extensions["moodtape"].settings, processes=2)
    return made


def _post(client: FlaskClient, path: str, csrf: dict[str, str], body: object, status: int = 200) -> dict[str, Any]:
    reply = client.post(path, json=body, headers=csrf)
    assert reply.status_code == status, reply.get_json()
    answer: dict[str, Any] = reply.get_json()
    return answer


def _dislike(client: FlaskClient, csrf: dict[str, str], shown: dict[str, Any], row: int) -> dict[str, Any]:
    body = {"action": "dislike", "list": shown["list_id"], "position": row, "item": shown["items"][row]["key"]}
    answer = _post(client, "/api/feedback", csrf, body)
    assert answer["replaced"] is True
    listed: dict[str, Any] = answer["list"]
    return listed


def _visit(app: Flask, rows: int = 6) -> tuple[FlaskClient, dict[str, str], dict[str, Any]]:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    made = browser.post(f"/api/lists?emotion=neutral&n={rows}&seed=2", headers=csrf)
    assert made.status_code == 201, made.get_json()
    return browser, csrf, made.get_json()


def test_a_retried_undo_after_the_same_song_was_disliked_again_undoes_nothing(app: Flask) -> None:
    browser, csrf, shown = _visit(app)
    list_id, song = shown["list_id"], shown["items"][2]["key"]
    assert "dislike_id" not in shown, "nothing to undo yet"
    first = _dislike(browser, csrf, shown, 2)
    named = {"item": song, "dislike_id": first["dislike_id"]}
    undone = _post(browser, f"/api/lists/{list_id}/undo", csrf, named)
    assert undone["items"][2]["key"] == song and undone["undo"] == 0 and "dislike_id" not in undone

    again = _dislike(browser, csrf, undone, 2)  # the same song disliked once more
    assert again["dislike_id"] != first["dislike_id"]
    assert again == browser.get(f"/api/lists/{list_id}").get_json(), "GET names the same dislike"

    retry = _post(browser, f"/api/lists/{list_id}/undo", csrf, named)  # the first undo's answer was lost
    assert retry["already"] is True
    assert retry["items"][2]["key"] != song, "the retry undid the second dislike"
    assert retry["undo"] == 1 and retry["dislike_id"] == again["dislike_id"]

    latest = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"item": song, "dislike_id": again["dislike_id"]})
    assert latest["items"][2]["key"] == song and "already" not in latest


def test_an_undo_naming_an_older_dislike_changes_nothing(app: Flask) -> None:
    browser, csrf, shown = _visit(app)
    list_id = shown["list_id"]
    older = _dislike(browser, csrf, shown, 1)
    newer = _dislike(browser, csrf, older, 3)
    refused = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": older["dislike_id"]}, 409)
    assert refused["error"]["code"] == "stale_row"
    mismatched = {"item": shown["items"][1]["key"], "dislike_id": newer["dislike_id"]}  # the id's song is row 3's
    assert _post(browser, f"/api/lists/{list_id}/undo", csrf, mismatched, 409)["error"]["code"] == "stale_row"
    assert browser.get(f"/api/lists/{list_id}").get_json() == newer
    bad = browser.post(f"/api/lists/{list_id}/undo", json={"dislike_id": "x" * 32}, headers=csrf)
    assert bad.status_code == 400 and "dislike_id must be" in bad.get_json()["error"]["message"]
    plain = browser.post(f"/api/lists/{list_id}/undo", headers=csrf)  # an older client: no body at all
    assert plain.status_code == 200 and plain.get_json()["items"][3]["key"] == shown["items"][3]["key"]
    assert plain.get_json()["dislike_id"] == older["dislike_id"]


def test_an_undo_naming_a_dislike_the_list_no_longer_holds_is_refused(app: Flask) -> None:
    """A list keeps its latest 10 dislikes to undo. Before, an undo naming one that fell off (or any
    id at all) was answered 200 ``already``, as if it had been undone, though nothing was."""
    browser, csrf, shown = _visit(app, rows=12)
    list_id, first_song = shown["list_id"], shown["items"][0]["key"]
    now, ids = shown, []
    for row in range(11):
        now = _dislike(browser, csrf, now, row)
        ids.append(now["dislike_id"])
    assert now["undo"] == 10, "the first dislike fell off the trail"
    for named in ({"dislike_id": ids[0]}, {"dislike_id": "0" * 32}, {"dislike_id": ids[0], "item": first_song}):
        refused = _post(browser, f"/api/lists/{list_id}/undo", csrf, named, 409)
        assert refused["error"]["code"] == "stale_row", named
    assert "can no longer be undone" in refused_message(browser, csrf, list_id, ids[0])
    assert browser.get(f"/api/lists/{list_id}").get_json() == now, "nothing changed"
    undone = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": ids[-1]})
    retry = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": ids[-1]})
    assert retry["already"] is True and retry["dislike_id"] == ids[-2] == undone["dislike_id"]


def refused_message(browser: FlaskClient, csrf: dict[str, str], list_id: str, dislike_id: str) -> str:
    message: str = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": dislike_id}, 409)["error"][
        "message"
    ]
    return message


def test_a_dislike_answers_its_own_id_while_another_tab_dislikes_too(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the answer read the undo trail again after the dislike: another tab's dislike landing
    in between gave this tab that dislike's id, and its undo then took back the other tab's row."""
    from moodtape.playlists import Playlists

    browser, csrf, shown = _visit(app)
    list_id, other_tabs_song = shown["list_id"], shown["items"][4]["key"]
    real = Playlists.row_feedback

    def and_another_tab(self: Playlists, *args: Any, **kwargs: Any) -> Any:
        answer = real(self, *args, **kwargs)
        monkeypatch.setattr(Playlists, "row_feedback", real)
        real(self, args[0], list_id, 4, "dislike", other_tabs_song)  # lands before this answer is made
        return answer

    monkeypatch.setattr(Playlists, "row_feedback", and_another_tab)
    mine = _dislike(browser, csrf, shown, 2)
    latest = browser.get(f"/api/lists/{list_id}").get_json()
    assert latest["undo"] == 2 and latest["items"][4]["key"] != other_tabs_song
    assert mine["dislike_id"] != latest["dislike_id"], "this tab was given the other tab's dislike"
    refused = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": mine["dislike_id"]}, 409)
    assert refused["error"]["code"] == "stale_row", "under the other tab's dislike: nothing undone"
    _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": latest["dislike_id"]})
    mine_back = _post(browser, f"/api/lists/{list_id}/undo", csrf, {"dislike_id": mine["dislike_id"]})
    assert mine_back["items"][2]["key"] == shown["items"][2]["key"] and mine_back["undo"] == 0
