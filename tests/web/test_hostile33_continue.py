"""Bodies the app would refuse unread are refused before ``100 Continue`` (session 33).

Before, a client waiting for ``100 Continue`` was told to go on and sent everything: 5 MB of JSON
to ``/api/feedback`` for its 413 "at most 64 KiB", a gzipped body for its 415.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.web.raw_http import Target, serving_raw

from moodtape.web.refusals import NOT_JSON, SMALL_JSON_BYTES, SMALL_JSON_ENDPOINTS, SMALL_JSON_TOO_LARGE, unwanted_body

#: A route of each endpoint whose body is a small JSON object, with its method.
SMALL_JSON_ROUTES = [
    ("POST", "/api/feedback"),
    ("POST", "/api/lists/" + "0" * 32 + "/undo"),
    ("DELETE", "/api/history"),
    ("PUT", "/api/history/consent"),
]
#: A body sent, its Content-Type and its Content-Encoding ("": none).
Sent = tuple[bytes, str, str]
#: The app's status, error code and message.
Answer = tuple[int, str | None, str | None]
#: A route's argument (``<list_id>``, ``<path:filename>``), filled in to reach the route in the tying test.
ROUTE_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")
#: Values for arguments that need one of a form (any other is ``a``).
ROUTE_ARGUMENTS = {"list_id": "0" * 32}


def _expecting(method: str, path: str, headers: bytes, length: int) -> bytes:
    """A request's head asking for ``100 Continue`` before its body of ``length`` bytes."""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n".encode()
        + headers
        + b"Expect: 100-continue\r\n\r\n"
    )


def _first_answer(target: Target, request: bytes) -> tuple[bytes, dict[str, str] | None]:
    """The head of what the server sends first to ``request`` (no body sent), and the JSON error it
    carries when that is a final answer (None for ``100 Continue``)."""
    with target.connect(10.0) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data and (more := sock.recv(65536)):
            data += more
        head = data.partition(b"\r\n\r\n")[0]
        if head.startswith(b"HTTP/1.1 100"):
            return head, None
        while more := sock.recv(65536):
            data += more
    error: dict[str, str] = json.loads(data.partition(b"\r\n\r\n")[2])["error"]
    return head, error


@pytest.mark.parametrize(("method", "path"), SMALL_JSON_ROUTES)
def test_a_json_body_over_its_bound_is_refused_before_it_is_asked_for(app: Flask, method: str, path: str) -> None:
    """Before: ``100 Continue``, then the whole body, then the app's 413."""
    request = _expecting(method, path, b"Content-Type: application/json\r\n", 5_000_000)
    with serving_raw(app, None) as target:
        head, error = _first_answer(target, request)
    assert head.startswith(b"HTTP/1.1 413 "), head[:60]
    assert error == {
        "code": "too_large",
        "message": f"the JSON body is too large (at most {SMALL_JSON_BYTES // 1024} KiB)",
    }


def test_a_body_that_is_no_json_is_refused_before_it_is_asked_for(app: Flask) -> None:
    request = _expecting("POST", "/api/feedback", b"Content-Type: text/plain\r\n", 2000)
    with serving_raw(app, None) as target:
        head, error = _first_answer(target, request)
    assert head.startswith(b"HTTP/1.1 415 "), head[:60]
    assert error is not None and error["code"] == "unsupported_media_type" and "application/json" in error["message"]


def test_a_compressed_picture_is_refused_before_it_is_asked_for(app: Flask) -> None:
    request = _expecting("POST", "/api/analyze", b"Content-Type: image/jpeg\r\nContent-Encoding: gzip\r\n", 5_000_000)
    with serving_raw(app, None) as target:
        head, error = _first_answer(target, request)
    assert head.startswith(b"HTTP/1.1 415 "), head[:60]
    assert error is not None and error["code"] == "unsupported_media_type" and "gzip" not in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "headers", "length"),
    [
        ("POST", "/api/analyze", b"Content-Type: image/jpeg\r\n", 5_000_000),  # a picture may be that large
        ("POST", "/api/feedback", b"Content-Type: application/json\r\n", SMALL_JSON_BYTES),  # at the bound
        ("POST", "/api/feedback", b"Content-Type: application/merge-patch+json\r\n", 100),  # JSON all the same
        ("POST", "/api/analyze", b"Content-Type: image/jpeg\r\nContent-Encoding: identity\r\n", 5_000_000),
        ("POST", "/api/%66eedback", b"Content-Type: text/plain\r\n", 5_000_000),  # escaped: the app's to route
        ("POST", "/api/nowhere", b"Content-Type: text/plain\r\n", 5_000_000),  # no route: the app's 404 says so
        # Flask answers OPTIONS on every route with Allow (200), the body unread: before, the server's 413/415.
        ("OPTIONS", "/api/feedback", b"Content-Type: application/json\r\n", SMALL_JSON_BYTES + 1),
        ("OPTIONS", "/api/feedback", b"Content-Type: text/plain\r\n", 100),
    ],
    ids=["picture", "json-at-bound", "plus-json", "identity", "escaped-path", "no-route", "options", "options-text"],
)
def test_a_body_the_app_may_want_is_still_asked_for(
    app: Flask, method: str, path: str, headers: bytes, length: int
) -> None:
    with serving_raw(app, None) as target:
        head, error = _first_answer(target, _expecting(method, path, headers, length))
    assert head.startswith(b"HTTP/1.1 100 Continue"), (head[:60], error)


