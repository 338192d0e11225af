"""Uploads over the budget of unfinished bodies get a 503 they can read, not a reset.

Unfinished requests' bodies together may hold at most :data:`UNFINISHED_UPLOADS` × the largest
upload; over it the longest-open ones are let go of. Before session 38 they were closed at once,
under a client still sending: the kernel answered its bytes with a reset, and of 16 uploads of
9.7 MB sent at once to ``moodtape serve`` 8 saw "connection reset" and no answer. Now the rest of
each such body is read and dropped, and its client hears a 503 ``busy`` with ``Retry-After`` once
it has sent it all; memory stays within the budget (the test was ``test_connection_flood``'s
``test_stalled_uploads_cannot_hold_more_memory_than_the_budget``, which checked the close).
"""

from __future__ import annotations

import json
import socket
from contextlib import ExitStack
from types import SimpleNamespace

import httpx
import pytest
from raw_http import bodies_let_go, server_connections, serving_buffered
from waitress.adjustments import Adjustments
from webtools import AppFactory

from moodtape.web.buffered_server import (
    BODY_HEADROOM,
    UNFINISHED_UPLOADS,
    _DrainingParser,
)
from moodtape.web.eviction import buffered_bytes
from services import wait_until

UPLOAD = 200_000  # MOODTAPE_MAX_UPLOAD_BYTES here
BUDGET = UNFINISHED_UPLOADS * (UPLOAD + BODY_HEADROOM)
SENT = 190_000  # of each body, before the clients stop for a while
COUNT = 2 * BUDGET // SENT  # twice what the budget holds


def _answer(conn: socket.socket) -> tuple[int, bytes, bytes]:
    """The status, head and body of the answer, read until the server closes (or a reset)."""
    conn.settimeout(30)
    data = b""
    while more := conn.recv(65536):
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def _bodies(chunked: bool) -> tuple[bytes, bytes]:
    """What each client sends first (head and most of the body), and the rest of its request."""
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nConnection: close\r\n"
    if chunked:
        return head + b"Transfer-Encoding: chunked\r\n\r\n%X\r\n" % SENT + b"\xff" * SENT + b"\r\n", (
            b"%X\r\n" % (UPLOAD - SENT) + b"\xff" * (UPLOAD - SENT) + b"\r\n0\r\n\r\n"
        )
    return head + b"Content-Length: %d\r\n\r\n" % UPLOAD + b"\xff" * SENT, b"\xff" * (UPLOAD - SENT)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_uploads_over_the_budget_hear_a_503_and_memory_stays_within_it(
    make_app: AppFactory, frame_640: bytes, chunked: bool
) -> None:
    """Before: the longest-open ones were closed, still sending; their clients read no answer."""
    first, rest = _bodies(chunked)
    with serving_buffered(make_app(MOODTAPE_MAX_UPLOAD_BYTES=str(UPLOAD))) as server, ExitStack() as held:
        conns = []
        for _ in range(COUNT):
            conns.append(held.enter_context(socket.create_connection(("127.0.0.1", server.bound_port), timeout=30)))
            conns[-1].sendall(first)
        # Once every byte sent is read, the bodies would hold twice the budget: about half are let go.
        assert wait_until(lambda: bodies_let_go(server) >= COUNT - BUDGET // SENT, 30), bodies_let_go(server)
        assert sum(buffered_bytes(each) for each in server_connections(server)) <= BUDGET
        for conn in conns:
            conn.sendall(rest)
        answers = [_answer(conn) for conn in conns]
        refused = [(head, body) for status, head, body in answers if status == 503]
        assert len(refused) >= COUNT - BUDGET // SENT
        for head, body in refused:
            assert b"retry-after: 2\r\n" in head.lower() + b"\r\n" and b"connection: close" in head.lower()
            assert json.loads(body)["error"]["code"] == "busy"
        assert answers[0][0] == 503, "the longest open goes first"
        assert answers[-1][0] == 415, "the newest ones, within the budget, reach the app (no picture in them)"
        reply = httpx.post(
            f"http://127.0.0.1:{server.bound_port}/api/analyze",
            content=frame_640,
            headers={"Content-Type": "image/jpeg"},
            timeout=20,
        )
        assert reply.status_code == 200 and reply.json()["faces"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_let_go_of_holds_nothing_and_is_let_go_of_once(chunked: bool) -> None:
    """Headers that came in two reads stay counted otherwise, and the next look would close it."""
    first, rest = _bodies(chunked)
    parser = _DrainingParser(Adjustments(max_request_body_size=UPLOAD + BODY_HEADROOM + 1, inbuf_overflow=1 << 30))
    for piece in (first[:40], first[40:]):
        while piece and not parser.completed:
            piece = piece[parser.received(piece) :]
    connection = SimpleNamespace(request=parser, will_close=False)
    assert buffered_bytes(connection) > SENT
    assert parser.shed_body() and buffered_bytes(connection) == 0
    assert not parser.shed_body()
    while rest and not parser.completed:
        rest = rest[parser.received(rest) :]
    assert parser.completed and parser.error.code == 503 and parser.error.retry_after == 2
