""" "Delete my history" drops the session's webcam stream state at once, in Redis and in this process.

Before: the smoothed expression probabilities and face boxes of the session's streams stayed up
to a minute (STREAM_IDLE_SECONDS) after the deletion, in the shared Redis for every instance to
read, while the privacy page says they are kept in memory for a few seconds.
"""

from __future__ import annotations

import numpy as np
import redis
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers

from moodtape.state.connection import connect
from moodtape.web.lru import BoundedLRU
from moodtape.web.streams import RedisStreamRegistry, StreamRegistry


def _frame(client: FlaskClient, frame: bytes, stream: str = "cam") -> None:
    reply = client.post(f"/api/analyze?stream={stream}", data=frame, content_type="image/jpeg")
    assert reply.status_code == 200, reply.get_data(as_text=True)


def _two_visitors_streaming(app: Flask, frame: bytes) -> tuple[FlaskClient, FlaskClient]:
    """The person who will delete (two streams, two frames each) and a stranger (one stream)."""
    person, stranger = app.test_client(), app.test_client()
    for stream in ("cam", "cam-2"):
        _frame(person, frame, stream)
        _frame(person, frame, stream)
    _frame(stranger, frame)
    return person, stranger


def _delete_history(client: FlaskClient) -> None:
    reply = client.delete("/api/history?confirm=true", headers=csrf_headers(client))
    assert reply.status_code == 200, reply.get_data(as_text=True)


def test_deleting_history_drops_the_sessions_streams_in_this_process(make_app: AppFactory, frame_640: bytes) -> None:
    app = make_app()
    registry = app.extensions["moodtape"].streams
    assert isinstance(registry, StreamRegistry)
    person, stranger = _two_visitors_streaming(app, frame_640)
    assert len(registry) == 3
    _delete_history(person)
    assert len(registry) == 1  # the stranger's stream stays
    _frame(stranger, frame_640)
    assert len(registry) == 1  # …and it is the stranger's: their next frame made no new one


def test_deleting_history_drops_the_sessions_streams_in_redis(
    make_app: AppFactory, frame_640: bytes, redis_url: str
) -> None:
    app = make_app(MOODTAPE_REDIS_URL=redis_url)
    shared = connect(redis_url)
    person, stranger = _two_visitors_streaming(app, frame_640)
    before = set(shared.scan_iter(match="moodtape:stream:*"))
    assert len(before) == 3
    _delete_history(person)
    left = set(shared.scan_iter(match="moodtape:stream:*"))
    assert len(left) == 1 and left < before
    _frame(stranger, frame_640)
    assert set(shared.scan_iter(match="moodtape:stream:*")) == left  # the stranger's stream is the one kept


class _Counting:
    """A stand-in analyzer: its state is a frame count (no picture is read)."""

    profile: object = None
    frames = 0

    def restore(self, state: dict[str, int]) -> None:
        self.frames = state["frames"]

    def process(self, gray: object, now: float) -> list[object]:
        self.frames += 1
        return []

    def state(self) -> dict[str, int]:
        return {"frames": self.frames}


def test_forgetting_a_session_leaves_sessions_whose_id_it_begins(redis_url: str) -> None:
    """``s1``'s streams are ``moodtape:stream:s1:*``; ``s10``'s and ``s1x``'s must stay."""
    client: redis.Redis = connect(redis_url)
    registry = RedisStreamRegistry(client, _Counting, clock=lambda: 1.0)  # type: ignore[arg-type]
    gray = np.zeros((2, 2), dtype=np.uint8)
    for session, stream in (("s1", "cam"), ("s1", "b"), ("s10", "cam"), ("s1x", "a")):
        registry.process(session, stream, gray)
    client.set("moodtape:session:s1", b"{}", px=60_000)  # not a stream: another part's to delete
    registry.forget("s1")
    assert {key.decode() for key in client.scan_iter(match="moodtape:stream:*")} == {
        "moodtape:stream:s10:cam",
        "moodtape:stream:s1x:a",
    }
    assert client.get("moodtape:session:s1") == b"{}"
    registry.forget("s*")  # a pattern in an id matches only that id (ids have none, but still)
    assert len(list(client.scan_iter(match="moodtape:stream:*"))) == 2


def test_pop_where_removes_only_matching_entries_and_keeps_the_bookkeeping() -> None:
    lru: BoundedLRU[tuple[str, str], int] = BoundedLRU(3)
    for n, key in enumerate([("a", "1"), ("b", "1"), ("a", "2")]):
        lru.put(key, n)
    assert lru.pop_where(lambda key: key[0] == "a") == 2
    assert len(lru) == 1 and lru.get(("b", "1")) == 1 and lru.get(("a", "1")) is None
    for n in range(3):  # the map fills to its bound again and evicts as before
        lru.put(("c", str(n)), n)
    assert len(lru) == 3 and lru.get(("b", "1")) is None
