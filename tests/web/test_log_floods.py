"""Log lines a client can cause at will are summed up, not written one per request (web/logs.py).

A hostile-client probe found: 10,000 pipelined ``/healthz`` wrote 9,991 "Task queue depth is N"
warnings (waitress), three ordinary page loads 21; every request refused by the rate limit wrote
an INFO line (Flask-Limiter); and 1,770 requests carrying pairs of freely obtained signed session
cookies wrote 1,770 "one was planted?" warnings in 3.6 s, on ``/healthz``, which the rate limit
exempts. Now the first of each goes out, then one summary a minute with the count (and the deepest
queue); and ``/healthz``, ``/readyz`` and ``/metrics`` read no session at all.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from test_serve_command import _stop
from webtools import AppFactory

from moodtape.web.logs import configure_logging
from services import free_port, start_serve, wait_ready


def _flush(logger_name: str) -> None:
    """Write (and so end) whatever a summing filter on ``logger_name`` holds back."""
    for found in logging.getLogger(logger_name).filters:
        flush = getattr(found, "flush", None)
        if flush is not None:
            flush()


@pytest.fixture
def served_logging() -> Iterator[None]:
    """``configure_logging`` as ``moodtape serve`` calls it, with the test's own root handlers kept."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("text")
    root.handlers[:] = handlers  # caplog's handler, not a second copy on stderr
    yield
    root.setLevel(level)
    for name in ("waitress.queue", "flask-limiter"):  # as before: other tests see every line
        logger = logging.getLogger(name)
        for found in [f for f in logger.filters if hasattr(f, "flush")]:  # web/logs.py's OncePerInterval
            found.close()
            logger.removeFilter(found)


def _lines(caplog: pytest.LogCaptureFixture, logger: str, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and text in r.getMessage()]


def test_waitress_queue_depth_is_written_once_then_summed_up(
    served_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    from waitress.task import ThreadedTaskDispatcher

    dispatcher = ThreadedTaskDispatcher()  # no threads: every task queues, as under a pipelined flood
    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        for _ in range(1000):
            dispatcher.add_task(object())
        assert len(_lines(caplog, "waitress.queue", "queue depth")) == 1, "one line, not one per queued request"
        _flush("waitress.queue")  # what the timer does once a minute
    lines = _lines(caplog, "waitress.queue", "queue depth")
    # The first line at depth 7 (6 and less is one page load's burst, session 36): 993 more after it.
    assert len(lines) == 2 and "up to 1000" in lines[1] and "993 more" in lines[1], lines


@pytest.mark.usefixtures("still_limiter_clock")  # 40 requests in one window however long they take
def test_rate_limit_refusals_are_summed_up(
    served_logging: None, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="1").test_client()
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        codes = [client.get("/api/config").status_code for _ in range(40)]
        assert codes.count(429) >= 38
        assert len(_lines(caplog, "flask-limiter", "exceeded")) == 1, "one line, not one per refusal"
        _flush("flask-limiter")
    summary = _lines(caplog, "flask-limiter", "refused")
    assert len(summary) == 1 and f"refused {codes.count(429) - 1} more" in summary[0], summary


def _signed_cookies(app: Flask, count: int) -> list[str]:
    """``count`` validly signed session cookies, as any client gets them for free."""
    cookies = []
    for _ in range(count):
        reply = app.test_client(use_cookies=False).get("/api/config")
        cookies.append(reply.headers["Set-Cookie"].split(";")[0])
    return cookies


def test_planted_cookie_warning_is_summed_up(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(MOODTAPE_RATE_LIMIT="100000")
    cookies = _signed_cookies(app, 16)
    pairs = [(a, b) for i, a in enumerate(cookies) for b in cookies[i + 1 :]]  # 120 different pairs
    _flush("moodtape.web.session")  # a run another test began
    caplog.clear()
    client = app.test_client(use_cookies=False)
    with caplog.at_level(logging.WARNING, logger="moodtape.web.session"):
        for a, b in pairs:
            assert client.get("/api/config", headers={"Cookie": f"{a}; {b}"}).status_code == 200
        assert len(_lines(caplog, "moodtape.web.session", "different sessions")) == 1
        _flush("moodtape.web.session")
    lines = _lines(caplog, "moodtape.web.session", "different sessions")
    assert len(lines) == 2 and f"{len(pairs) - 1} more requests" in lines[1], lines


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_health_readiness_and_metrics_read_no_session(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """Exempt from the rate limit, they read cookies at any rate: now they read none, and send none."""
    app = make_app()
    a, b = _signed_cookies(app, 2)
    _flush("moodtape.web.session")
    caplog.clear()
    client = app.test_client(use_cookies=False)
    with caplog.at_level(logging.WARNING, logger="moodtape.web.session"):
        alone = client.get(path)
        planted = client.get(path, headers={"Cookie": f"{a}; {b}"})
    assert alone.status_code == planted.status_code == 200
    assert "Set-Cookie" not in alone.headers and "Set-Cookie" not in planted.headers
    assert not _lines(caplog, "moodtape.web.session", "different sessions")


def test_serve_writes_one_queue_line_for_a_pipelined_flood(tmp_path: Path) -> None:
    """The probe's attack on a real ``moodtape serve``: many pipelined requests, one thread."""
    port = free_port()
    process = start_serve(tmp_path, port, "--threads", "1")
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, 60)

        def pipeline() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" * 100)
                answered = 0
                while answered < 100 and (data := connection.recv(1 << 16)):
                    answered += data.count(b"HTTP/1.1 200")

        clients = [threading.Thread(target=pipeline) for _ in range(10)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=60)
    finally:
        stderr = _stop(process, signal.SIGTERM)
    lines = [line for line in stderr.splitlines() if "Task queue depth" in line]
    assert 1 <= len(lines) <= 2, f"{len(lines)} queue lines for 1,000 requests"
