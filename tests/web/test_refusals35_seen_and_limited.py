"""Bodies the server refuses by their head are seen and rate-limited like any request (session 35).

Before, the server answered them alone (sessions 33 and 34): a body too large, compressed, not JSON
for a small-JSON endpoint, or another site's, got its 413, 415 or 403 with no ``X-Request-ID``, no
line in the log, no count in ``/metrics``, and never a 429: a client could send such bodies without
end. Now the app answers each, without its body, after its rate limit. And another site's photo
posted to ``/api/analyze`` at once (no ``Expect``) was read and held whole for the app's 403; now it
is dropped as it comes, as the other refusals by the head are.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from tests.web.raw_http import Target, serving_raw
from tests.web.test_bodies34_length_refused import _auth, _counting_held, _everything_sent, _json_of, _request
from webtools import AppFactory

from moodtape.web.logs import RequestIdFilter
from moodtape.web.refusals import ENCODED_BODY, NOT_JSON, SMALL_JSON_TOO_LARGE

#: A body far over the small JSON bound, far under the upload limit (10 MiB).
SENT = 5_000_000
#: Over the upload limit (10 MiB and the form's 64 KiB of headroom): the server's own 413.
OVER_THE_LIMIT = 11 * 1024 * 1024
#: Each refusal by the head: method, path, its headers, the body, the endpoint it is counted under,
#: status and code. The cross-site one carries the session's cookie and token: only the site is wrong.
REFUSALS = [
    ("POST", "/api/feedback", "Content-Type: application/json\r\n", _json_of(SENT), "lists.feedback", 413),
    ("POST", "/api/feedback", "Content-Type: text/plain\r\n", b"a" * 60_000, "lists.feedback", 415),
    (
        "POST",
        "/api/analyze",
        "Content-Type: image/jpeg\r\nContent-Encoding: gzip\r\n",
        b"\x1f\x8b" * 1000,
        "api.analyze",
        415,
    ),
    (
        "POST",
        "/api/analyze",
        "Content-Type: image/jpeg\r\nSec-Fetch-Site: cross-site\r\n",
        b"a" * SENT,
        "api.analyze",
        403,
    ),
]
IDS = ["json-too-large", "not-json", "compressed", "cross-site"]


def _counted(endpoint: str, status: int) -> float:
    return REGISTRY.get_sample_value("moodtape_requests_total", {"endpoint": endpoint, "status": str(status)}) or 0.0


def _answer(data: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """The status, headers (lower-case names) and JSON body of the one answer in ``data``."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    assert len(body) == int(headers["content-length"]), data[:300]  # one answer, nothing after it
    return int(lines[0].split(" ")[1]), headers, json.loads(body)


def _refused(target: Target, auth: str, method: str, path: str, headers: str, body: bytes, extra: str = "") -> Any:
    return _answer(_everything_sent(target, _request(method, path, body, headers + auth + extra)))


@pytest.mark.parametrize(("method", "path", "headers", "body", "endpoint", "status"), REFUSALS, ids=IDS)
def test_a_refusal_by_the_head_has_a_request_id_a_log_line_and_a_count(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: str,
    body: bytes,
    endpoint: str,
    status: int,
) -> None:
    """Before: the same status, with no ``X-Request-ID``, no log line, and 0 more in ``/metrics``.
    Now the id the balancer sent comes back, one log line carries it (and neither the body nor the
    cookie or token), and the answer is counted under its endpoint and status; none of the body held."""
    caplog.handler.addFilter(RequestIdFilter())  # as configure_logging's handler adds the request id
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        auth = _auth(target.port)
        before = _counted(endpoint, status)
        with caplog.at_level(logging.INFO, logger="moodtape.web.refusals"):
            got, sent_back, shown = _refused(
                target, auth, method, path, headers, body, "X-Request-ID: probe-35-0001\r\n"
            )
    assert got == status and shown["error"]["code"] in {"too_large", "unsupported_media_type", "csrf_failed"}
    assert sent_back["x-request-id"] == "probe-35-0001" and sent_back["x-content-type-options"] == "nosniff"
    assert _counted(endpoint, status) == before + 1
    lines = [record for record in caplog.records if record.name == "moodtape.web.refusals"]
    assert len(lines) == 1 and getattr(lines[0], "request_id", None) == "probe-35-0001"
    said = lines[0].getMessage()
    assert str(status) in said and endpoint in said and method in said
    cookie = auth.partition("Cookie: ")[2].partition("\r\n")[0].partition("=")[2]
    token = auth.partition("X-CSRF-Token: ")[2].strip()
    assert cookie not in said and token not in said and path not in said and "aaaa" not in said, said
    assert held[0] == 0, held


