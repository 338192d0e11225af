"""Security headers, CSRF, rate limiting, JSON errors, and keys that never leave the server."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory

from moodtape.recommender.engine import Recommender
from moodtape.store import Store
from moodtape.web.lru import BoundedLRU
from moodtape.web.ratelimit import limit_text, retry_after_header
from moodtape.web.security import SECURITY_HEADERS, RedactSecrets

SPOTIFY_SECRET = "spotify-secret-d41d8cd98f00b204"
YOUTUBE_KEY = "AIzaFakeYoutubeKey0123456789abcdef"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api/config"),
        ("GET", "/api/nothing-here"),
        ("POST", "/api/feedback"),
        ("GET", "/api/recommendations?emotion=nope"),
        ("PUT", "/api/history"),
    ],
)
def test_security_headers_on_every_response(client: FlaskClient, method: str, path: str) -> None:
    reply = client.open(path, method=method)
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers[name] == value
    csp = reply.headers["Content-Security-Policy"]
    assert (
        "script-src 'self' 'wasm-unsafe-eval';" in csp
        and "unsafe-inline" not in csp
        and "frame-ancestors 'none'" in csp
    )
    assert reply.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_httponly_and_lax(client: FlaskClient) -> None:
    cookie = client.get("/api/config").headers["Set-Cookie"]  # /healthz sends none (test_log_floods.py)
    assert cookie.startswith("moodtape_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Set-Cookie" not in client.get("/api/config").headers  # sent once, then reused


def test_404_and_405_are_json(client: FlaskClient) -> None:
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.put("/api/history")
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert {"GET", "DELETE"} <= set(wrong.headers["Allow"].replace(" ", "").split(","))


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/feedback"), ("DELETE", "/api/history")])
def test_state_changes_need_the_csrf_token(client: FlaskClient, method: str, path: str) -> None:
    body = {"action": "like", "key": "k", "artist": "a", "confirm": True}
    token = client.get("/api/config").get_json()["csrf_token"]
    others = ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": "\u00fc" * 64}, {"X-CSRF-Token": token + "\u00e9"})
    for headers in (*others, {"X-CSRF-Token": token, "Origin": "https://evil.example"}):
        reply = client.open(path, method=method, json=body, headers=headers)
        assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "csrf_failed"
    good = {"X-CSRF-Token": token, "Origin": "http://localhost"}
    assert client.open(path, method=method, json=body, headers=good).status_code == 200


def test_the_refusal_tells_an_api_client_how_to_get_a_token(app: Flask) -> None:
    """A script (curl, another service) that has never loaded the page: following the 403's words
    (the token from GET /api/config, with the cookie that answer sets) makes the call work."""
    with app.test_client() as script:
        refused = script.post("/api/lists?emotion=happy")
        message = refused.get_json()["error"]["message"]
        assert refused.status_code == 403 and "GET /api/config" in message and "cookie" in message
        token = script.get("/api/config").get_json()["csrf_token"]
        assert script.post("/api/lists?emotion=happy", headers={"X-CSRF-Token": token}).status_code in (
            200,
            201,
        )


def test_a_token_belongs_to_its_session(app: Flask) -> None:
    with app.test_client() as alice, app.test_client() as mallory:
        alice_token = alice.get("/api/config").get_json()["csrf_token"]
        mallory.get("/api/config")
        reply = mallory.delete("/api/history", headers={"X-CSRF-Token": alice_token})
        assert reply.status_code == 403


def test_analysis_and_lists_need_no_token(client: FlaskClient, frame_640: bytes) -> None:
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg").status_code == 200
    assert client.get("/api/recommendations?emotion=sad").status_code == 200


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_flood_gets_429_with_retry_after(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="5").test_client()
    statuses = [client.get("/api/openapi.yaml").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    reply = client.get("/api/config")
    assert reply.get_json()["error"]["code"] == "rate_limited"
    assert int(reply.headers["Retry-After"]) >= 1
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    # Another address has its own budget; health checks are never limited (balancers poll them).
    assert client.get("/api/openapi.yaml", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_page_load_of_static_files_is_not_counted(make_app: AppFactory) -> None:
    # One visit loads about 30 versioned static files at once; a limit of 5 a second must not refuse them.
    client = make_app(MOODTAPE_RATE_LIMIT="5").test_client()
    page = client.get("/").get_data(as_text=True)
    static = sorted(set(re.findall(r'(/static/[^"\'?#]+)', page)))
    assert len(static) > 5
    assert all(client.get(path).status_code == 200 for path in static * 2)
    # The page itself counted once, so four API calls fit and the fifth is refused.
    assert [client.get("/api/openapi.yaml").status_code for _ in range(5)] == [200] * 4 + [429]


@pytest.mark.usefixtures("still_limiter_clock")
def test_proxy_hops_take_the_client_address_from_x_forwarded_for(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="2", MOODTAPE_PROXY_HOPS="1").test_client()
    path = "/api/openapi.yaml"
    for _ in range(2):
        assert client.get(path, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert client.get(path, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert client.get(path, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_spoofed_forwarding_header_is_ignored_without_proxy_hops(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="2").test_client()
    statuses = [
        client.get("/api/openapi.yaml", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)
    ]
    assert statuses == [200, 200, 429]  # every request counts against the socket's address


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_spoofed_extra_hop_does_not_reset_the_limit(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="2", MOODTAPE_PROXY_HOPS="1").test_client()
    # The trusted proxy appends the real client (203.0.113.9) after whatever the client sent.
    statuses = [
        client.get("/api/openapi.yaml", headers={"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.9"}).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    ("rate", "text"),
    [(200, "200 per 1 second"), (2.4, "2 per 1 second"), (0.5, "1 per 2 second"), (0.3, "1 per 4 second")],
)
def test_limit_text(rate: float, text: str) -> None:
    assert limit_text(rate) == text


def test_retry_after_is_whole_seconds_never_zero() -> None:
    assert [retry_after_header(w) for w in (0.0, 0.1, 1.0, 1.2)] == ["1", "1", "1", "2"]


def test_a_zero_rate_turns_the_limit_off(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="0").test_client()
    assert all(client.get("/api/openapi.yaml").status_code == 200 for _ in range(50))


def test_bounded_lru_evicts_least_recent_and_idle() -> None:
    now = [0.0]
    cache: BoundedLRU[str, int] = BoundedLRU(2, max_idle=10, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1
    now[0] = 11
    assert cache.get("c") is None  # unused for 11 s
    assert len(cache) == 0 or cache.get("a") is None


def test_unexpected_errors_are_a_generic_500_logged_server_side(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Recommender):
        def recommend(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret internals at 0xdeadbeef")

    app = make_app(recommender=Broken([], Store()))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    with caplog.at_level(logging.ERROR):
        reply = app.test_client().get("/api/recommendations?emotion=sad")
    assert reply.status_code == 500
    assert reply.get_json()["error"]["code"] == "internal_error"
    assert "deadbeef" not in reply.get_data(as_text=True)
    assert "deadbeef" in caplog.text  # the traceback is in the server log


def _every_endpoint(client: FlaskClient, frame: bytes) -> list[Any]:
    token = client.get("/api/config").get_json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    return [
        client.get("/healthz"),
        client.get("/api/config"),
        client.get("/api/openapi.yaml"),
        client.post("/api/analyze?stream=s1", data=frame, content_type="image/jpeg"),
        client.post("/api/analyze", data=b"junk", content_type="image/jpeg"),
        client.get("/api/recommendations?emotion=sad&n=3"),
        client.get("/api/recommendations?emotion=bad"),
        client.get("/api/export?format=csv&emotion=sad&n=3"),
        client.post("/api/feedback", json={"action": "like", "key": "k", "artist": "a"}, headers=headers),
        client.post("/api/feedback", json={"action": "like"}),
        client.get("/api/history"),
        client.delete("/api/history", headers=headers),
        client.get("/api/missing"),
    ]


def test_keys_never_reach_responses_or_logs(
    make_app: AppFactory, frame_640: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        SPOTIFY_CLIENT_ID="spotify-client-id-0001",
        SPOTIFY_CLIENT_SECRET=SPOTIFY_SECRET,
        YOUTUBE_API_KEY=YOUTUBE_KEY,
        MOODTAPE_SECRET_KEY="flask-secret-key-abcdef123456",
    )
    secrets = ("spotify-client-id-0001", SPOTIFY_SECRET, YOUTUBE_KEY, "flask-secret-key-abcdef123456")
    with caplog.at_level(logging.DEBUG):
        app.logger.error("provider said: bad key %s", YOUTUBE_KEY)  # even a careless log line is redacted
        replies = _every_endpoint(app.test_client(), frame_640)
    assert {reply.status_code for reply in replies} >= {200, 400, 403, 404, 415}
    for reply in replies:
        text = reply.get_data(as_text=True) + str(reply.headers)
        assert not any(secret in text for secret in secrets), reply.request.path
    assert YOUTUBE_KEY not in caplog.text and "[redacted]" in caplog.text


def test_redaction_covers_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise ValueError(f"key={YOUTUBE_KEY}")
    except ValueError as error:
        record.exc_info = (ValueError, error, error.__traceback__)
    RedactSecrets([YOUTUBE_KEY]).filter(record)
    assert YOUTUBE_KEY not in logging.Formatter().format(record)
