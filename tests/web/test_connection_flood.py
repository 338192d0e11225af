"""A flood of idle or unfinished connections: at the limit the server makes room instead of shutting others out."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from webtools import AppFactory, HeldAnalyzer, running_server

from moodtape.vision.pipeline import Analyzer
from moodtape.web import buffered_server
from moodtape.web.eviction import choose_victims

LIMIT = 30


def channel(name: str, *, created: float, active: float, partial: bool = False, **state: Any) -> SimpleNamespace:
    defaults = {"will_close": False, "requests": [], "total_outbufs_len": 0}
    request = object() if partial else None
    return SimpleNamespace(name=name, creation_time=created, last_activity=active, request=request, **defaults | state)


def test_victims_are_the_long_silent_then_the_longest_unfinished_then_newcomers() -> None:
    channels = [
        channel("just-connected", created=99.5, active=99.5),
        channel("trickler-new", created=50, active=99, partial=True),
        channel("keepalive-quiet-lately", created=1, active=90),
        channel("serving", created=0, active=0, requests=["a request"]),
        channel("answer-unsent", created=0, active=0, total_outbufs_len=512),
        channel("never-spoke", created=10, active=10),
        channel("connected-a-second-ago", created=99, active=99),
        channel("trickler-old", created=5, active=98, partial=True),
    ]
    chosen = [c.name for c in choose_victims(channels, limit=70, now=100)]  # 10 % of 70: up to 7
    assert chosen == [
        "never-spoke",
        "keepalive-quiet-lately",
        "trickler-old",
        "trickler-new",
        "connected-a-second-ago",
        "just-connected",
    ]
    assert [c.name for c in choose_victims(channels, limit=20, now=100)] == ["never-spoke", "keepalive-quiet-lately"]


def test_no_more_victims_while_enough_are_closing() -> None:
    closing = [channel(f"c{n}", created=0, active=0, will_close=True) for n in range(3)]
    idle = [channel(f"i{n}", created=n, active=n) for n in range(10)]
    assert choose_victims(closing + idle, limit=30, now=100) == []  # 10 % of 30 = 3 already closing
    assert [c.name for c in choose_victims(closing[:1] + idle, limit=30, now=100)] == ["i0", "i1"]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", LIMIT)


def _open(count: int, url: str, first_bytes: bytes = b"") -> Iterator[socket.socket]:
    port = int(url.rsplit(":", 1)[1])
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        if first_bytes:
            conn.sendall(first_bytes)
        yield conn


UNFINISHED = (
    b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n\xff\xd8"
)


@pytest.mark.usefixtures("small_limit")
@pytest.mark.parametrize("first_bytes", [b"", UNFINISHED], ids=["silent", "unfinished"])
def test_a_flood_of_connections_does_not_keep_others_out(make_app: AppFactory, first_bytes: bytes) -> None:
    """Before: at the limit new clients waited in the backlog until the flood timed out (60 s)."""
    with running_server(make_app()) as url, ExitStack() as flood:
        for conn in _open(3 * LIMIT, url, first_bytes):
            flood.enter_context(conn)
        for _ in range(3):
            assert httpx.get(f"{url}/healthz", timeout=20).status_code == 200


@pytest.mark.usefixtures("small_limit")
def test_a_request_being_answered_is_never_closed_to_make_room(
    make_app: AppFactory, real_analyzer: Analyzer, frame_640: bytes
) -> None:
    analyzer = HeldAnalyzer(real_analyzer, holds=lambda gray: True)
    answers: list[httpx.Response] = []
    with running_server(make_app(analyzer=analyzer)) as url, ExitStack() as flood:
        post = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{url}/api/analyze", content=frame_640, headers={"Content-Type": "image/jpeg"}, timeout=60)
            )
        )
        post.start()
        try:
            assert analyzer.started.wait(30)
            for conn in _open(3 * LIMIT, url):
                flood.enter_context(conn)
            assert httpx.get(f"{url}/healthz", timeout=20).status_code == 200
        finally:
            analyzer.release.set()
            post.join(timeout=60)
    assert answers and answers[0].status_code == 200 and answers[0].json()["faces"]