@pytest.mark.usefixtures("still_limiter_clock")
@pytest.mark.parametrize(("method", "path", "headers", "body", "endpoint", "status"), REFUSALS, ids=IDS)
def test_refusals_by_the_head_count_toward_the_rate_limit(
    make_app: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    headers: str,
    body: bytes,
    endpoint: str,
    status: int,
) -> None:
    """Under ``MOODTAPE_RATE_LIMIT=3`` (one request spent on the session): before, 6 such bodies in a row
    were 6 refusals and the client's next request was still answered. Now 2 refusals, then the app's
    429 with ``Retry-After``, one budget with every other request; none of the bodies held."""
    with serving_raw(make_app(MOODTAPE_RATE_LIMIT="3"), None) as target, _counting_held(monkeypatch) as held:
        auth = _auth(target.port)
        answers = [_refused(target, auth, method, path, headers, body) for _ in range(6)]
        after = _answer(_everything_sent(target, b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    assert [got for got, _, _ in answers] == [status, status, 429, 429, 429, 429]
    _, limited, shown = answers[2]
    assert shown["error"]["code"] == "rate_limited" and int(limited["retry-after"]) >= 1 and "x-request-id" in limited
    assert after[0] == 429
    assert held[0] == 0, held


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_client_past_its_limit_waiting_for_continue_hears_the_429_before_its_body(make_app: AppFactory) -> None:
    """Before: the 415 at once, whatever the client had spent. Now the 429, also before ``100 Continue``."""
    with serving_raw(make_app(MOODTAPE_RATE_LIMIT="1"), None) as target:
        spent = _answer(
            _everything_sent(target, b"GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        )
        head = (
            b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"
        )
        got, headers, shown = _answer(_everything_sent(target, head))
    assert spent[0] == 200
    assert got == 429 and shown["error"]["code"] == "rate_limited" and int(headers["retry-after"]) >= 1
    assert headers["connection"].lower() == "close"  # the body was never asked for: nothing more is read


def test_a_body_over_the_upload_limit_is_seen_too(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's own 413 for a ``Content-Length`` over the upload limit: before, no ``X-Request-ID``
    and no count; now both, its body still dropped as it comes."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        before = _counted("api.analyze", 413)
        got, headers, shown = _refused(
            target, "", "POST", "/api/analyze", "Content-Type: image/jpeg\r\n", b"a" * OVER_THE_LIMIT
        )
    assert got == 413 and shown["error"]["code"] == "too_large" and len(headers["x-request-id"]) == 16
    assert _counted("api.analyze", 413) == before + 1
    assert held[0] == 0, held


@pytest.mark.parametrize(
    "site",
    [
        "Sec-Fetch-Site: cross-site\r\n",
        "Origin: https://elsewhere.example\r\n",
        "Referer: https://elsewhere.example/\r\n",
    ],
)
def test_another_sites_photo_sent_at_once_is_dropped_not_held(
    app: Flask, monkeypatch: pytest.MonkeyPatch, site: str
) -> None:
    """A page elsewhere posting a 5 MB photo to ``/api/analyze`` without ``Expect`` (as browsers send
    it): before, all 5,000,000 bytes were read and held for the app's 403; now none are held, and the
    client still reads the 403 ``csrf_failed``."""
    with serving_raw(app, None) as target, _counting_held(monkeypatch) as held:
        got, _, shown = _refused(target, "", "POST", "/api/analyze", "Content-Type: image/jpeg\r\n" + site, b"a" * SENT)
    assert got == 403 and shown["error"]["code"] == "csrf_failed", shown
    assert held[0] == 0, held


def test_the_words_are_those_the_server_said(app: Flask) -> None:
    """The app says the server's refusal as the server said it: the same status, code and words."""
    with serving_raw(app, None) as target:
        auth = _auth(target.port)
        answers = [_refused(target, auth, *refusal[:4])[2] for refusal in REFUSALS[:3]]
    assert answers == [
        {"error": {"code": "too_large", "message": SMALL_JSON_TOO_LARGE}},
        {"error": {"code": "unsupported_media_type", "message": NOT_JSON}},
        {"error": {"code": "unsupported_media_type", "message": ENCODED_BODY}},
    ]


def test_an_app_without_the_hook_still_gets_the_servers_own_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain Flask app (not moodtape's) takes no refusal from the server: its 413 comes as before."""
    plain = Flask(__name__)
    plain.config["MAX_CONTENT_LENGTH"] = 1000
    with serving_raw(plain, None) as target, _counting_held(monkeypatch) as held:
        got, headers, shown = _refused(target, "", "POST", "/", "Content-Type: text/plain\r\n", b"a" * 200_000)
    assert got == 413 and shown["error"]["code"] == "too_large" and "x-request-id" not in headers
    assert held[0] == 0, held
