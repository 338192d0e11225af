"""An upload let go of for the budget of unfinished bodies is answered like the app's other 503s.

Over the budget (:data:`UNFINISHED_UPLOADS` largest uploads), the longest-open uploads are let go
of and hear a 503 ``busy`` with ``Retry-After`` once they have sent the rest (session 38). The
server answered it alone: no ``X-Request-ID``, no count in ``/metrics``, no log line, where every
other 503 of the app (``busy`` for too many large pictures at once) has all three. Now the app
answers it, without the body, as it answers the refusals by the head (web/refusals.py).
"""

from __future__ import annotations

import json
import logging
import socket
from contextlib import ExitStack

import pytest
from prometheus_client import REGISTRY
from raw_http import bodies_let_go, serving_buffered
from webtools import AppFactory

from moodtape.web.buffered_server import BODY_HEADROOM, UNFINISHED_UPLOADS
from moodtape.web.logs import LET_GO_FOR_THE_BUDGET, RequestIdFilter
from services import wait_until

UPLOAD = 200_000  # MOODTAPE_MAX_UPLOAD_BYTES here
BUDGET = UNFINISHED_UPLOADS * (UPLOAD + BODY_HEADROOM)
SENT = 190_000  # of each body, before the clients stop for a while
COUNT = BUDGET // SENT + 4  # a few over what the budget holds


def _answer(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of the answer, read until the server closes."""
    conn.settimeout(30)
    data = b""
    while more := conn.recv(65536):
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def _counted(status: int) -> float:
    return REGISTRY.get_sample_value("moodtape_requests_total", {"endpoint": "api.analyze", "status": str(status)}) or 0


def test_an_upload_let_go_of_has_a_request_id_a_count_and_a_log_line(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the 503 ``busy`` with ``Retry-After: 2`` and nothing else: no ``X-Request-ID``, the
    same count in ``/metrics``, no log line. Now the id the client sent comes back, each is counted
    under its endpoint and 503, and one line each names status, code, method and endpoint (no
    path, header or body bytes)."""
    caplog.handler.addFilter(RequestIdFilter())
    before = _counted(503)
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nConnection: close\r\n"
    head += b"Content-Length: %d\r\n" % UPLOAD
    with (
        serving_buffered(make_app(MOODTAPE_MAX_UPLOAD_BYTES=str(UPLOAD))) as server,
        ExitStack() as held,
        caplog.at_level(logging.INFO, logger="moodtape.web.refusals"),
    ):
        conns = []
        for number in range(COUNT):
            conns.append(held.enter_context(socket.create_connection(("127.0.0.1", server.bound_port), timeout=30)))
            conns[-1].sendall(head + b"X-Request-ID: probe-39-%04d\r\n\r\n" % number + b"\xab" * SENT)
        assert wait_until(lambda: bodies_let_go(server) >= COUNT - BUDGET // SENT, 30), bodies_let_go(server)
        for conn in conns:
            conn.sendall(b"\xab" * (UPLOAD - SENT))
        answers = [_answer(conn) for conn in conns]
    refused = [(number, headers, body) for number, (status, headers, body) in enumerate(answers) if status == 503]
    assert len(refused) >= COUNT - BUDGET // SENT
    for number, headers, body in refused:
        assert json.loads(body)["error"]["code"] == "busy"
        assert headers["retry-after"] == "2" and headers["connection"] == "close"
        assert headers.get("x-request-id") == f"probe-39-{number:04d}", headers
        assert headers["x-content-type-options"] == "nosniff"
    assert _counted(503) == before + len(refused)
    lines = [record for record in caplog.records if record.msg == LET_GO_FOR_THE_BUDGET]
    assert sorted(getattr(line, "request_id", "") for line in lines) == [
        f"probe-39-{number:04d}" for number, _, _ in refused
    ]
    for line in lines:
        said = line.getMessage()
        assert "503 busy" in said and "POST" in said and "api.analyze" in said, said
        assert "/api/analyze" not in said and "\xab" not in said and "probe" not in said, said
