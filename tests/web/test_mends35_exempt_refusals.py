"""Refusals by the head on the rate limit's exempt paths are limited and summed up (session 35 mend).

``/healthz``, ``/readyz``, ``/metrics`` and the static files are exempt from the limit for every
method. A request with a ``Content-Length`` over the upload limit to one of them is refused by the
HTTP server by its head and answered by the app (web/refusals.py): before this mend, a 413 every
time, never a 429, and an INFO line each (one client, 3 s: 1,858 refusals of ``POST /healthz``,
1,858 lines), a line ``configure_logging`` did not sum up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from tests.web.raw_http import Target, serving_raw
from webtools import AppFactory

from moodtape.web.logs import configure_logging

#: Over the upload limit (10 MiB and the form's 64 KiB of headroom): refused by the server's head.
OVER_THE_LIMIT = 20_000_000
#: Method and path: a static file is exempt by its name when asked for with GET.
EXEMPT = [("POST", "/healthz"), ("POST", "/readyz"), ("POST", "/metrics"), ("GET", "/static/style.css")]


def _status_waiting(target: Target, method: str, path: str) -> int:
    """The status of the answer to a head announcing a body over the upload limit (none is sent)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {OVER_THE_LIMIT}\r\n"
    with target.connect(30.0) as sock:
        sock.sendall(head.encode() + b"Expect: 100-continue\r\n\r\n")
        data = b""
        while more := sock.recv(65536):
            data += more
    return int(data.split(b" ", 2)[1])


@pytest.fixture
def served_logging() -> Iterator[None]:
    """``configure_logging`` as ``moodtape serve`` calls it, with the test's own root handlers kept
    (tests/conftest.py takes its summing filters off again)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("text")
    root.handlers[:] = handlers
    yield
    root.setLevel(level)


@pytest.mark.usefixtures("still_limiter_clock")
@pytest.mark.parametrize(("method", "path"), EXEMPT)
def test_a_refusal_by_the_head_counts_on_an_exempt_path(make_app: AppFactory, method: str, path: str) -> None:
    """Under ``MOODTAPE_RATE_LIMIT=3``: before, 6 such heads to ``path`` were 6 x 413. Now 3 x 413,
    then the 429; the path's own answers stay unlimited (a poller's ``GET /healthz`` is not counted)."""
    with serving_raw(make_app(MOODTAPE_RATE_LIMIT="3"), None) as target:
        got = [_status_waiting(target, method, path) for _ in range(6)]
    assert got == [413, 413, 413, 429, 429, 429], got


@pytest.mark.usefixtures("still_limiter_clock")
def test_an_exempt_path_is_still_exempt_without_a_refusal(make_app: AppFactory) -> None:
    """The exemption holds for every request the server did not refuse: 10 ``GET /healthz`` under a
    limit of 1 are 10 answers, before and after."""
    app = make_app(MOODTAPE_RATE_LIMIT="1")
    client = app.test_client()
    assert [client.get("/healthz").status_code for _ in range(10)] == [200] * 10


def test_refusal_lines_are_summed_up(
    served_logging: None, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """With the limit off (as a crowd of clients would each stay under it): before, 12 refusals of
    ``POST /healthz`` wrote 12 lines. Now the first is written, and one summary counts the other 11."""
    with (
        serving_raw(make_app(MOODTAPE_RATE_LIMIT="0"), None) as target,
        caplog.at_level(logging.INFO, logger="moodtape.web.refusals"),
    ):
        got = [_status_waiting(target, "POST", "/healthz") for _ in range(12)]
        lines = [r.getMessage() for r in caplog.records if r.name == "moodtape.web.refusals"]
        assert got == [413] * 12 and len(lines) == 1, lines
        assert "413 too_large, POST" in lines[0] and "summed up" in lines[0], lines
        for found in logging.getLogger("moodtape.web.refusals").filters:
            getattr(found, "flush", lambda: None)()  # what the timer does once a minute
    lines = [r.getMessage() for r in caplog.records if r.name == "moodtape.web.refusals"]
    assert len(lines) == 2 and "11 more times" in lines[1] and "413 too_large, unmatched" in lines[1], lines
