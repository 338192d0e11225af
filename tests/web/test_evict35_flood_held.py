"""A connection flood that keeps its connections busy-looking held the server at its limit.

0398ed9 spared, at the connection limit, every connection whose ``last_activity`` had moved since it
opened, as a keep-alive connection answered a moment ago; waitress moves it on any read. So a client
sending one blank line (skipped before a request) every 1.5 s on each connection, or ``GET /healthz``
(exempt from the rate limit) on a keep-alive connection, was never closed: with the limit reached,
``/healthz`` from anyone else timed out (3 of 3 at 8 s, limit 12, 17 such connections).
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from webtools import AppFactory, running_server

from moodtape.web import buffered_server
from moodtape.web.eviction import choose_victims

LIMIT = 12
INTERVAL_S = 1.5  # under eviction.GRACE_S: never idle
#: How long a newcomer may wait. Not a timing under test: before, it waited as long as the flood went
#: on. At this limit one connection is made room for at a time (EVICT_FRACTION), and the flood's own
#: 5 queued connections are accepted first: the first GET may wait about 6 x INTERVAL_S.
WAIT_S = 15.0


def channel(name: str, *, created: float, active: float, **state: Any) -> SimpleNamespace:
    defaults = {"will_close": False, "requests": [], "total_outbufs_len": 0, "request": None}
    return SimpleNamespace(name=name, creation_time=created, last_activity=active, **defaults | state)


def test_reading_blank_lines_is_no_answer() -> None:
    """A connection that was only read from (blank lines) is a newcomer that has not spoken: closed."""
    channels = [channel("blank-lines", created=50, active=99.9)]
    assert [c.name for c in choose_victims(channels, limit=10, now=100, tick=100)] == ["blank-lines"]


def test_answered_a_while_ago_then_blank_lines_is_closed() -> None:
    """Answered once, 5 s ago, and only blank lines since: no keep-alive request on its way."""
    channels = [channel("blank-lines", created=50, active=99.9, answered_at=95)]
    assert [c.name for c in choose_victims(channels, limit=10, now=100, tick=100)] == ["blank-lines"]


def test_kept_alive_connections_answered_lately_close_after_their_next_answer() -> None:
    """None closed now (their next request is on its way), but as many as the limit wants are asked to
    close after their next answer, the oldest first, those asked already counted."""
    channels = [channel(f"keepalive-{i}", created=i, active=99.9, answered_at=99.9) for i in range(30)]
    assert choose_victims(channels, limit=20, now=100, tick=100) == []  # wants 2
    assert [c.name for c in channels if getattr(c, "close_after_answer", False)] == ["keepalive-0", "keepalive-1"]
    choose_victims(channels, limit=20, now=100, tick=100)
    assert sum(bool(getattr(c, "close_after_answer", False)) for c in channels) == 2


HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(
    ("first", "then"),
    [(b"\n", b"\n"), (HEALTHZ, HEALTHZ), (HEALTHZ, b"\n")],
    ids=["blank-lines", "keepalive-healthz", "answered-once-then-blank-lines"],
)
def test_a_flood_that_never_falls_silent_does_not_hold_the_limit(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, first: bytes, then: bytes
) -> None:
    """Every GET /healthz of a newcomer is answered; before, each timed out (the flood held the limit)."""
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", LIMIT)
    stop = threading.Event()
    with running_server(make_app(MOODTAPE_RATE_LIMIT="100000")) as url, ExitStack() as flood:
        port = int(url.rsplit(":", 1)[1])
        conns = []
        for _ in range(LIMIT + 5):
            conn = flood.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
            conn.setblocking(False)
            conns.append(conn)

        def trickle() -> None:
            payload = first
            while not stop.is_set():
                for conn in conns:
                    try:
                        conn.send(payload)
                        while conn.recv(65536):
                            pass
                    except OSError:  # nothing to read (BlockingIOError), or closed by the server
                        pass
                payload = then
                stop.wait(INTERVAL_S)

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            time.sleep(2.5)  # past GRACE_S: the flood's connections have all "spoken"
            statuses = []
            for _ in range(3):
                try:
                    statuses.append(httpx.get(f"{url}/healthz", timeout=WAIT_S).status_code)
                except httpx.HTTPError as error:
                    statuses.append(type(error).__name__)
        finally:
            stop.set()
            sender.join(5)
    assert statuses == [200, 200, 200]
