"""The history one client address may save a day, through the API (store/write_budget.py).

Before, history was capped per session only: a client dropping its cookie got a new session each
time, and one address wrote lists into the store as fast as the rate limit let it, kept 30 days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from spectools import schema_errors
from webtools import AppFactory, csrf_headers

from moodtape.store import Store, schema
from moodtape.store.write_budget import CHOICE_BYTES, DAY_S

#: One list of 6 tracks of the tests' small catalog is about 4 KB of JSON: room for a few.
ALLOWANCE = 16_000
LIST = "/api/lists?emotion=happy&n=6&fresh=1"


def visitor(app: Flask, address: str = "198.51.100.7", **headers: str) -> tuple[FlaskClient, dict[str, str]]:
    """A new browser (no cookie yet) at ``address`` that chose to keep history."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    csrf = {**csrf_headers(client), **headers}
    reply = client.put("/api/history/consent", json={"history": True}, headers=csrf)
    assert reply.status_code == 200, reply.get_json()
    return client, csrf


def budget_app(make_app: AppFactory, tmp_path: Path, **settings: str) -> Flask:
    return make_app(store=Store(tmp_path / "budget.db", client_budget_bytes=ALLOWANCE), **settings)


def store_of(app: Flask) -> Store:
    store = app.extensions["moodtape"].recommender().store
    assert isinstance(store, Store)
    return store


def kept_list_bytes(store: Store) -> int:
    query = sa.select(schema.lists.c.document)
    return sum(len(str(row[0])) for row in store.database.read(lambda c: c.execute(query).all()))


def refused(reply: Any) -> dict[str, Any]:
    """The budget's refusal: 429, a JSON error the page shows, and Retry-After it waits for."""
    assert reply.status_code == 429, reply.get_json()
    error: dict[str, Any] = reply.get_json()["error"]
    assert error["code"] == "history_budget_spent"
    assert 1 <= int(reply.headers["Retry-After"]) <= DAY_S
    return error


def not_kept(reply: Any) -> dict[str, Any]:
    """A list made over the budget: answered and shown as usual (201), only not kept in history."""
    assert reply.status_code == 201, reply.get_json()
    answer: dict[str, Any] = reply.get_json()
    assert answer["kept"] is False and "kept again" in answer["kept_note"]
    assert schema_errors("POST", "/api/lists", reply) == [], "the answer is as documented"
    return answer


def test_new_sessions_from_one_address_stop_being_kept_at_its_budget(make_app: AppFactory, tmp_path: Path) -> None:
    app = budget_app(make_app, tmp_path)
    kept = 0
    for _ in range(20):  # a new cookie every time: the per-session cap never comes into play
        client, csrf = visitor(app)
        reply = client.post(LIST, headers=csrf)
        if "kept" in reply.get_json():
            break
        assert reply.status_code == 201
        kept += 1
    answer = not_kept(reply)
    assert answer["items"] and answer["list_id"]
    assert 0 < kept < 20
    assert kept_list_bytes(store_of(app)) <= ALLOWANCE
    # Someone at another address is kept as before.
    other, csrf = visitor(app, "203.0.113.50")
    reply = other.post(LIST, headers=csrf)
    assert reply.status_code == 201 and "kept" not in reply.get_json()


def test_a_list_over_the_budget_is_shown_for_the_visit_and_loses_nothing(make_app: AppFactory, tmp_path: Path) -> None:
    """Behind one school or office address, a script spending the day's budget must not leave everyone
    else with history on without lists: their lists are answered from the visit, only not kept."""
    app = budget_app(make_app, tmp_path)
    client, csrf = visitor(app)
    first = client.post("/api/lists?emotion=sad&n=6", headers=csrf).get_json()
    for _ in range(20):
        if "kept" in (reply := client.post(LIST, headers=csrf)).get_json():
            break
    on_screen = not_kept(reply)
    history = {entry["list_id"]: entry["kept"] for entry in client.get("/api/history").get_json()["items"]}
    assert history[first["list_id"]] is True and history[on_screen["list_id"]] is False
    again = client.post("/api/lists?emotion=happy&n=6", headers=csrf)  # the list on screen is current
    assert again.status_code == 200 and again.get_json()["list_id"] == on_screen["list_id"]
    assert client.get(f"/api/lists/{on_screen['list_id']}").get_json()["kept"] is False
    assert client.get(f"/api/export?list={on_screen['list_id']}&format=csv").status_code == 200
    assert client.get(f"/api/export?list={first['list_id']}&format=csv").status_code == 200
    # Feedback refused by the budget is not left in the visit either (a retry would count it twice).
    like = {"action": "like", "key": "k" * 400, "artist": "a" * 400, "genre": "g" * 400}
    for _ in range(20):
        if (reply := client.post("/api/feedback", json=like, headers=csrf)).status_code != 200:
            break
    refused(reply)
    store = store_of(app)
    (sid,) = _sessions(store)
    assert len(app.extensions["moodtape"].memory.get(sid).feedback) == len(store.feedback(sid))


