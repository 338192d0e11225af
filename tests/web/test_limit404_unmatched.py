"""Requests that match no route count against the client's rate limit (session 26).

Before: Flask-Limiter passed over every request without an endpoint, so a scanner probing missing
paths (``/wp-login.php``, ``/.env``, ``/admin``...) was never refused: under
``MOODTAPE_RATE_LIMIT=2``, 60 ``GET /nope`` in a row over ``moodtape serve`` were 60 404s, and 60
``DELETE /api/config`` (a method the path does not take) 60 405s, while 60 ``GET /api/config``
were 2 answers and 58 429s. Health checks, metrics and static files that exist stay unlimited.
"""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from raw_http import first_answer, serving_raw
from webtools import AppFactory

from moodtape.web.refusals import ANSWERED_ALONE_ENDPOINT
from moodtape.web.server_wide import ENDPOINT as SERVER_WIDE_ENDPOINT

#: Paths a scanner probes, none of which moodtape has.
SCANNED = ["/wp-login.php", "/.env", "/admin", "/phpmyadmin/index.php", "/.git/config", "/nope"]


def _requests_counted(endpoint: str, status: str) -> float:
    return REGISTRY.get_sample_value("moodtape_requests_total", {"endpoint": endpoint, "status": status}) or 0.0


def _code(body: bytes) -> str:
    code: str = json.loads(body)["error"]["code"]
    return code


@pytest.fixture
def limited(make_app: AppFactory, still_limiter_clock: None) -> FlaskClient:
    """A client of an app limited to 2 requests a second, with the limiter's clock held still."""
    app: Flask = make_app(MOODTAPE_RATE_LIMIT="2")
    return app.test_client()


@pytest.mark.parametrize("path", SCANNED)
def test_a_path_with_no_route_is_refused_once_the_budget_is_spent(limited: FlaskClient, path: str) -> None:
    statuses = [limited.get(path).status_code for _ in range(4)]
    assert statuses == [404, 404, 429, 429]
    refused = limited.get(path)
    assert refused.status_code == 429 and refused.json is not None
    assert refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-Request-ID"]


def test_missing_paths_and_real_ones_share_one_budget(limited: FlaskClient) -> None:
    """A scanner cannot spend its probes on missing paths and still have its allowance elsewhere."""
    assert [limited.get(path).status_code for path in ("/wp-login.php", "/.env")] == [404, 404]
    assert limited.get("/api/config").status_code == 429


def test_a_method_the_route_does_not_take_is_counted(limited: FlaskClient) -> None:
    """A 405 is routing's refusal too (no endpoint): it counts like the 404s."""
    statuses = [limited.delete("/api/config").status_code for _ in range(3)]
    assert statuses == [405, 405, 429]


def test_health_checks_metrics_and_static_files_stay_unlimited(limited: FlaskClient) -> None:
    """The exemptions are by path, for any method: a balancer's POST to /healthz is still its 405."""
    assert [limited.get(path).status_code for path in SCANNED[:3]] == [404, 404, 429]
    for path in ("/healthz", "/readyz", "/metrics", "/static/style.css", "/static/js/app.js"):
        assert limited.get(path).status_code != 429, path
    assert limited.get("/static/no-such-file.js").status_code == 429  # only files that are there (session 27)
    assert limited.post("/healthz").status_code == 405
    assert limited.get("/nope").status_code == 429  # the budget is still spent


def test_refusals_are_counted_under_one_unmatched_endpoint_never_by_path(limited: FlaskClient) -> None:
    """Thousands of scanned paths must not become thousands of metrics series."""
    before = _requests_counted("unmatched", "429")
    paths = [f"/probe-{n}.php" for n in range(30)]
    statuses = [limited.get(path).status_code for path in paths]
    assert statuses.count(429) == 28
    assert _requests_counted("unmatched", "429") == before + 28
    endpoints = {
        sample.labels["endpoint"]
        for metric in REGISTRY.collect()
        if metric.name == "moodtape_requests"
        for sample in metric.samples
    }
    # The fixed endpoints besides the routes: the server's own refusals count under one (session 39).
    known = set(limited.application.view_functions) | {"unmatched", SERVER_WIDE_ENDPOINT, ANSWERED_ALONE_ENDPOINT}
    assert endpoints <= known


def test_options_star_keeps_its_own_endpoint_and_answer(limited: FlaskClient) -> None:
    """``OPTIONS *`` (web/server_wide.py) is still a 200, then limited, under its own endpoint."""
    before = _requests_counted(SERVER_WIDE_ENDPOINT, "429")
    star = [limited.open("*", method="OPTIONS").status_code for _ in range(3)]
    assert star == [200, 200, 429]
    assert _requests_counted(SERVER_WIDE_ENDPOINT, "429") == before + 1


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_scanner_over_the_real_server_is_refused(make_app: AppFactory) -> None:
    """The probe of the report: 60 ``GET /nope`` under a limit of 2 were 60 404s."""
    with serving_raw(make_app(MOODTAPE_RATE_LIMIT="2"), None) as target:
        answers = [
            first_answer(target, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5.0)
            for _ in range(60)
        ]
    statuses = [status for status, _, _ in answers]
    assert statuses.count(404) == 2 and statuses.count(429) == 58
    _, head, body = answers[-1]
    assert _code(body) == "rate_limited"
    assert b"\r\nretry-after: " in head.lower() and b"\r\nx-request-id: " in head.lower()
