"""Webcam stream state in Redis against "Delete my history": a frame in flight, and the cost of finding the keys.

Before: a frame read its stream's smoothed state, the person's deletion (another thread or
instance) deleted it, then the frame saved the state it had read plus itself, so the smoothed
expression probabilities of before the deletion were back in the shared Redis for another minute.
And the deletion found the session's stream keys with ``SCAN`` over the whole keyspace: about
1.2 s of round trips per million keys (sessions, rate limits, caches), 4 s at three million.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
import redis

from moodtape.state.connection import connect
from moodtape.types import Face
from moodtape.web import streams
from moodtape.web.streams import RedisStreamRegistry

GRAY = np.zeros((4, 4), dtype=np.uint8)


class FakeStream:
    """Counts frames into its state; ``gate``, when set, holds :meth:`process` until it is opened."""

    def __init__(self, gate: threading.Event | None = None, entered: threading.Event | None = None) -> None:
        self.profile: object = None
        self.frames = 0
        self.restored: dict[str, Any] | None = None
        self._gate = gate
        self._entered = entered

    def restore(self, state: dict[str, Any]) -> None:
        self.restored = state
        self.frames = int(state["frames"])

    def process(self, gray: object, now: float) -> list[Face]:
        if self._entered is not None:
            self._entered.set()
        if self._gate is not None:
            assert self._gate.wait(10)
        self.frames += 1
        return []

    def state(self) -> dict[str, Any]:
        return {"frames": self.frames}


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


def _frames_stored(client: redis.Redis, session: str, stream: str = "cam") -> int | None:
    import json

    raw = client.get(f"moodtape:stream:{session}:{stream}")
    return None if raw is None else int(json.loads(raw)["frames"])


def test_a_frame_in_flight_during_a_deletion_does_not_bring_the_state_back(client: redis.Redis) -> None:
    plain = RedisStreamRegistry(client, FakeStream, clock=lambda: 1.0)  # type: ignore[arg-type]
    for _ in range(3):
        plain.process("s1", "cam", GRAY)
    assert _frames_stored(client, "s1") == 3

    gate, entered = threading.Event(), threading.Event()
    slow = RedisStreamRegistry(client, lambda: FakeStream(gate, entered), clock=lambda: 1.0)  # type: ignore[arg-type]
    in_flight = threading.Thread(target=slow.process, args=("s1", "cam", GRAY))
    in_flight.start()
    try:
        assert entered.wait(10), "the frame never reached the analyzer"
        # The frame has read the three frames' state; the person deletes (on "another instance").
        RedisStreamRegistry(client, FakeStream).forget("s1")  # type: ignore[arg-type]
        assert _frames_stored(client, "s1") is None
    finally:
        gate.set()
        in_flight.join(10)
    assert _frames_stored(client, "s1") is None, "the frame in flight saved the state of before the deletion"

    # The person goes on under a new session id: its stream is counted from nothing, and kept.
    plain.process("s2", "cam", GRAY)
    assert _frames_stored(client, "s2") == 1
    plain.process("s2", "cam", GRAY)
    assert _frames_stored(client, "s2") == 2


def test_a_frame_that_reads_the_epoch_after_a_deletion_saves_nothing_under_the_deleted_id(
    client: redis.Redis,
) -> None:
    """Before: a frame that had resolved its session before "Delete everything" and read the epoch
    after it read the deletion's new epoch, so its save passed, and the smoothing of a deleted
    session stayed in the shared Redis for another minute under the retired id."""
    registry = RedisStreamRegistry(client, FakeStream, clock=lambda: 1.0)  # type: ignore[arg-type]
    for _ in range(3):
        registry.process("s1", "cam", GRAY)
    registry.forget("s1")  # the deletion, between the frame's session lookup and its read

    registry.process("s1", "cam", GRAY)
    registry.process("s1", "cam-2", GRAY)

    assert _frames_stored(client, "s1") is None, "a deleted session's frame saved its smoothing"
    assert _frames_stored(client, "s1", "cam-2") is None
    assert client.hkeys("moodtape:streams:s1") == [b"#epoch"], "the deleted session's index named a stream"


def test_forgetting_does_not_walk_the_keyspace(client: redis.Redis) -> None:
    registry = RedisStreamRegistry(client, FakeStream, clock=lambda: 1.0)  # type: ignore[arg-type]
    for stream in ("cam", "cam-2"):
        registry.process("s1", stream, GRAY)
    registry.process("s10", "cam", GRAY)  # a session whose id begins like s1's
    registry.process("stranger", "cam", GRAY)
    pipe: Any = client.pipeline(transaction=False)
    for n in range(20_000):  # everyone else's sessions, limits and caches
        pipe.set(f"moodtape:session:other-{n}", b"{}", px=60_000)
    pipe.execute()
    client.config_resetstat()

    registry.forget("s1")

    stats = client.info("commandstats")
    assert "cmdstat_scan" not in stats, f"forget walked the keyspace: {stats.get('cmdstat_scan')}"
    assert "cmdstat_keys" not in stats
    assert _frames_stored(client, "s1") is None and _frames_stored(client, "s1", "cam-2") is None
    assert _frames_stored(client, "s10") == 1 and _frames_stored(client, "stranger") == 1


def test_the_index_of_a_sessions_streams_expires_with_them(client: redis.Redis) -> None:
    registry = RedisStreamRegistry(client, FakeStream, idle_seconds=30, clock=lambda: 1.0)  # type: ignore[arg-type]
    registry.process("s1", "cam", GRAY)
    stored = {key.decode() for key in client.scan_iter(match="moodtape:*")}
    assert "moodtape:stream:s1:cam" in stored
    for key in stored:
        assert 0 < client.pttl(key) <= 30_000, f"{key} never expires"
    registry.forget("s1")
    for key in client.scan_iter(match="moodtape:*"):  # what a deletion leaves expires too
        assert 0 < client.pttl(key) <= 30_000, f"{key!r} never expires"


def test_a_session_holds_a_bounded_number_of_streams_and_its_index_does_not_grow(client: redis.Redis) -> None:
    """Before: a client sending each frame with a new stream id kept a state per id for a minute and
    grew the session's index by one field per frame for as long as any of its streams lived."""
    registry = RedisStreamRegistry(client, FakeStream, idle_seconds=60, clock=lambda: 1.0)  # type: ignore[arg-type]
    cap = streams.MAX_SESSION_STREAMS
    for n in range(10 * cap):
        registry.process("s1", f"id-{n}", GRAY)
    states = [key for key in client.scan_iter(match="moodtape:stream:s1:*")]
    assert len(states) <= cap
    assert client.hlen("moodtape:streams:s1") <= cap + 1  # the streams and the epoch
    newest = f"id-{10 * cap - 1}"
    assert _frames_stored(client, "s1", newest) == 1, "the stream being used is kept"
    registry.forget("s1")
    assert not list(client.scan_iter(match="moodtape:stream:s1:*"))


