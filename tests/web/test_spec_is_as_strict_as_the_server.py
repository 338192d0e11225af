"""What ``web/openapi.yaml`` calls valid, the server accepts; what the server refuses, the spec calls invalid.

Found by Schemathesis (ST202, a schema-valid request refused): the spec allowed an empty
``probabilities``, ``{"action": "like"}`` alone, a blank ``key``, ``confirm=false`` and an empty
picture, all of which the server rightly refuses; and it declared ``/api/openapi.yaml`` a string,
where a client that reads YAML gets the document (ST108). Each request here is checked both ways:
against the spec's request schema, and against the server.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from spectools import SPEC, resolve

_URI = "urn:moodtape:openapi-requests"
#: The spec as it is (open: unknown fields are allowed in requests, as the server ignores them).
_REGISTRY: Registry[Any] = Registry().with_resource(_URI, DRAFT202012.create_resource(SPEC))


def _valid(pointer: str, value: object) -> bool:
    """Whether ``value`` fits the schema at ``pointer`` (a JSON pointer into the spec)."""
    return bool(Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=_REGISTRY).is_valid(value))


FEEDBACK = "/components/schemas/Feedback"
ROW = "LIST"  # replaced by a real list id

#: (body, accepted): the schema and the server must agree on each.
FEEDBACK_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"action": "like"}, False),
    ({"action": "like", "key": "track:1"}, False),
    ({"action": "like", "key": "track:1", "artist": "Someone"}, True),
    ({"action": "like", "key": "   ", "artist": "Someone"}, False),
    ({"action": "skip", "key": "track:1", "artist": "\u3000\t"}, False),  # Unicode white space only
    ({"action": "skip", "key": "track:1", "artist": "\x1f"}, False),  # str.strip takes this too
    ({"action": "skip", "key": "track:1", "artist": " A "}, True),
    ({"action": "dislike", "key": "k", "artist": "a", "genre": "", "position": 7}, True),  # no list: ignored
    ({"action": "like", "key": "k", "artist": "a", "something": "new"}, True),  # unknown fields are ignored
    ({"action": "play", "list": ROW}, False),
    ({"action": "play", "list": ROW, "position": 0}, True),
    ({"action": "play", "list": ROW, "position": 0, "key": " "}, False),  # given, so checked
    ({"action": "like", "list": ROW, "position": 0, "item": "\u2003"}, False),  # the row's item: not blank
    ({"action": "like", "list": ROW, "position": 0, "item": None}, False),
    ({"action": "like", "key": "k", "artist": "a", "item": "k"}, True),  # no list: checked, then ignored
    ({"action": "like", "key": "k", "artist": "a", "item": "k" * 501}, False),
    ({"action": "not_my_mood"}, False),
    ({"action": "not_my_mood", "detected": "sad"}, False),
    ({"action": "not_my_mood", "detected": "sad", "corrected": "happy"}, True),
    ({"action": "not_my_mood", "detected": "sad", "corrected": "happy", "artist": ""}, False),
    ({"action": "not_my_mood", "key": "k", "artist": "a"}, False),
    ({"action": "unknown", "key": "k", "artist": "a"}, False),
]


@pytest.mark.parametrize(("body", "accepted"), FEEDBACK_CASES, ids=lambda v: str(v)[:60])
def test_feedback_bodies_are_valid_exactly_when_the_server_takes_them(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], accepted: bool
) -> None:
    if body.get("list") == ROW:
        body = {**body, "list": client.post("/api/lists?emotion=sad&n=4", headers=csrf).get_json()["list_id"]}
    assert _valid(FEEDBACK, body) is accepted
    reply = client.post("/api/feedback", json=body, headers=csrf)
    assert (reply.status_code == 200) is accepted, (reply.status_code, reply.get_json())
    if not accepted:
        assert reply.status_code == 400


def test_the_not_blank_pattern_is_pythons_white_space_exactly() -> None:
    """The server strips with ``str.strip``; the pattern must name the same characters as space."""
    schema = resolve(SPEC["components"]["schemas"]["Feedback"])
    for name in ("key", "artist", "item"):
        pattern = schema["properties"][name]["pattern"]
        validator = Draft202012Validator({"type": "string", "pattern": pattern})
        wrong = [
            hex(code)
            for code in range(sys.maxunicode + 1)
            if not 0xD800 <= code <= 0xDFFF and validator.is_valid(chr(code)) == chr(code).isspace()
        ]
        assert wrong == [], name


def _api_query_parameters() -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            for parameter in map(resolve, operation.get("parameters", [])):
                if parameter["in"] == "query" and path.startswith("/api/"):
                    found.append((method, path, parameter["name"], resolve(parameter["schema"])))
    return found


@pytest.mark.parametrize(
    ("method", "path", "name", "schema"), _api_query_parameters(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_no_api_query_parameter_may_be_empty(
    client: FlaskClient, csrf: dict[str, str], method: str, path: str, name: str, schema: dict[str, Any]
) -> None:
    """The server refuses ``name=`` on every /api/ path (``params.check_query``): the spec says so too.

    A boolean or a number is never empty as a JSON value, so only string schemas are checked.
    """
    if schema.get("type") == "string":
        assert not Draft202012Validator(schema).is_valid(""), f"{method.upper()} {path} {name}"
    reply = client.open(
        path.replace("{list_id}", "0" * 32), method=method.upper(), query_string={name: ""}, headers=csrf
    )
    assert reply.status_code == 400 and f"{name} is empty" in reply.get_json()["error"]["message"]


def test_probabilities_given_empty_is_refused_as_the_spec_says(client: FlaskClient) -> None:
    schema = resolve(SPEC["components"]["parameters"]["probabilities"])["schema"]
    assert not Draft202012Validator(schema).is_valid("")
    assert Draft202012Validator(schema).is_valid('{"sad": 1}')
    assert client.get("/api/recommendations?probabilities=").status_code == 400
    assert client.get('/api/recommendations?probabilities={"sad": 1}').status_code == 200


@pytest.mark.parametrize(("query", "body"), [("confirm=false", None), ("", {"confirm": False})])
def test_deleting_history_with_confirm_false_is_invalid_and_refused(
    client: FlaskClient, csrf: dict[str, str], query: str, body: Any
) -> None:
    operation = "/paths/~1api~1history/delete"
    parameter = next(
        resolve(p) for p in SPEC["paths"]["/api/history"]["delete"]["parameters"] if resolve(p)["name"] == "confirm"
    )
    assert not Draft202012Validator(parameter["schema"]).is_valid(False)
    assert Draft202012Validator(parameter["schema"]).is_valid(True)
    body_schema = f"{operation}/requestBody/content/application~1json/schema"
    assert not _valid(body_schema, {"confirm": False})
    assert _valid(body_schema, {"confirm": True})
    assert client.delete(f"/api/history?{query}", json=body, headers=csrf).status_code == 400


@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration"])
def test_an_empty_picture_is_invalid_and_refused(client: FlaskClient, csrf: dict[str, str], path: str) -> None:
    content = SPEC["paths"][path]["post"]["requestBody"]["content"]
    for media_type, entry in content.items():
        schema = entry["schema"]
        if media_type == "multipart/form-data":
            assert not Draft202012Validator(schema).is_valid({"image": ""})
        else:
            assert not Draft202012Validator(schema).is_valid(""), media_type
    reply = client.post(path, data=b"", content_type="image/jpeg", headers=csrf)
    assert reply.status_code == 400 and "holds no image" in reply.get_json()["error"]["message"]


def test_the_served_document_fits_the_schema_it_declares_for_itself(client: FlaskClient) -> None:
    """A client that reads the YAML (as Schemathesis does) gets an object, not a string."""
    reply = client.get("/api/openapi.yaml")
    declared = SPEC["paths"]["/api/openapi.yaml"]["get"]["responses"]["200"]["content"]
    assert reply.mimetype in declared
    document = yaml.safe_load(reply.get_data(as_text=True))
    assert Draft202012Validator(declared[reply.mimetype]["schema"]).is_valid(document)
    assert not Draft202012Validator(declared[reply.mimetype]["schema"]).is_valid(reply.get_data(as_text=True))
