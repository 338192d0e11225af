"""Answers a client built from ``web/openapi.yaml`` meets are ones the spec lists, and its links lead somewhere.

Found by running Schemathesis (4.32.5) against ``moodtape serve``: its conformance checks fail on a
status an operation does not list. The spec listed no 429 for the page, the privacy and model-card
pages, ``/api/ondevice``, its profile, the model files and the spec itself, though all of them are
rate limited (only ``/healthz``, ``/readyz`` and ``/metrics`` are not); and no 503 for
``GET /api/ondevice/profile``, which is one while Redis is down for a session with a cookie. Its
stateful phase also never reached a real list: the spec had no links from ``POST /api/lists`` to
the operations that take its ``list_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from spectools import SPEC, resolve, response_contents, schema_errors
from webtools import AppFactory, csrf_headers

from moodtape.web.ratelimit import EXEMPT_PATHS
from redis_server import redis_of_its_own


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path template, operation) of the spec."""
    return [
        (method.upper(), path, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def test_every_operation_the_limit_counts_documents_its_429() -> None:
    undocumented = [
        f"{method} {path}"
        for method, path, operation in _operations()
        if path not in EXEMPT_PATHS and "429" not in operation["responses"]
    ]
    assert undocumented == []


#: The operations a client calls with no parameters it must find first (the model by its name).
PLAIN_GETS = [
    ("/", "/"),
    ("/privacy", "/privacy"),
    ("/model-card", "/model-card"),
    ("/api/ondevice", "/api/ondevice"),
    ("/api/ondevice/profile", "/api/ondevice/profile"),
    ("/ondevice/{name}.onnx", "/ondevice/emotion.onnx"),
    ("/api/openapi.yaml", "/api/openapi.yaml"),
    ("/api/config", "/api/config"),
]


@pytest.mark.parametrize(("template", "url"), PLAIN_GETS, ids=[url for _, url in PLAIN_GETS])
def test_a_rate_limited_answer_is_one_the_spec_lists(make_app: AppFactory, template: str, url: str) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="1").test_client()
    statuses = [client.get(url) for _ in range(3)]
    refused = [reply for reply in statuses if reply.status_code == 429]
    assert refused, [reply.status_code for reply in statuses]
    assert response_contents("GET", template, 429) is not None, f"GET {template} documents no 429"
    assert schema_errors("GET", template, refused[0]) == []
    assert refused[0].headers["Retry-After"].isdigit()


def test_the_profile_while_redis_is_down(make_app: AppFactory, tmp_path: Path) -> None:
    """A session with a cookie gets a documented 503; a first visit, which has no profile, its null."""
    with redis_of_its_own(tmp_path / "redis") as server:  # to stop: not the shared one
        app = make_app(MOODTAPE_REDIS_URL=server.url)
        known = app.test_client()
        csrf_headers(known)  # the session cookie
        server.stop()
        reply = known.get("/api/ondevice/profile")
        assert reply.status_code == 503 and reply.get_json()["error"]["code"] == "shared_state_unavailable"
        assert response_contents("GET", "/api/ondevice/profile", 503) is not None
        assert schema_errors("GET", "/api/ondevice/profile", reply) == []
        first_visit = app.test_client().get("/api/ondevice/profile")
        assert first_visit.status_code == 200 and first_visit.get_json() == {"profile": None}


def _links_of_a_new_list() -> dict[str, dict[str, Any]]:
    """The links the spec gives from a new list (``POST /api/lists``, 201), each resolved."""
    links = SPEC["paths"]["/api/lists"]["post"]["responses"]["201"].get("links", {})
    return {name: resolve(link) for name, link in links.items()}


def _operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    (found,) = [entry for entry in _operations() if entry[2].get("operationId") == operation_id]
    return found


def test_a_new_list_links_to_every_operation_that_takes_its_id() -> None:
    linked = {link["operationId"] for link in _links_of_a_new_list().values()}
    assert linked == {"getList", "undoDislike", "exportPlaylist"}
    assert (
        SPEC["paths"]["/api/lists"]["post"]["responses"]["200"]["links"]
        == (SPEC["paths"]["/api/lists"]["post"]["responses"]["201"]["links"])
    )


def test_following_each_link_gives_an_answer_the_spec_lists(client: FlaskClient, csrf: dict[str, str]) -> None:
    made = client.post("/api/lists?emotion=sad&n=4", headers=csrf)
    assert made.status_code == 201
    body = made.get_json()
    answers = {}
    for name, link in _links_of_a_new_list().items():
        method, template, operation = _operation(link["operationId"])
        declared = {parameter["name"]: parameter["in"] for parameter in map(resolve, operation.get("parameters", []))}
        values = {}
        for parameter, expression in link["parameters"].items():
            assert parameter in declared, f"{name}: {template} takes no {parameter}"
            assert expression.startswith("$response.body#/")
            values[parameter] = body[expression.removeprefix("$response.body#/")]
        url = template.replace("{list_id}", values.pop("list_id", "{list_id}"))
        reply = client.open(url, method=method, query_string=values, headers=csrf)
        assert schema_errors(method, template, reply) == [], (name, reply.status_code)
        assert response_contents(method, template, reply.status_code) is not None, (name, reply.status_code)
        answers[name] = reply.status_code
    # The list is there to reopen and export; it has no dislike yet to undo.
    assert answers == {"GetList": 200, "ExportList": 200, "UndoDislike": 409}
