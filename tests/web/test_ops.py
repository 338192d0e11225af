"""Operations: /readyz, who may read /metrics, what it counts, request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from webtools import AppFactory

from moodtape.errors import SettingsError, StoreUnavailableError
from moodtape.vision.pipeline import Analyzer
from moodtape.web.logs import JsonFormatter, RequestIdFilter, configure_logging

PUBLIC = {"REMOTE_ADDR": "203.0.113.5"}


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_readyz_says_ready_once_the_model_is_loaded(make_app: AppFactory, real_analyzer: Analyzer) -> None:
    app = make_app(analyzer=lambda: real_analyzer)  # loads on first use, like the real server
    client = app.test_client()
    waiting = client.get("/readyz")
    assert waiting.status_code == 503
    assert waiting.get_json() == {"status": "not_ready", "checks": {"model": "loading", "database": "ok"}}
    app.extensions["moodtape"].analyzer()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    assert ready.headers["Cache-Control"] == "no-store"


def test_a_database_down_leaves_the_instance_in_rotation_but_says_so(
    make_app: AppFactory, real_analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every instance shares the store: a 503 from each would take pages and photo analysis (which
    need no store) off the balancer too. Found with two instances behind HAProxy: 36 of 41 pages refused."""
    app = make_app(analyzer=lambda: real_analyzer)
    app.extensions["moodtape"].analyzer()
    store = app.extensions["moodtape"].recommender().store

    def down() -> None:
        raise StoreUnavailableError("the history store is not answering")

    monkeypatch.setattr(store, "ping", down)
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "degraded",
        "checks": {"model": "ok", "database": "the history store is not answering"},
    }
    assert client.get("/readyz?strict=true").status_code == 503
    assert client.get("/readyz?strict=1").status_code == 503
    # requests sends True as "True": a monitor must not get the lenient 200 without noticing.
    for unclear in ("True", "banana"):
        refused = client.get(f"/readyz?strict={unclear}")
        assert refused.status_code == 400 and "strict must be true or false" in refused.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("mode", "token", "environ", "headers", "allowed"),
    [
        ("local", "", {}, {}, True),
        ("local", "", PUBLIC, {}, False),
        ("open", "", PUBLIC, {}, True),
        ("off", "", {}, {}, False),
        ("local", "s3cret-metrics-token", PUBLIC, {"Authorization": "Bearer s3cret-metrics-token"}, True),
        ("local", "s3cret-metrics-token", PUBLIC, {"Authorization": "Bearer wrong"}, False),
        ("off", "s3cret-metrics-token", PUBLIC, {"Authorization": "Bearer s3cret-metrics-token"}, False),
    ],
)
def test_who_may_read_metrics(
    make_app: AppFactory, mode: str, token: str, environ: dict[str, str], headers: dict[str, str], allowed: bool
) -> None:
    client = make_app(MOODTAPE_METRICS=mode, MOODTAPE_METRICS_TOKEN=token).test_client()
    reply = client.get("/metrics", environ_base=environ, headers=headers)
    assert reply.status_code == (200 if allowed else 404)
    if allowed:
        assert reply.content_type.startswith("text/plain") and "moodtape_requests_total" in reply.text


def test_behind_a_trusted_proxy_metrics_see_the_visitors_address(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_PROXY_HOPS="1").test_client()
    # The balancer on loopback forwards a public visitor: that visitor is not local.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_an_unknown_metrics_mode_is_refused(make_app: AppFactory) -> None:
    # Checked when the settings are read (issue 10): the server refuses to start.
    with pytest.raises(SettingsError, match="MOODTAPE_METRICS='public' is not allowed: use one of: off, local, open"):
        make_app(MOODTAPE_METRICS="public")


@pytest.mark.usefixtures("still_limiter_clock")
def test_metrics_count_frames_requests_model_time_and_refusals(make_app: AppFactory, frame_640: bytes) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="3").test_client()
    before = client.get("/metrics").text
    jpeg = {"Content-Type": "image/jpeg"}
    assert client.post("/api/analyze", data=frame_640, headers=jpeg).status_code == 200
    assert client.post("/api/analyze?stream=cam", data=frame_640, headers=jpeg).status_code == 200
    # Three a second: of ten quick requests some are refused, however slow the analyses above were.
    assert any(client.get("/api/openapi.yaml").status_code == 429 for _ in range(10))
    after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("moodtape_frames_analysed_total", kind="photo") == 1
    assert grew("moodtape_frames_analysed_total", kind="stream") == 1
    assert grew("moodtape_requests_total", endpoint="api.analyze", status="200") == 2
    assert grew("moodtape_request_seconds_count", endpoint="api.analyze") == 2
    assert grew("moodtape_rate_limited_total") == 1
    assert grew("moodtape_model_seconds_count") >= 2  # one batch per picture with a face
    assert grew("moodtape_detector_seconds_count") == 2  # one search each, counted once


def test_an_analyzer_sharing_another_apps_detector_counts_each_search_once(
    make_app: AppFactory, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    """A second app whose analyzer is built around the first one's detector and model (another
    framing, another model's labels) wrapped them again: every later search counted twice in any app
    of the process. Found as /metrics failing only after tests/web/test_shared_state.py."""
    make_app()
    sharing = Analyzer(real_analyzer.detector, real_analyzer.classifier, real_analyzer.framing)
    client = make_app(analyzer=sharing).test_client()
    before = client.get("/metrics").text
    reply = client.post("/api/analyze", data=frame_640, headers={"Content-Type": "image/jpeg"})
    assert reply.status_code == 200
    after = client.get("/metrics").text
    assert _metric(after, "moodtape_detector_seconds_count") - _metric(before, "moodtape_detector_seconds_count") == 1


def test_every_answer_carries_a_request_id(app: Flask) -> None:
    client = app.test_client()
    given = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert given.headers["X-Request-ID"] == "lb-1234abcd"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"})
    assert re.fullmatch(r"[0-9a-f]{16}", made.headers["X-Request-ID"])
    assert client.get("/nowhere").headers["X-Request-ID"]  # errors too


def test_json_log_lines_carry_the_request_id(app: Flask) -> None:
    formatter, request_filter = JsonFormatter(), RequestIdFilter()
    record = logging.LogRecord("moodtape.web", logging.WARNING, __file__, 1, "slow %s", ("frame",), None)
    with app.test_request_context("/api/analyze", headers={"X-Request-ID": "req-00000001"}):
        app.preprocess_request()
        request_filter.filter(record)
    line = json.loads(formatter.format(record))
    assert line["message"] == "slow frame" and line["level"] == "warning" and line["request_id"] == "req-00000001"
    outside = logging.LogRecord("moodtape", logging.INFO, __file__, 1, "started", (), None)
    request_filter.filter(outside)
    assert "request_id" not in json.loads(formatter.format(outside))


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="MOODTAPE_LOG_FORMAT"):
        configure_logging("xml")