def test_streams_whose_time_is_up_leave_the_index_first(client: redis.Redis) -> None:
    registry = RedisStreamRegistry(client, FakeStream, idle_seconds=0.5, clock=lambda: 1.0)  # type: ignore[arg-type]
    for n in range(streams.MAX_SESSION_STREAMS):
        registry.process("s1", f"old-{n}", GRAY)
    for _ in range(8):  # "cam" keeps the session's index alive while the others' time runs out
        registry.process("s1", "cam", GRAY)
        time.sleep(0.1)
    assert not list(client.scan_iter(match="moodtape:stream:s1:old-*"))
    for name in ("cam-2", "cam-3"):
        registry.process("s1", name, GRAY)
    names = {field.decode() for field in client.hkeys("moodtape:streams:s1")}
    assert names == {"cam", "cam-2", "cam-3"}, names
    assert _frames_stored(client, "s1", "cam") == 8


def test_the_in_process_registry_keeps_nothing_under_a_deleted_session_id() -> None:
    """The default without Redis: a frame that resolved its session before "Delete everything" and
    arrived after it made the deleted session's stream again, kept for another minute."""
    registry = streams.StreamRegistry(FakeStream, max_streams=8, idle_seconds=60.0)  # type: ignore[arg-type]
    registry.process("s1", "cam", GRAY)
    registry.forget("s1")

    registry.process("s1", "cam", GRAY)
    registry.process("s1", "cam-2", GRAY)

    assert len(registry) == 0, "a deleted session's stream was made again"
    registry.process("s2", "cam", GRAY)  # the person goes on under a new id: kept as before
    registry.process("s2", "cam", GRAY)
    assert len(registry) == 1 and registry.get("s2", "cam").frames == 2  # type: ignore[attr-defined]


def test_the_in_process_registry_forgets_deleted_ids_in_time_and_beyond_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "MAX_RETIRED_SESSIONS", 2)
    registry = streams.StreamRegistry(FakeStream, max_streams=8, idle_seconds=0.2)  # type: ignore[arg-type]
    for session in ("a", "b", "c"):
        registry.forget(session)
    registry.process("a", "cam", GRAY)  # pushed out by the bound
    assert registry.get("a", "cam").frames == 1  # type: ignore[attr-defined]
    registry.process("b", "cam", GRAY)  # still remembered
    assert registry.get("b", "cam").frames == 0  # type: ignore[attr-defined]
    time.sleep(0.25)
    registry.process("c", "cam", GRAY)  # its time is up
    assert registry.get("c", "cam").frames == 1  # type: ignore[attr-defined]
