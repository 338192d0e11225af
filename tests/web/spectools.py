"""Checking answers against ``web/openapi.yaml`` (imported by name: the tests folders are not packages).

The spec is OpenAPI 3.1, whose schemas are JSON Schema Draft 2020-12, so ``jsonschema`` validates them
as they are. The whole document is registered as one resource; a response's schema is reached by a
JSON pointer into it, so the ``$ref``s inside (``#/components/...``) resolve against the document.

The check is closed-world: an object schema with ``properties`` (and no ``additionalProperties``)
gets ``unevaluatedProperties: false`` in the copy used here, so a field the code sends and the spec
does not document is a mismatch too. Schemas that are branches of an ``allOf`` stay open (each
branch sees only its own properties); the ``allOf`` holder is closed instead.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.wrappers import Response

SPEC: dict[str, Any] = yaml.safe_load(
    resources.files("moodtape.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
)
_URI = "urn:moodtape:openapi"


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with its ``$ref`` (a pointer into the spec, ``#/components/...``) followed, repeatedly."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _all_of_branches(node: Any, found: set[int], document: dict[str, Any]) -> None:
    """Collect (by ``id``) every schema that is a branch of an ``allOf``, following ``$ref`` branches."""
    if isinstance(node, dict):
        for branch in node.get("allOf", []):
            target = branch
            if "$ref" in branch:
                target = document
                for part in branch["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
            found.add(id(target))
        for value in node.values():
            _all_of_branches(value, found, document)
    elif isinstance(node, list):
        for value in node:
            _all_of_branches(value, found, document)


def _closed(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose object schemas refuse properties they do not document."""
    document = copy.deepcopy(document)
    branches: set[int] = set()
    _all_of_branches(document, branches, document)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            documented = "properties" in node or "allOf" in node
            if documented and "additionalProperties" not in node and id(node) not in branches:
                node["unevaluatedProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(document["components"]["schemas"])
    close(document["paths"])
    return document


_REGISTRY: Registry[Any] = Registry().with_resource(_URI, DRAFT202012.create_resource(_closed(SPEC)))
#: Where every route's errors are described when the operation does not list that status.
_ERROR_SCHEMA = "/components/schemas/Error"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _follow(pointer: str) -> tuple[str, Any]:
    """The node at ``pointer``, following ``$ref``s, and the pointer it was found at."""
    node: Any = SPEC
    for part in pointer.strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = SPEC
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return pointer, node


def response_contents(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The media types the spec gives for that answer, or None when it does not document that status."""
    responses = SPEC["paths"][path][method.lower()].get("responses", {})
    if str(status) not in responses:
        return None
    _, response = _follow(f"/paths/{_escape(path)}/{method.lower()}/responses/{status}")
    contents: dict[str, Any] = response.get("content", {})
    return contents


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    """One validator per schema, kept: the registry caches the references it has resolved."""
    return Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=_REGISTRY)


def schema_errors(method: str, path: str, reply: Response) -> list[str]:
    """Why ``reply`` does not match the spec's answer for ``method path`` and its status (empty: it does).

    ``path`` is the spec's template (``/api/lists/{list_id}``). A status the operation does not list
    (one of the errors every route may give) must still be the spec's ``Error`` shape.
    """
    contents = response_contents(method, path, reply.status_code)
    if contents is None:
        if reply.status_code < 400:
            return [f"{reply.status_code} is not documented for {method} {path}"]
        pointer = _ERROR_SCHEMA
    elif not contents:
        return []  # documented without a body (e.g. the metrics 404)
    elif reply.mimetype not in contents:
        return [f"{reply.mimetype} is not one of {sorted(contents)} for {reply.status_code} {method} {path}"]
    elif reply.mimetype != "application/json" or "schema" not in contents[reply.mimetype]:
        return []  # pages, YAML, playlists: only the media type is checked
    else:
        response_pointer, _ = _follow(f"/paths/{_escape(path)}/{method.lower()}/responses/{reply.status_code}")
        pointer = f"{response_pointer}/content/application~1json/schema"
    body = reply.get_json(silent=True)
    if body is None:
        return [f"not JSON: {reply.get_data()[:200]!r}"]
    validator = _validator(pointer)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in validator.iter_errors(body)
    ]