def test_turning_history_off_works_once_the_budget_is_spent(make_app: AppFactory, tmp_path: Path) -> None:
    """The budget's refusal says to turn "Keep my history" off: that was refused with 429 too."""
    app = budget_app(make_app, tmp_path)
    client, csrf = visitor(app)
    like = {"action": "like", "key": "k" * 400, "artist": "a" * 400, "genre": "g" * 400}
    for _ in range(40):
        if (reply := client.post("/api/feedback", json=like, headers=csrf)).status_code != 200:
            break
    assert '"Keep my history" off' in refused(reply)["message"]
    off = client.put("/api/history/consent", json={"history": False}, headers=csrf)
    assert off.status_code == 200, off.get_json()
    assert client.get("/api/history/consent").get_json()["history"] is False
    assert client.post("/api/feedback", json=like, headers=csrf).status_code == 200, "off: nothing to count"


def test_not_my_mood_over_the_budget_answers_its_list_and_keeps_the_correction_whole(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """Before, the correction was stored (visit and history) and then the list's 429 said nothing changed."""
    app = budget_app(make_app, tmp_path)
    client, csrf = visitor(app)
    for _ in range(20):
        if "kept" in client.post(LIST, headers=csrf).get_json():
            break
    body = {"action": "not_my_mood", "detected": "sad", "corrected": "happy", "n": 6}
    reply = client.post("/api/feedback", json=body, headers=csrf)
    assert reply.status_code == 200, reply.get_json()
    answer = reply.get_json()["recommendations"]
    assert answer["kept"] is False and answer["items"] and answer["mood"]["emotion"] == "happy"
    store = store_of(app)
    (sid,) = _sessions(store)
    assert store.corrections(sid) == {"sad": "happy"} == dict(app.extensions["moodtape"].memory.get(sid).corrections)


def _sessions(store: Store) -> set[str]:
    query = sa.select(schema.sessions.c.id)
    return {str(row[0]) for row in store.database.read(lambda c: c.execute(query).all())}


def test_turning_history_on_with_a_visit_over_the_budget_leaves_it_off(make_app: AppFactory, tmp_path: Path) -> None:
    app = budget_app(make_app, tmp_path)
    client = app.test_client()
    csrf = csrf_headers(client)
    for emotion in ("happy", "sad", "angry", "neutral", "fear", "surprise"):  # a visit's lists, not kept yet
        assert client.post(f"/api/lists?emotion={emotion}&n=6", headers=csrf).status_code == 201
    refused(client.put("/api/history/consent", json={"history": True}, headers=csrf))
    consent = client.get("/api/history/consent").get_json()
    assert consent["history"] is None, "the switch flips back on the page: the server must agree"
    assert len(client.get("/api/history").get_json()["items"]) == 6, "the visit's lists are all still there"
    assert _sessions(store_of(app)) == set() and kept_list_bytes(store_of(app)) == 0


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(make_app: AppFactory, tmp_path: Path) -> None:
    app = budget_app(make_app, tmp_path, MOODTAPE_PROXY_HOPS="1")
    for _ in range(20):
        client, csrf = visitor(app, "10.0.0.2", **{"X-Forwarded-For": "192.0.2.10"})
        if "kept" in (reply := client.post(LIST, headers=csrf)).get_json():
            break
    not_kept(reply)
    # The proxy's own address is shared by everyone behind it: another forwarded client is kept.
    client, csrf = visitor(app, "10.0.0.2", **{"X-Forwarded-For": "192.0.2.11"})
    assert "kept" not in client.post(LIST, headers=csrf).get_json()
    # An IPv6 client picking new addresses in its /64 is still one client.
    for host in range(1, 20):
        client, csrf = visitor(app, "10.0.0.2", **{"X-Forwarded-For": f"2001:db8:1:2::{host:x}"})
        if "kept" in (reply := client.post(LIST, headers=csrf)).get_json():
            break
    not_kept(reply)
    assert host < 19


def test_the_store_keeps_no_client_address(make_app: AppFactory, tmp_path: Path) -> None:
    app = budget_app(make_app, tmp_path)
    client, csrf = visitor(app, "198.51.100.23")
    client.post(LIST, headers=csrf)
    query = sa.select(schema.write_budget.c.client, schema.write_budget.c.spent)
    rows = store_of(app).database.read(lambda c: c.execute(query).all())
    assert len(rows) == 1 and rows[0].spent > CHOICE_BYTES
    assert "198.51.100.23" not in rows[0].client and len(rows[0].client) == 32
