"""Refusals by the head of many kinds in a minute: the first line of each is still written.

The summing filter on "moodtape.web.refusals" (web/logs.py) told 8 causes apart, keyed by status,
code, method and endpoint: after 9 refused heads of different kinds, a gzip body to /api/feedback
(415) was only counted under "other causes", its line never written. Now keyed by status, code and
endpoint, and every such kind the app has fits.
"""

from __future__ import annotations

import logging

import pytest
from tests.web.raw_http import serving_raw
from tests.web.test_mends35_exempt_refusals import _status_waiting, served_logging  # noqa: F401
from webtools import AppFactory

#: Eleven endpoints, each refused by its head (a body over the upload limit): eleven kinds.
REFUSED = [
    ("GET", "/"),
    ("GET", "/privacy"),
    ("GET", "/model-card"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/config"),
    ("GET", "/api/openapi.yaml"),
    ("GET", "/api/ondevice"),
    ("GET", "/static/style.css"),
    ("POST", "/nope"),
]
GZIP_FEEDBACK = (
    b"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Encoding: gzip\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
)


@pytest.mark.usefixtures("served_logging")
def test_the_first_line_of_each_kind_is_written(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Before: 8 lines, the feedback's 415 not among them. Now 12 lines, one per kind."""
    with (
        serving_raw(make_app(MOODTAPE_RATE_LIMIT="0"), None) as target,
        caplog.at_level(logging.INFO, logger="moodtape.web.refusals"),
    ):
        got = [_status_waiting(target, method, path) for method, path in REFUSED]
        with target.connect(10) as sock:
            sock.sendall(GZIP_FEEDBACK)
            data = b""
            while more := sock.recv(65536):
                data += more
        got.append(int(data.split(b" ", 2)[1]))
        lines = [r.getMessage() for r in caplog.records if r.name == "moodtape.web.refusals"]
    assert got == [413] * len(REFUSED) + [415]
    assert len(lines) == len(REFUSED) + 1, lines
    assert any("415" in line and "lists.feedback" in line for line in lines), lines


@pytest.mark.usefixtures("served_logging")
def test_the_method_is_no_kind_of_its_own(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Five methods to /healthz (its GET alone is routed: "unmatched"): one line, the rest summed up
    (before: five lines, five of the places told apart)."""
    with (
        serving_raw(make_app(MOODTAPE_RATE_LIMIT="0"), None) as target,
        caplog.at_level(logging.INFO, logger="moodtape.web.refusals"),
    ):
        got = [_status_waiting(target, method, "/healthz") for method in ("POST", "PUT", "PATCH", "DELETE", "FOO")]
        lines = [r.getMessage() for r in caplog.records if r.name == "moodtape.web.refusals"]
    assert got == [413] * 5
    assert len(lines) == 1 and "413 too_large, POST unmatched" in lines[0], lines
