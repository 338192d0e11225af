"""A session keeps at most ``MAX_SESSION_STREAMS`` webcam streams in Redis, whatever their number's parity.

Before, the save script left the index alone up to ``cap + 1`` fields, counting the session's epoch
field as if it were always there: until "Delete my history" first wrote one, a session held 17
streams' states, one over the bound, after every odd number of new stream ids past it.
"""

from __future__ import annotations

import numpy as np
import pytest
import redis
from test_stream_forget_race import FakeStream

from moodtape.state.connection import connect
from moodtape.web import streams
from moodtape.web.streams import RedisStreamRegistry

GRAY = np.zeros((4, 4), dtype=np.uint8)


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


@pytest.mark.parametrize("forgotten_before", [False, True], ids=["never-forgotten", "after-a-deletion"])
def test_a_session_never_holds_more_streams_than_the_bound(client: redis.Redis, forgotten_before: bool) -> None:
    registry = RedisStreamRegistry(client, FakeStream, idle_seconds=60, clock=lambda: 1.0)  # type: ignore[arg-type]
    if forgotten_before:
        # An epoch field beside the streams: written by a deletion of an earlier version (a random
        # epoch, which takes saves; this version's deletion marks the id deleted and takes none).
        client.hset("moodtape:streams:s1", "#epoch", "0123456789abcdef")
    cap = streams.MAX_SESSION_STREAMS
    for n in range(cap + 4):
        registry.process("s1", f"id-{n}", GRAY)
        states = list(client.scan_iter(match="moodtape:stream:s1:*"))
        assert len(states) <= cap, f"{len(states)} streams kept after {n + 1} stream ids"
    assert client.exists(f"moodtape:stream:s1:id-{cap + 3}"), "the stream being used is kept"
