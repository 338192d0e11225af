"""The refusals the HTTP server answers alone have an ``X-Request-ID``, a count and a log line.

The app never reads these requests (broken framing, headers too large, a method or version this
server does not serve): waitress's refusal, made JSON by ``buffered_server``, went out with no
``X-Request-ID``, no count in ``/metrics`` and no line in the log, where every answer of the app has
all three. Now the server gives them the same: the client's id when its head was read and the id
is plausible, else a new one; a count under the endpoint ``server`` and the status; a line naming
the status and code only (never what the client sent), summed up past the first of each kind.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from raw_http import everything_sent, serving_raw

from moodtape.web.logs import ANSWERED_ALONE, RequestIdFilter

GIVEN = b"X-Request-ID: probe-39-alone\r\n"
#: Each refusal the server answers alone: the request, the status, and whether its head is read
#: (the id the client sent then comes back).
ALONE = [
    (b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n" + GIVEN + b"\r\n", 400, True),
    (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n" + GIVEN + b"\r\n", 501, True),
    (b"GET / HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\n" + GIVEN + b"\r\n", 417, True),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + GIVEN + b"X-Big: " + b"b" * 70_000 + b"\r\n\r\n", 431, False),
    (b"GET /secret-path-39\r\n", 400, False),
]
IDS = ["chunked-not-last", "connect", "expect", "headers-too-large", "http-0.9"]


def _counted(status: int) -> float:
    return REGISTRY.get_sample_value("moodtape_requests_total", {"endpoint": "server", "status": str(status)}) or 0.0


@pytest.mark.parametrize(("request_bytes", "status", "head_read"), ALONE, ids=IDS)
def test_a_refusal_the_server_answers_alone_has_an_id_a_count_and_a_line(
    app: Flask, caplog: pytest.LogCaptureFixture, request_bytes: bytes, status: int, head_read: bool
) -> None:
    """Before: the same status and JSON, with no ``X-Request-ID``, no count, no line."""
    caplog.handler.addFilter(RequestIdFilter())
    before = _counted(status)
    with serving_raw(app, None) as target, caplog.at_level(logging.INFO, logger="moodtape.web.refusals"):
        answer = everything_sent(target, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode() and b"\r\nConnection: close" in head, head
    assert json.loads(body)["error"]["code"]
    sent_back = re.search(rb"\r\nx-request-id: ([^\r]*)", head, re.IGNORECASE)
    assert sent_back is not None, head
    request_id = sent_back.group(1).decode()
    if head_read:
        assert request_id == "probe-39-alone"
    else:
        assert re.fullmatch(r"[0-9a-f]{16}", request_id), request_id
    assert _counted(status) == before + 1
    lines = [record for record in caplog.records if record.msg == ANSWERED_ALONE]
    assert len(lines) == 1 and getattr(lines[0], "request_id", None) == request_id
    said = lines[0].getMessage()
    assert str(status) in said and "secret-path" not in said and "example.com" not in said and "bbbb" not in said


def test_a_plain_flask_app_gets_the_servers_answer_unchanged() -> None:
    """An app that is not moodtape's keeps waitress's refusal as it was: no id, no count."""
    plain = Flask(__name__)
    before = _counted(400)
    with serving_raw(plain, None) as target:
        answer = everything_sent(target, b"GET /\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"x-request-id" not in answer.lower()
    assert _counted(400) == before
