"""The list endpoints answer with the shapes ``web/openapi.yaml`` documents.

A small checker for the parts of JSON Schema the spec uses (type, required, properties, items,
enum, const, pattern, minimum/maximum, $ref, allOf, oneOf), so a field renamed in the code or
the spec fails here rather than in the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

yaml = pytest.importorskip("yaml")

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def problems(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty when it fits)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return problems(value, spec["components"]["schemas"][name], spec, where)
    found: list[str] = []
    for part in schema.get("allOf", ()):
        found += problems(value, part, spec, where)
    if "oneOf" in schema and sum(not problems(value, part, spec, where) for part in schema["oneOf"]) != 1:
        found.append(f"{where}: not exactly one of oneOf")
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        if not any(_TYPES[name](value) for name in allowed):
            return [*found, f"{where}: {value!r} is not {allowed}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {value!r} is not {schema['const']!r}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        found += [f"{where}: {name} is missing" for name in schema.get("required", ()) if name not in value]
        for name, part in schema.get("properties", {}).items():
            if name in value:
                found += problems(value[name], part, spec, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(item, schema["items"], spec, f"{where}[{i}]")
    return found


def response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    answer = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    return schema


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(client.get("/api/openapi.yaml").get_data(as_text=True))
    return loaded


def test_the_checker_notices_a_wrong_shape(spec: dict[str, Any]) -> None:
    item = {"key": "k", "title": "t", "artist": "a", "reason": "r", "source": "s", "url": "u", "valence": 0.5}
    assert problems(item, {"$ref": "#/components/schemas/Item"}, spec) == ["$: energy is missing"]
    assert problems({**item, "energy": 2, "kind": "song"}, {"$ref": "#/components/schemas/Item"}, spec) == [
        "$.kind: 'song' not in ['track', 'video']",
        "$.energy: 2 > 1",
    ]


def test_every_list_endpoint_answers_as_documented(
    client: FlaskClient, csrf: dict[str, str], spec: dict[str, Any]
) -> None:
    def check(path: str, method: str, reply: Any) -> dict[str, Any]:
        body: dict[str, Any] = reply.get_json()
        schema = response_schema(spec, path, method, reply.status_code)
        assert problems(body, schema, spec) == [], f"{method.upper()} {path} {reply.status_code}"
        return body

    check("/api/recommendations", "get", client.get("/api/recommendations?emotion=sad&n=4&kind=videos"))
    check("/api/history/consent", "put", client.put("/api/history/consent", json={"history": True}, headers=csrf))
    shown = check("/api/lists", "post", client.post("/api/lists?emotion=sad&n=5", headers=csrf))
    check("/api/lists", "post", client.post("/api/lists?emotion=sad&n=5", headers=csrf))
    check("/api/recommendations", "get", client.get("/api/recommendations?emotion=sad&n=5"))
    list_id = shown["list_id"]
    body = {"action": "dislike", "list": list_id, "position": 1}
    check("/api/feedback", "post", client.post("/api/feedback", json=body, headers=csrf))
    check("/api/feedback", "post", client.post("/api/feedback", json={**body, "position": 9}, headers=csrf))
    check("/api/lists/{list_id}", "get", client.get(f"/api/lists/{list_id}"))
    check("/api/lists/{list_id}", "get", client.get(f"/api/lists/{'0' * 32}"))
    check("/api/lists/{list_id}/undo", "post", client.post(f"/api/lists/{list_id}/undo", headers=csrf))
    check("/api/lists/{list_id}/undo", "post", client.post(f"/api/lists/{list_id}/undo", headers=csrf))
    corrected = {"action": "not_my_mood", "detected": "sad", "corrected": "happy", "n": 3}
    check("/api/feedback", "post", client.post("/api/feedback", json=corrected, headers=csrf))
    check("/api/history", "get", client.get("/api/history"))
    check("/api/history/consent", "get", client.get("/api/history/consent"))
    check("/api/history", "delete", client.delete("/api/history", headers=csrf))
    check("/api/history", "delete", client.delete("/api/history?confirm=true", headers=csrf))


def test_the_spec_names_no_key_twice() -> None:
    """YAML keeps the last of two equal keys silently: Recommendations once declared list_id twice."""
    from pathlib import Path

    import moodtape.web

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: Strict, node: Any) -> Any:
        keys = [key.value for key, _ in node.value]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        assert not twice, f"{twice} twice at {node.start_mark}"
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    yaml.load((Path(moodtape.web.__file__).parent / "openapi.yaml").read_text(encoding="utf-8"), Loader=Strict)
