"""The OpenAPI document is served, valid in shape, documents every route, and the answers match it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from spectools import SPEC, schema_errors

yaml = pytest.importorskip("yaml")

#: Flask's static-file route serves the page's assets; it is not part of the API.
UNDOCUMENTED = {"static", "delivery.versioned_static"}


def _document(client: FlaskClient) -> dict[str, object]:
    reply = client.get("/api/openapi.yaml")
    assert reply.status_code == 200 and reply.mimetype == "application/yaml"
    document = yaml.safe_load(reply.get_data(as_text=True))
    assert isinstance(document, dict)
    return document


def test_served_document_is_openapi_3_1(client: FlaskClient) -> None:
    document = _document(client)
    assert document["openapi"] == "3.1.0"
    assert {"info", "paths", "components"} <= set(document)


def test_every_route_and_method_is_documented(app: Flask, client: FlaskClient) -> None:
    paths = _document(client)["paths"]
    assert isinstance(paths, dict)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert path in paths, f"{path} is not in openapi.yaml"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {path} is not in openapi.yaml"


def test_no_key_is_given_twice(client: FlaskClient) -> None:
    """YAML keeps the last of two equal keys silently; the spec had ``list_id`` twice in one schema."""

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
            twice = {key for key in keys if keys.count(key) > 1}
            assert not twice, f"{sorted(twice)} given twice at line {node.start_mark.line + 1}"
            return super().construct_mapping(node, deep=deep)

    yaml.load(client.get("/api/openapi.yaml").get_data(as_text=True), Loader=StrictLoader)


def test_every_reference_resolves(client: FlaskClient) -> None:
    document = _document(client)
    text = yaml.safe_dump(document)
    for ref in set(re.findall(r"\$ref: '?#/([^'\s]+)", text)):
        node: object = document
        for part in ref.split("/"):
            assert isinstance(node, dict) and part in node, f"unresolved $ref #/{ref}"
            node = node[part]


def test_documented_paths_exist(app: Flask, client: FlaskClient) -> None:
    routes = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    assert set(_document(client)["paths"]) <= routes  # type: ignore[arg-type]


class _Tour:
    """Sends requests, asserts each succeeds with the spec's schema, and remembers the operations."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, method: str, template: str, url: str, **kwargs: Any) -> Any:
        reply = self.client.open(url, method=method, **kwargs)
        mismatches = schema_errors(method, template, reply)
        assert reply.status_code < 300 and not mismatches, (method, url, reply.status_code, mismatches)
        self.seen.add((method, template))
        return reply.get_json(silent=True)


def test_a_tour_of_every_success_answer_matches_the_spec(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    """One visit through every operation with valid input: each answer is its documented schema.

    The fuzz test mostly reaches error answers; this reaches the successful ones (faces, lists,
    feedback with a replaced row, not-my-mood, history, consent, calibration, exports).
    """
    check = _Tour(client)
    for path in ("/", "/privacy", "/model-card", "/healthz", "/readyz", "/api/config", "/api/openapi.yaml"):
        check("GET", path, path)
    analysis = check("POST", "/api/analyze", "/api/analyze?stream=cam1", data=frame_640, content_type="image/jpeg")
    assert analysis["faces"], "the tour needs a face so that the Face schema is checked"
    check("GET", "/api/recommendations", "/api/recommendations?emotion=sad&n=5")
    check("GET", "/api/recommendations", '/api/recommendations?probabilities={"happy":0.6,"sad":0.4}&kind=videos')
    check("PUT", "/api/history/consent", "/api/history/consent", json={"history": True}, headers=csrf)
    shown = check("POST", "/api/lists", "/api/lists?valence=0.3&arousal=-0.2&n=4", headers=csrf)
    check("POST", "/api/lists", "/api/lists?valence=0.3&arousal=-0.2&n=4", headers=csrf)
    list_id = shown["list_id"]
    check("GET", "/api/lists/{list_id}", f"/api/lists/{list_id}")
    for action in ("like", "play", "skip", "dislike"):
        body = {"action": action, "list": list_id, "position": 1}
        check("POST", "/api/feedback", "/api/feedback", json=body, headers=csrf)
    check(
        "POST",
        "/api/feedback",
        "/api/feedback",
        json={"action": "like", "key": shown["items"][0]["key"], "artist": "A"},
        headers=csrf,
    )
    mood = {"action": "not_my_mood", "detected": "sad", "corrected": "happy", "n": 3}
    check("POST", "/api/feedback", "/api/feedback", json=mood, headers=csrf)
    check("POST", "/api/lists/{list_id}/undo", f"/api/lists/{list_id}/undo", headers=csrf)
    for export_format in ("m3u8", "xspf", "csv"):
        check("GET", "/api/export", f"/api/export?list={list_id}&format={export_format}")
    check("GET", "/api/history", "/api/history")
    check("GET", "/api/history/consent", "/api/history/consent")
    check("GET", "/api/calibration", "/api/calibration")
    check("POST", "/api/calibration", "/api/calibration", data=frame_640, content_type="image/jpeg", headers=csrf)
    check("POST", "/api/analyze", "/api/analyze", data=frame_640, content_type="image/jpeg")
    profile = check("GET", "/api/ondevice/profile", "/api/ondevice/profile")
    assert profile["profile"] is not None, "the tour needs a profile so that its schema is checked"
    models = check("GET", "/api/ondevice", "/api/ondevice")["models"]
    check("GET", "/ondevice/{name}.onnx", models["emotion"])
    check("DELETE", "/api/calibration", "/api/calibration", headers=csrf)
    check("DELETE", "/api/history", "/api/history?confirm=true", headers=csrf)
    check("GET", "/metrics", "/metrics")
    operations = {(m.upper(), p) for p, item in SPEC["paths"].items() for m in item if m != "parameters"}
    assert operations - check.seen == set()


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "expected"),
    [
        ("GET", "/api/history", 200, {"items": [], "history": "yes"}, "history: 'yes' is not of type"),
        ("POST", "/api/lists", 201, {"items": [], "kind": "tracks"}, "'undo' is a required property"),
        ("GET", "/api/config", 404, {"error": {"code": 1, "message": "m"}}, "error/code: 1 is not of type"),
        ("GET", "/api/config", 204, {}, "204 is not documented"),
        (
            "GET",
            "/api/history/consent",
            200,
            {"history": None, "retention_days": 30, "max_lists": 5, "x": 1},
            "'x' was",
        ),
    ],
)
def test_the_schema_check_refuses_what_breaks_the_spec(
    method: str, path: str, status: int, body: object, expected: str
) -> None:
    reply = Response(json.dumps(body), status=status, mimetype="application/json")
    assert any(expected in error for error in schema_errors(method, path, reply))
