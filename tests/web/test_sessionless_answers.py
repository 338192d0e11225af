"""Answers that begin no session: a cookieless OPTIONS, 404 or 405 gets no cookie; OPTIONS is empty and untyped."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/no-such-endpoint", 404),
        ("DELETE", "/", 405),
        ("PUT", "/api/analyze", 405),
        ("OPTIONS", "/api/analyze", 200),
        ("OPTIONS", "/", 200),
    ],
)
def test_cookieless_probe_begins_no_session(app: Flask, method: str, path: str, status: int) -> None:
    # A fresh client per probe: a scanner sends no cookie, and would have collected one per path.
    reply = app.test_client().open(path, method=method)
    assert reply.status_code == status
    assert "Set-Cookie" not in reply.headers


def test_options_says_what_is_allowed_with_an_empty_answer(app: Flask) -> None:
    reply = app.test_client().options("/api/analyze")
    assert reply.status_code == 200 and reply.headers["Content-Length"] == "0"
    assert set(reply.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert reply.data == b"" and "Content-Type" not in reply.headers


def test_a_page_still_begins_a_session(app: Flask) -> None:
    client = app.test_client()
    assert "Set-Cookie" in client.get("/").headers
    # and a visitor who has one keeps it through a 404: nothing is re-sent, nothing is lost
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Set-Cookie" not in missing.headers
    assert client.get_cookie("moodtape_session") is not None
