"""A Redis in another zone: ``MOODTAPE_REDIS_SLOW_MS`` sets the breaker's bound (state/breaker.py).

The bound is per block of calls (up to four round trips), so with the default 0.25 s a Redis 90 ms
away counted as slow on every session update (three round trips, 0.27 s) and the breaker turned
every request that needed Redis away: measured through tests/tcp_relay.py, 8 of 10 updates got the
503. With the bound raised to 610 ms, 10 of 10 went through (0.28 s each; at 150 ms, 0.45 s each).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

import pytest
import redis

from manual_clock import Clock
from moodtape.state.breaker import SLOW_CALL_S, RedisBreaker, breaker_for, run_queue_seconds
from moodtape.state.connection import SharedStateError, client_for
from moodtape.state.sessions import RedisSessionMemory
from redis_server import RedisServer
from tcp_relay import TcpRelay

linux_only = pytest.mark.skipif(run_queue_seconds() is None, reason="a thread's run-queue delay is read on Linux only")


@pytest.fixture
def far_redis(redis_server: RedisServer, redis_url: str) -> Iterator[TcpRelay]:
    """The shared Redis, each answer 90 ms late (a cross-zone link)."""
    with TcpRelay(redis_server.port) as relay:
        relay.slow(0.09)
        yield relay


def _updates_refused(client: redis.Redis, updates: int) -> int:
    memory, refused = RedisSessionMemory(client), 0
    for _ in range(updates):
        try:
            memory.update("far", lambda state: state)
        except SharedStateError:
            refused += 1
    return refused


@linux_only
def test_a_redis_90_ms_away_works_with_the_bound_raised(far_redis: TcpRelay) -> None:
    client = client_for(f"redis://127.0.0.1:{far_redis.port}/0", slow_s=0.61)
    assert client is not None
    assert _updates_refused(client, 6) == 0
    assert not breaker_for(client).is_open


@linux_only
def test_a_redis_90_ms_away_is_turned_away_under_the_default_bound(far_redis: TcpRelay) -> None:
    """What the setting is for: the shipped bound reads a distant Redis as a slow one."""
    client = client_for(f"redis://127.0.0.1:{far_redis.port}/0", slow_s=SLOW_CALL_S)
    assert client is not None
    assert _updates_refused(client, 6) >= 3


def test_a_call_timing_out_under_a_short_timeout_is_one_slow_call_not_an_outage() -> None:
    """The rate limit's own timeout is as short as the bound: one such timeout (a Redis pausing a
    quarter of a second once) must not turn every request that needs Redis away for a second."""
    clock = Clock()
    breaker = RedisBreaker(clock=clock, ready_s=lambda: 0.0)
    for calls in range(1, 4):
        with pytest.raises(redis.TimeoutError), breaker.call(timeout_opens=False):
            clock.now += SLOW_CALL_S + 0.01
            raise redis.TimeoutError("Timeout reading from socket")
        assert breaker.is_open == (calls == 3)  # three in a row, as anyone's slow calls


def test_a_timeout_under_the_usual_timeout_still_opens_the_breaker_at_once() -> None:
    clock = Clock()
    breaker = RedisBreaker(clock=clock, ready_s=lambda: 0.0)
    with pytest.raises(redis.TimeoutError), breaker.call():
        clock.now += 1.0
        raise redis.TimeoutError("Timeout reading from socket")
    assert breaker.is_open


def _slow_calls(breaker: RedisBreaker, clock: Clock, fastest_s: float) -> None:
    with breaker.call():
        clock.now += fastest_s  # an answer, in time
    for _ in range(3):
        with breaker.call():
            clock.now += 0.3


def test_the_log_names_the_setting_when_even_the_fastest_answer_says_redis_is_far(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    with caplog.at_level(logging.WARNING, logger="moodtape.state.breaker"):
        _slow_calls(far := RedisBreaker(clock=clock, ready_s=lambda: 0.0), clock, fastest_s=0.09)
    assert far.is_open
    assert "fastest answer took 90 ms" in caplog.text and "MOODTAPE_REDIS_SLOW_MS" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="moodtape.state.breaker"):
        _slow_calls(near := RedisBreaker(clock=clock, ready_s=lambda: 0.0), clock, fastest_s=0.001)
    assert near.is_open  # a near Redis gone slow: nothing to suggest but that it is slow
    assert "timed out or waited over 0.25 s" in caplog.text and "MOODTAPE_REDIS_SLOW_MS" not in caplog.text


def test_the_bound_where_the_run_queue_delay_cannot_be_read_keeps_its_half_second_on_top() -> None:
    assert RedisBreaker(ready_s=lambda: None).bound_for(0.61) == pytest.approx(1.11)
    assert RedisBreaker(ready_s=lambda: 0.0).bound_for(0.61) == pytest.approx(0.61)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_worker_keeps_the_bound_it_was_given() -> None:
    """``serve --processes N`` and gunicorn fork their workers after the app set the bound: the
    child's breaker is a fresh one, and it used to have the shipped 0.25 s, not the setting."""
    client = client_for("redis://127.0.0.1:1/14", slow_s=0.61)  # never connected: no Redis needed
    assert client is not None
    expected = breaker_for(client).bound_for(0.61)
    assert breaker_for(client).slow_s == expected
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's own coverage is not collected)
        try:
            os.write(writing, repr(breaker_for(client).slow_s).encode())
        finally:
            sys.stdout.flush()
            os._exit(0)
    os.close(writing)
    try:
        said = os.read(reading, 64)
    finally:
        os.close(reading)
        os.waitpid(child, 0)
    assert float(said) == pytest.approx(expected)
