"""A flood of idle or unfinished connections: at the limit the server makes room instead of shutting others out."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from webtools import AppFactory, HeldAnalyzer, running_server

from moodtape.vision.pipeline import Analyzer
from moodtape.web import buffered_server, eviction
from moodtape.web.eviction import choose_victims, over_budget

LIMIT = 30


def channel(name: str, *, created: float, active: float, partial: bool = False, **state: Any) -> SimpleNamespace:
    defaults = {"will_close": False, "requests": [], "total_outbufs_len": 0}
    request = object() if partial else None
    return SimpleNamespace(name=name, creation_time=created, last_activity=active, request=request, **defaults | state)


def test_victims_are_the_long_silent_then_stalled_readers_then_the_longest_unfinished_then_newcomers() -> None:
    channels = [
        channel("just-connected", created=99.5, active=99.5),
        channel("trickler-new", created=50, active=99, partial=True),
        channel("keepalive-quiet-lately", created=1, active=90),
        channel("serving", created=0, active=0, requests=["a request"]),
        channel("answer-being-read", created=0, active=99, total_outbufs_len=512),
        channel("answer-unread-for-20-s", created=0, active=80, total_outbufs_len=512),
        channel("never-spoke", created=10, active=10),
        channel("connected-a-second-ago", created=99, active=99),
        channel("trickler-old", created=5, active=98, partial=True),
    ]
    chosen = [c.name for c in choose_victims(channels, limit=80, now=100, tick=100)]  # 10 % of 80: up to 8
    assert chosen == [
        "never-spoke",
        "keepalive-quiet-lately",
        "answer-unread-for-20-s",
        "trickler-old",
        "trickler-new",
        "connected-a-second-ago",
        "just-connected",
    ]
    assert [c.name for c in choose_victims(channels, limit=20, now=100, tick=100)] == [
        "never-spoke",
        "keepalive-quiet-lately",
    ]


def test_a_refused_connection_lingering_goes_before_all_others() -> None:
    """Its answer is out and only the client's leftovers come (web/buffered_server.py); before, it
    ranked as a newcomer or an unfinished upload and went last."""
    channels = [
        channel("never-spoke", created=10, active=10),
        channel("refused-lingering", created=99, active=99.8, partial=True, lingering=True),
    ]
    assert [c.name for c in choose_victims(channels, limit=80, now=100, tick=100)] == [
        "refused-lingering",
        "never-spoke",
    ]


def test_no_more_victims_while_enough_are_closing() -> None:
    closing = [channel(f"c{n}", created=0, active=0, will_close=True) for n in range(3)]
    idle = [channel(f"i{n}", created=n, active=n) for n in range(10)]
    assert choose_victims(closing + idle, limit=30, now=100, tick=100) == []  # 10 % of 30 = 3 already closing
    assert [c.name for c in choose_victims(closing[:1] + idle, limit=30, now=100, tick=100)] == ["i0", "i1"]


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
def test_clients_that_never_read_their_answers_do_not_keep_others_out(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: clients that asked for the 3.6 MB model and read nothing were never chosen, so at the
    limit every newcomer was the only candidate: accepted and reset at once, for a minute."""
    monkeypatch.setattr(eviction, "STALLED_READ_S", 1.0)
    with running_server(make_app()) as url, ExitStack() as flood:
        port = int(url.rsplit(":", 1)[1])
        for _ in range(LIMIT + 5):
            conn = flood.enter_context(socket.socket())
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.connect(("127.0.0.1", port))
            conn.sendall(b"GET /ondevice/emotion.onnx HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(2)  # the answers wait, unread, past the (shortened) stall
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


def unfinished(name: str, created: float, held: int) -> SimpleNamespace:
    """A connection whose request holds ``held`` bytes so far (100 of headers, the rest body)."""
    request = SimpleNamespace(header_plus=b"h" * 100, body_rcv=b"b" * (held - 100))
    return SimpleNamespace(name=name, creation_time=created, request=request, will_close=False)


def test_over_the_budget_the_longest_open_unfinished_requests_go_until_the_rest_fit() -> None:
    channels = [unfinished("c", 30, 400), unfinished("a", 10, 500), unfinished("b", 20, 300)]
    idle = SimpleNamespace(name="idle", creation_time=0, request=None, will_close=False)
    assert over_budget([*channels, idle], budget=1200) == []
    assert [c.name for c in over_budget([*channels, idle], budget=700)] == ["a"]
    assert [c.name for c in over_budget([*channels, idle], budget=400)] == ["a", "b"]
    channels[1].will_close = True  # already closing: holds nothing any more
    assert [c.name for c in over_budget(channels, budget=700)] == []
