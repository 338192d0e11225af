"""The OpenAPI document is served, valid in shape, and documents every route of the app."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

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
