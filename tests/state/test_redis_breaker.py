"""The circuit breaker in front of Redis (state/breaker.py), against a real Redis behind a relay.

A probe with Redis answering every call in 0.9 s (just under the 1 s bound of one call) or not at
all: every call of every request waited its second, a camera frame took 4.5 s and a list 8.1 s,
and the four request threads sat in Redis. Now a call that fails to reach Redis, or three slow ones,
turn the next second's calls away at once; then one call probes alone.

The breaker's clock is the test's, so nothing here depends on how fast the machine is; the relay
(tests/tcp_relay.py) freezes or slows the real Redis.
"""

from __future__ import annotations

import threading

import pytest
import redis

from manual_clock import Clock
from moodtape.state import breaker as breakers
from moodtape.state.breaker import OPEN_S, RedisBreaker
from moodtape.state.connection import SharedStateError, redis_errors
from moodtape.state.sessions import RedisSessionMemory
from services import wait_until
from tcp_relay import TcpRelay


@pytest.fixture
def clock(client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Give ``client``'s pool a breaker on the test's clock (the one redis_errors will find)."""
    clock = Clock()
    monkeypatch.setitem(breakers._breakers, client.connection_pool, RedisBreaker(clock=clock))
    return clock


def _lists(client: redis.Redis) -> RedisSessionMemory:
    return RedisSessionMemory(client)


def test_after_redis_stops_answering_calls_are_turned_away_without_asking(
    client: redis.Redis, relay: TcpRelay, clock: Clock
) -> None:
    lists = _lists(client)
    lists.get("s1")  # a pooled connection, and a closed breaker
    relay.freeze()
    with pytest.raises(SharedStateError, match="did not answer within 1 s"):
        lists.get("s1")  # waits its 1 s: the breaker learns of the outage here
    relay.thaw()
    # Redis answers again, but within the open second the breaker does not ask it: before, this
    # call (and every other call of every request) waited on Redis again.
    with pytest.raises(SharedStateError, match="did not answer within 1 s") as refused:
        lists.get("s1")
    assert refused.value.retry_after == 1 and refused.value.status == 503
    clock.now += OPEN_S  # half-open: the next call probes, succeeds, and closes the breaker
    assert lists.get("s1").lists == ()
    assert not breakers.breaker_for(client).is_open


def test_a_redis_slow_to_answer_opens_the_breaker(
    client: redis.Redis, relay: TcpRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real time here (the relay's latency is real), with a short "slow" for a quick test and a long
    # open period, so that the call after the opening falls within it however busy the machine is.
    lists = _lists(client)
    lists.get("s1")  # a pooled connection first: opening it on a busy machine may take over 0.05 s
    breaker = RedisBreaker(open_s=600, slow_s=0.05)
    monkeypatch.setitem(breakers._breakers, client.connection_pool, breaker)
    relay.slow(0.2)
    lists.get("s1")  # one or two slow calls are forgiven (a moment's stall)
    lists.get("s1")
    assert not breaker.is_open
    lists.get("s1")  # three in a row: Redis is slow, not stalled for a moment
    assert breaker.is_open
    relay.slow(0)
    with pytest.raises(SharedStateError, match="answered slower than 50 ms 3 times in a row"):
        lists.get("s1")  # before, every call of every request waited on the slow Redis


def test_calls_slow_together_count_once() -> None:
    """Review: one 0.6-s pause of the process (SIGSTOP, the GIL) with two calls in flight opened the
    breaker on a healthy Redis, each stretched call counting as one "in a row"."""
    clock = Clock()
    breaker = RedisBreaker(clock=clock)
    first, second = breaker.call(), breaker.call()
    first.__enter__()
    second.__enter__()
    clock.now += 0.8  # both calls stretched by the same pause
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert not breaker.is_open
    with breaker.call():  # started after that: a second slow call in a row is Redis's own
        clock.now += 0.8
    assert not breaker.is_open  # two, not three: the pause counted once
    with breaker.call():
        clock.now += 0.8
    assert breaker.is_open


def test_half_open_lets_one_probe_through_and_turns_the_others_away(
    client: redis.Redis, relay: TcpRelay, clock: Clock
) -> None:
    breaker = breakers.breaker_for(client)
    lists = _lists(client)
    lists.get("s1")
    relay.freeze()
    try:
        with pytest.raises(SharedStateError, match="did not answer within 1 s"):
            lists.get("s1")
        clock.now += OPEN_S
        probe_failed: list[BaseException] = []

        def probe() -> None:
            try:
                lists.get("s1")
            except SharedStateError as exc:
                probe_failed.append(exc)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        assert wait_until(lambda: breaker._probing, 5), "the probe was not let through"
        with pytest.raises(SharedStateError, match="did not answer within 1 s"):
            lists.get("s1")  # the probe is out: this one does not wait beside it
        prober.join(5)
        assert probe_failed and "did not answer within 1 s" in str(probe_failed[0])
        assert breaker.is_open  # the probe failed: open for another second
    finally:
        relay.thaw()
    clock.now += OPEN_S
    assert lists.get("s1").lists == () and not breaker.is_open


def test_a_refusal_is_an_answer_and_keeps_the_breaker_closed(client: redis.Redis, clock: Clock) -> None:
    client.set("moodtape:wrongtype", b"x")
    breaker = breakers.breaker_for(client)
    for _ in range(3):
        with pytest.raises(SharedStateError, match="refused"), redis_errors(client):
            client.hget("moodtape:wrongtype", "field")  # WRONGTYPE: Redis answered
    assert not breaker.is_open
    assert _lists(client).get("s2").lists == ()