def test_a_compressed_body_is_refused_before_it_is_asked_for_whatever_the_method(app: Flask) -> None:
    """The app refuses a Content-Encoding before routing's OPTIONS answer too: so does the server."""
    request = _expecting("OPTIONS", "/api/feedback", b"Content-Type: application/json\r\nContent-Encoding: br\r\n", 100)
    with serving_raw(app, None) as target:
        head, error = _first_answer(target, request)
    assert head.startswith(b"HTTP/1.1 415 "), head[:60]
    assert error is not None and error["code"] == "unsupported_media_type"


def _app_answer(client: FlaskClient, method: str, path: str, sent: Sent, headers: dict[str, str]) -> Answer:
    """The app's status, error code and message (None for each not in the answer) for ``sent``."""
    body, content_type, coding = sent
    coded = {"Content-Encoding": coding} if coding else {}
    answer = client.open(path, method=method, data=body, content_type=content_type, headers=headers | coded)
    shown = answer.get_json(silent=True) if answer.is_json else None
    error = shown.get("error", {}) if isinstance(shown, dict) else {}
    return answer.status_code, error.get("code"), error.get("message")


def test_the_server_refuses_unread_just_what_the_app_refuses(app: Flask, client: FlaskClient) -> None:
    """The server's rule (:func:`unwanted_body`) agrees with the app on every route and method, ``OPTIONS``
    and ``HEAD`` included: where it refuses a JSON body one byte over :data:`SMALL_JSON_BYTES`, or a
    text body, the app answers the same status, code and message (a ``HEAD`` answer: the status);
    where it does not, the app does not answer with that refusal; and the endpoints it refuses large
    JSON for are :data:`SMALL_JSON_ENDPOINTS`. A compressed body is refused by both with the same
    status and code (the app's message names the coding, the server's does not)."""
    token = {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}
    too_large = b'{"a": "' + b"x" * (SMALL_JSON_BYTES - 8) + b'"}'
    assert len(too_large) == SMALL_JSON_BYTES + 1
    kinds: list[Sent] = [(too_large, "application/json", ""), (b"x", "text/plain", ""), (b"x", "text/plain", "gzip")]
    refused_large: set[str] = set()
    for rule in app.url_map.iter_rules():
        path = ROUTE_ARGUMENT.sub(lambda argument: ROUTE_ARGUMENTS.get(argument[1], "a"), rule.rule)
        own_method = min(set(rule.methods or ()) - {"HEAD", "OPTIONS"})  # OPTIONS, HEAD may route to a sibling
        assert app.url_map.bind("localhost").match(path, own_method)[0] == rule.endpoint, rule.rule
        for method in sorted(rule.methods or ()):
            for sent in kinds:
                body, content_type, coding = sent
                headers = {"CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": content_type, "CONTENT_ENCODING": coding}
                said = unwanted_body(app, method, path, headers)
                got = _app_answer(client, method, path, sent, token)
                where = (method, path, content_type, coding, got)
                if said is None:
                    assert got[0] not in (413, 415) or got[2] not in (SMALL_JSON_TOO_LARGE, NOT_JSON), where
                    assert got[0] != 415 or not coding, where
                    continue
                compared = 1 if method == "HEAD" else 2 if coding else 3
                assert got[:compared] == tuple(said)[:compared], where
                if body is too_large and not coding:
                    refused_large.add(rule.endpoint)
    assert refused_large == SMALL_JSON_ENDPOINTS
