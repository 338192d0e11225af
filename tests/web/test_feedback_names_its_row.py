"""Feedback that names its item (``item``) acts on that song or on nothing, with every state backend.

Before (known since session 18): ``POST /api/feedback`` named the row by position alone, and a
dislike replaces the row. A client retrying after a timeout (the first request had landed, its
answer was lost), a replayed request or a second tab with an older list disliked the song that had
taken the row's place. Now the request may say which item it meant: a retried dislike changes
nothing the second time (``already``), a list older than the server's gets a 409 ``stale_row``, and
a repeated like counts once. Checked with each place a session's state can live: this process's
memory, the store's short-lived table (SQLite, PostgreSQL) and Redis; the race between a retry and
the first request needs two processes, so it runs on the shared ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, same_session

from moodtape.errors import StoreUnavailableError
from moodtape.store import Store
from moodtape.web.multiprocess import share_state
from moodtape.web.session import COOKIE_NAME

SHARED = ("sqlite-shared", "redis", "postgresql-shared")
WorkerFactory = Callable[[], Flask]


def _worker_factory(request: pytest.FixtureRequest, make_app: AppFactory, backend: str) -> WorkerFactory:
    """Apps (one per process) keeping session state in ``backend``; skips when its server is missing."""
    if backend == "memory":
        return make_app
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        return lambda: make_app(MOODTAPE_REDIS_URL=url)
    database = request.getfixturevalue("postgres") if backend == "postgresql-shared" else None

    def make() -> Flask:
        # PostgreSQL: the history and, through MOODTAPE_DATABASE_URL, the short-lived state (share_state
        # reads the settings); SQLite: one file for all.
        app = make_app(store=Store(database), MOODTAPE_DATABASE_URL=database) if database else make_app()
        share_state(app, app.extensions["moodtape"].settings, processes=2)  # short-lived state in the store
        return app

    return make


@pytest.fixture(params=("memory", *SHARED))
def app(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    return _worker_factory(request, make_app, request.param)()


@pytest.fixture(params=SHARED)
def workers(request: pytest.FixtureRequest, make_app: AppFactory) -> WorkerFactory:
    return _worker_factory(request, make_app, request.param)


def _session(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value.partition(".")[0]  # the cookie is "<id>.<issued>.<signature>"


def _events(app: Flask, client: FlaskClient) -> list[tuple[str, str]]:
    """The visit's feedback as (action, item key), oldest first."""
    state = app.extensions["moodtape"].sessions().memory.get(_session(client))
    return [(event.action, event.item_key) for event in state.feedback]


def _keys(body: dict[str, Any]) -> list[str]:
    return [item["key"] for item in body["items"]]


