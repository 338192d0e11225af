"""Boolean query parameters (``confirm``, ``fresh``, ``strict``) are read alike, and a refusal says how.

``true``/``1`` and ``false``/``0`` are taken, in lower case; ``TRUE``, ``True``, ``yes``, ``on`` are
a 400. Before session 39 its message said only "must be true or false", so ``1`` and ``0`` (taken)
were nowhere said, nor that case matters.
"""

from __future__ import annotations

import pytest
from flask import Flask
from webtools import AppFactory, csrf_headers


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


REFUSED = ("TRUE", "True", "yes", "on", "2", "t")


@pytest.mark.parametrize("raw", REFUSED)
def test_each_boolean_query_parameter_refuses_other_spellings_alike(app: Flask, raw: str) -> None:
    client = app.test_client()
    csrf = csrf_headers(client)
    answers = {
        "confirm": client.delete(f"/api/history?confirm={raw}", headers=csrf),
        "fresh": client.post(f"/api/lists?emotion=sad&n=3&fresh={raw}", headers=csrf),
        "strict": client.get(f"/readyz?strict={raw}"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 400, (name, answer.get_json())
        message = answer.get_json()["error"]["message"]
        assert message.startswith(f"{name} must be true or false (or 1 or 0), in lower case; got "), message


@pytest.mark.parametrize(("raw", "deletes"), [("true", True), ("1", True), ("false", False), ("0", False)])
def test_confirm_takes_true_and_1_and_refuses_false_and_0(app: Flask, raw: str, deletes: bool) -> None:
    client = app.test_client()
    csrf = csrf_headers(client)
    assert client.post("/api/lists?emotion=sad&n=3", headers=csrf).status_code == 201
    answer = client.delete(f"/api/history?confirm={raw}", headers=csrf)
    if deletes:
        assert answer.status_code == 200 and answer.get_json()["deleted"] == 1
    else:
        assert answer.status_code == 400
        assert answer.get_json()["error"]["message"].startswith("deleting cannot be undone: send confirm=true")
