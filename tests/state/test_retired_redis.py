"""Retired session ids in a real Redis: one bounded sorted set, expiring by score."""

from __future__ import annotations

from unittest import mock

import pytest
import redis

from moodtape.state import retired as retired_module
from moodtape.state.connection import connect
from moodtape.state.retired import RedisRetiredSessions


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return connect(redis_url)


def test_a_retired_id_is_known_until_its_marker_expires(client: redis.Redis) -> None:
    now = [1_000_000.0]
    retired = RedisRetiredSessions(client, keep_seconds=60, clock=lambda: now[0])
    retired.retire("old-session")
    assert retired.is_retired("old-session") and not retired.is_retired("other")
    now[0] += 61
    assert not retired.is_retired("old-session")


def test_deleting_in_a_loop_keeps_a_bounded_number_of_markers_in_one_key(client: redis.Redis) -> None:
    """Before: one key per id for a month, unbounded (each deletion hands out the next session's
    token, so one address could add ~2.3 GB of Redis a day at the rate limit)."""
    now = [1_000_000.0]
    retired = RedisRetiredSessions(client, keep_seconds=3600, clock=lambda: now[0])
    with mock.patch.object(retired_module, "MAX_RETIRED", 5):
        for number in range(12):
            now[0] += 1
            retired.retire(f"s{number}")
    assert list(client.scan_iter("moodtape:retired*")) == [b"moodtape:retired"]
    assert client.zcard("moodtape:retired") == 5
    assert retired.is_retired("s11") and not retired.is_retired("s0")  # the soonest to expire went first