def _send(client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    reply = client.post("/api/feedback", json=body, headers=csrf)
    assert reply.status_code == status, reply.get_json()
    answer: dict[str, Any] = reply.get_json()
    return answer


def _shown(client: FlaskClient, csrf: dict[str, str]) -> dict[str, Any]:
    made = client.post("/api/lists?emotion=neutral&n=6&seed=2", headers=csrf)
    assert made.status_code == 201, made.get_json()
    body: dict[str, Any] = made.get_json()
    return body


def test_a_retried_dislike_changes_nothing_the_second_time(app: Flask) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    shown = _shown(browser, csrf)
    disliked = shown["items"][2]["key"]
    body = {"action": "dislike", "list": shown["list_id"], "position": 2, "item": disliked}
    first = _send(browser, csrf, body)
    assert first["replaced"] is True and first["list"]["undo"] == 1
    assert first["list"]["items"][2]["key"] != disliked

    retry = _send(browser, csrf, body)  # the first answer was lost: the client sends it again
    assert _keys(retry["list"]) == _keys(first["list"]), "the retry replaced the replacement"
    assert _events(app, browser) == [("dislike", disliked)], "the replacement is not disliked"
    assert retry["replaced"] is False and retry["already"] is True and retry["list"]["undo"] == 1
    assert first["already"] is False
    assert _keys(browser.get(f"/api/lists/{shown['list_id']}").get_json()) == _keys(first["list"])

    # Undo still undoes the one real dislike, and there is no second one to undo.
    undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert undone.status_code == 200 and _keys(undone.get_json()) == _keys(shown)
    assert _events(app, browser) == []
    again = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_undo"


def test_feedback_from_an_older_list_is_409_and_changes_nothing(app: Flask) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    shown = _shown(browser, csrf)
    list_id = shown["list_id"]
    # Another tab dislikes row 2 and undoes it: for a moment row 2 held another song.
    other_tab = _send(browser, csrf, {"action": "dislike", "list": list_id, "position": 2})
    passing = other_tab["list"]["items"][2]["key"]
    browser.post(f"/api/lists/{list_id}/undo", headers=csrf)

    # This tab still shows that song on row 2, and dislikes it; the row holds the first song again.
    stale = {"action": "dislike", "list": list_id, "position": 2, "item": passing}
    refused = _send(browser, csrf, stale, status=409)
    message = refused["error"]["message"]
    assert (
        refused["error"]["code"] == "stale_row" and "load the list again" in message and "nothing was rated" in message
    )
    assert "/api/" not in message and "row 2" not in message, "words for a person: no route, no 0-based row"
    like = {"action": "like", "list": list_id, "position": 3, "item": shown["items"][4]["key"]}
    assert _send(browser, csrf, like, status=409)["error"]["code"] == "stale_row"
    after = browser.get(f"/api/lists/{list_id}").get_json()
    assert _keys(after) == _keys(shown) and after["undo"] == 0
    assert _events(app, browser) == []


def test_a_repeated_like_counts_once_and_without_item_as_before(app: Flask) -> None:
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    shown = _shown(browser, csrf)
    liked, skipped = shown["items"][1]["key"], shown["items"][4]["key"]
    like = {"action": "like", "list": shown["list_id"], "position": 1, "item": liked}
    skip = {"action": "skip", "list": shown["list_id"], "position": 4, "item": skipped}
    answers = [_send(browser, csrf, body) for body in (like, like, skip, skip)]
    assert _events(app, browser) == [("like", liked), ("skip", skipped)]
    assert [answer.get("already") for answer in answers] == [False, True, False, True]
    assert all(answer["replaced"] is False and _keys(answer["list"]) == _keys(shown) for answer in answers)
    kept = app.extensions["moodtape"].sessions().store.feedback(_session(browser))
    assert [(event.action, event.item_key) for event in kept] == [("like", liked), ("skip", skipped)]
    # Without item the row is named by position alone, as before: each like counts.
    _send(browser, csrf, {"action": "like", "list": shown["list_id"], "position": 1})
    assert _events(app, browser).count(("like", liked)) == 2


def test_two_full_plays_of_a_row_count_twice(app: Flask) -> None:
    """A play is an event, not a judgement: playing a song to the end twice is two plays."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    shown = _shown(browser, csrf)
    played = shown["items"][3]["key"]
    play = {"action": "play", "list": shown["list_id"], "position": 3, "item": played}
    answers = [_send(browser, csrf, play) for _ in range(2)]
    assert [answer["already"] for answer in answers] == [False, False]
    assert _events(app, browser) == [("play", played), ("play", played)]


def test_a_store_failure_after_the_row_is_replaced_keeps_the_dislike(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database stops answering just as the kept copy of the new row is written: the row is
    replaced already (with its Undo), so the dislike stands, and the retry writes the kept copy.

    Before, the dislike was taken back while its row stayed replaced: the retry was told
    ``already`` but the song was no longer disliked (it could come back in the next list).
    """
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    shown = _shown(browser, csrf)
    sessions = app.extensions["moodtape"].sessions()
    store = sessions.store
    real_update = store.update_list
    outage = ["once"]

    def update_list(*args: Any, **kwargs: Any) -> bool:
        if outage:
            outage.pop()
            raise StoreUnavailableError("the history store is not answering right now; try again in a moment")
        return bool(real_update(*args, **kwargs))

    monkeypatch.setattr(store, "update_list", update_list)
    disliked = shown["items"][2]["key"]
    body = {"action": "dislike", "list": shown["list_id"], "position": 2, "item": disliked}
    failed = browser.post("/api/feedback", json=body, headers=csrf)
    assert failed.status_code == 503, failed.get_json()
    assert store.get_list(_session(browser), shown["list_id"]).items[2]["key"] == disliked  # not kept yet

    retry = _send(browser, csrf, body)
    assert retry["already"] is True and retry["list"]["undo"] == 1
    replacement = retry["list"]["items"][2]["key"]
    assert replacement != disliked
    assert _events(app, browser) == [("dislike", disliked)], "the dislike was taken back"
    assert disliked in sessions.preferences(_session(browser)).disliked
    assert store.get_list(_session(browser), shown["list_id"]).items[2]["key"] == replacement, "history not healed"
    undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert undone.status_code == 200 and _keys(undone.get_json()) == _keys(shown)
    assert _events(app, browser) == []


def _a_kept_dislike(app: Flask) -> tuple[FlaskClient, dict[str, str], dict[str, Any], str]:
    """A visitor who keeps history and disliked row 1 of a list: client, CSRF headers, list, song."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    assert browser.put("/api/history/consent", json={"history": True}, headers=csrf).status_code == 200
    shown = _shown(browser, csrf)
    disliked = shown["items"][1]["key"]
    _send(browser, csrf, {"action": "dislike", "list": shown["list_id"], "position": 1, "item": disliked})
    return browser, csrf, shown, disliked


def _store_down(*args: Any, **kwargs: Any) -> bool:
    raise StoreUnavailableError("the history store is not answering right now; try again in a moment")


def test_a_store_failure_while_undoing_still_forgets_the_dislike(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo puts the row back in the visit first; when the kept copy then cannot be written, the
    dislike must be forgotten all the same, or the song is back on the list but still disliked (it
    would never come back in a new list, and Undo has nothing left to take back)."""
    browser, csrf, shown, disliked = _a_kept_dislike(app)
    store = app.extensions["moodtape"].sessions().store

    monkeypatch.setattr(store, "update_list", _store_down)
    failed = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert failed.status_code == 503, failed.get_json()
    assert _events(app, browser) == [], "the song is back on the list but still counted as disliked"
    assert disliked not in app.extensions["moodtape"].sessions().preferences(_session(browser)).disliked


def test_an_undo_while_the_database_refuses_every_write_changes_nothing(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store down for removals as well as list writes: the undo fails as a whole (503), the song
    stays disliked and replaced, and the same undo once the store is back does it all."""
    browser, csrf, shown, disliked = _a_kept_dislike(app)
    store = app.extensions["moodtape"].sessions().store

    with monkeypatch.context() as outage:
        outage.setattr(store, "update_list", _store_down)
        outage.setattr(store, "remove_feedback", _store_down)
        failed = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
        assert failed.status_code == 503, failed.get_json()
    assert _events(app, browser) == [("dislike", disliked)]
    assert browser.get(f"/api/lists/{shown['list_id']}").get_json()["items"][1]["key"] != disliked
    undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert undone.status_code == 200 and _keys(undone.get_json()) == _keys(shown)
    assert _events(app, browser) == []
    assert disliked not in app.extensions["moodtape"].sessions().preferences(_session(browser)).disliked


def test_an_undo_racing_a_new_dislike_undoes_the_newest_and_keeps_the_other(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another tab dislikes row 2 just after this undo chose row 1's dislike: the undo must not pop
    row 2's step in its place, and row 1's dislike must stay kept in history (review: it was lost)."""
    browser, csrf, shown, first = _a_kept_dislike(app)
    second = shown["items"][2]["key"]
    sessions = app.extensions["moodtape"].sessions()
    forget = type(sessions).forget_kept_feedback
    raced: list[bool] = []

    def racing(self: Any, session_id: str, feedback_id: str) -> None:
        if not raced:
            raced.append(True)
            _send(browser, csrf, {"action": "dislike", "list": shown["list_id"], "position": 2, "item": second})
        forget(self, session_id, feedback_id)

    with monkeypatch.context() as race:
        race.setattr(type(sessions), "forget_kept_feedback", racing)
        undone = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["items"][2]["key"] == second, "the newest dislike is the one undone"
    assert _events(app, browser) == [("dislike", first)]
    kept = [(event.action, event.item_key) for event in sessions.store.feedback(_session(browser))]
    assert kept == [("dislike", first)], "the dislike still in the visit lost its kept copy"


def test_two_undos_at_once_undo_two_dislikes_and_keep_no_copy_of_either(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double press: the second undo chose the same dislike as the first, which then undid it
    whole. The second must go on to the next dislike, not put the first one's kept copy back."""
    browser, csrf, shown, _ = _a_kept_dislike(app)
    second = shown["items"][2]["key"]
    _send(browser, csrf, {"action": "dislike", "list": shown["list_id"], "position": 2, "item": second})
    sessions = app.extensions["moodtape"].sessions()
    forget = type(sessions).forget_kept_feedback
    pressed: list[int] = []

    def double_press(self: Any, session_id: str, feedback_id: str) -> None:
        forget(self, session_id, feedback_id)
        if not pressed:
            pressed.append(0)  # the inner undo's own call lands here too
            pressed[0] = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf).status_code

    with monkeypatch.context() as press:
        press.setattr(type(sessions), "forget_kept_feedback", double_press)
        other = browser.post(f"/api/lists/{shown['list_id']}/undo", headers=csrf)
    assert pressed == [200] and other.status_code == 200, other.get_json()
    assert _keys(other.get_json()) == _keys(shown)
    assert _events(app, browser) == []
    assert sessions.store.feedback(_session(browser)) == []


def test_a_retry_racing_the_first_dislike_on_another_process_changes_nothing(workers: WorkerFactory) -> None:
    """The retry reaches another process while the first request is still ranking the replacement."""
    first_app, second_app = workers(), workers()
    browser = first_app.test_client()
    csrf = csrf_headers(browser)
    shown = _shown(browser, csrf)
    body = {"action": "dislike", "list": shown["list_id"], "position": 2, "item": shown["items"][2]["key"]}
    engine = first_app.extensions["moodtape"].recommender()
    ranking, release = threading.Event(), threading.Event()
    real = engine.recommend

    def held(*args: Any, **kwargs: Any) -> Any:
        ranking.set()
        assert release.wait(timeout=30)
        return real(*args, **kwargs)

    engine.recommend = held
    answers: list[dict[str, Any]] = []
    first = threading.Thread(target=lambda: answers.append(_send(browser, csrf, body)))
    first.start()
    try:
        assert ranking.wait(timeout=30)
        retry = _send(same_session(second_app, browser), csrf, body)
    finally:
        release.set()
        first.join(timeout=60)
    [answer] = answers
    assert answer["replaced"] is True and answer["list"]["undo"] == 1
    final = browser.get(f"/api/lists/{shown['list_id']}").get_json()
    assert _keys(final) == _keys(answer["list"]) and final["undo"] == 1
    assert _events(first_app, browser) == [("dislike", shown["items"][2]["key"])]
    assert retry.get("already") is True and retry["replaced"] is False and _keys(retry["list"]) == _keys(shown)


# --- an undo that names the song it brings back ------------------------------------------------------


def _undo(client: FlaskClient, csrf: dict[str, str], list_id: str, item: str, status: int = 200) -> dict[str, Any]:
    reply = client.post(f"/api/lists/{list_id}/undo", json={"item": item}, headers=csrf)
    assert reply.status_code == status, reply.get_json()
    answer: dict[str, Any] = reply.get_json()
    return answer


def _two_dislikes(app: Flask) -> tuple[FlaskClient, dict[str, str], dict[str, Any], list[str]]:
    """A visitor who disliked rows 1 and then 3 of a list: client, CSRF headers, list, the two songs."""
    browser = app.test_client()
    csrf = csrf_headers(browser)
    shown = _shown(browser, csrf)
    songs = [shown["items"][row]["key"] for row in (1, 3)]
    for row, song in zip((1, 3), songs, strict=True):
        _send(browser, csrf, {"action": "dislike", "list": shown["list_id"], "position": row, "item": song})
    return browser, csrf, shown, songs


def test_a_retried_undo_naming_its_song_undoes_nothing_more(app: Flask) -> None:
    """Before: an undo named no song, so a client retrying after a lost answer undid the next dislike too."""
    browser, csrf, shown, (first, latest) = _two_dislikes(app)
    list_id = shown["list_id"]
    undone = _undo(browser, csrf, list_id, latest)
    assert undone["items"][3]["key"] == latest and undone["undo"] == 1 and "already" not in undone
    assert undone == browser.get(f"/api/lists/{list_id}").get_json(), "the answer is the list as GET gives it"

    retry = _undo(browser, csrf, list_id, latest)  # the first answer was lost: the client sends it again
    assert retry["already"] is True and retry["undo"] == 1
    assert _keys(retry) == _keys(undone), "the retry undid the other dislike"
    assert _events(app, browser) == [("dislike", first)]


def test_an_undo_naming_a_song_that_is_not_the_latest_dislike_changes_nothing(app: Flask) -> None:
    browser, csrf, shown, (first, _latest) = _two_dislikes(app)
    list_id = shown["list_id"]
    before = browser.get(f"/api/lists/{list_id}").get_json()
    for named in (first, "catalog:never-on-this-list"):  # an older dislike (another tab's view), or none
        refused = _undo(browser, csrf, list_id, named, status=409)
        assert refused["error"]["code"] == "stale_row" and "nothing was undone" in refused["error"]["message"]
    assert browser.get(f"/api/lists/{list_id}").get_json() == before
    assert len(_events(app, browser)) == 2
    bad = browser.post(f"/api/lists/{list_id}/undo", json={"item": 7}, headers=csrf)
    assert bad.status_code == 400 and "item must be non-empty text" in bad.get_json()["error"]["message"]


def test_a_retried_undo_writes_the_kept_copy_a_failed_write_left_behind(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visit's row came back but the history write failed (a 503): the kept list still showed the
    replacement until the list's next change. The retry, answered already, writes it."""
    browser, csrf, shown, disliked = _a_kept_dislike(app)
    store = app.extensions["moodtape"].sessions().store
    with monkeypatch.context() as outage:
        outage.setattr(store, "update_list", _store_down)
        failed = browser.post(f"/api/lists/{shown['list_id']}/undo", json={"item": disliked}, headers=csrf)
        assert failed.status_code == 503, failed.get_json()
    kept = store.get_list(_session(browser), shown["list_id"])
    assert kept is not None and kept.items[1]["key"] != disliked

    retry = _undo(browser, csrf, shown["list_id"], disliked)
    assert retry["already"] is True and _keys(retry) == _keys(shown)
    healed = store.get_list(_session(browser), shown["list_id"])
    assert healed is not None and [item["key"] for item in healed.items] == _keys(shown)
