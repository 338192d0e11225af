"""The rate limit asks the process's Redis breaker (web/ratelimit.py, state/breaker.py).

Flask-Limiter kept its own idea of whether Redis was up: once a call failed it counted in memory and
asked Redis again only after 1, 2, 4… 32 s. Measured with ``moodtape serve`` (4 threads, a Redis
stopped with SIGSTOP for 40 s, then resumed): the instances went on counting each on its own for 22 s
after Redis was back (now within about a second: 0.25–0.7 s measured), and the first requests after
the other Redis users had found Redis away still waited their 0.25 s on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from webtools import AppFactory

from moodtape.state.breaker import breaker_for
from moodtape.state.connection import SharedStateError, client_for, redis_errors
from moodtape.web.ratelimit import SCHEME_PREFIX, SharedOrLocalStorage
from redis_commands import commands_sent
from redis_server import RedisServer, redis_of_its_own
from services import free_port, wait_until
from tcp_relay import TcpRelay


@pytest.fixture
def relay(redis_server: RedisServer, redis_url: str) -> Iterator[TcpRelay]:
    with TcpRelay(redis_server.port) as relay:
        yield relay


def _limit_keys(redis_url: str) -> list[bytes]:
    return redis.Redis.from_url(redis_url).keys("moodtape:limits:*")  # type: ignore[return-value]


def test_while_the_breaker_is_open_no_request_waits_on_redis_for_the_limit(
    make_app: AppFactory, relay: TcpRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that sends Redis nothing cannot wait on it: the commands are counted, not timed."""
    url = f"redis://127.0.0.1:{relay.port}/0"
    visitor = make_app(MOODTAPE_RATE_LIMIT="100", MOODTAPE_REDIS_URL=url).test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200  # counted in Redis: connections made
    relay.freeze()
    try:
        shared = client_for(url)
        assert shared is not None
        with pytest.raises(SharedStateError, match="did not answer within 1 s"), redis_errors(shared):
            shared.get("moodtape:anything")  # another request's call finds Redis away: the breaker opens
        assert breaker_for(shared).is_open
        sent = commands_sent(monkeypatch)
        assert visitor.get("/api/openapi.yaml").status_code == 200
        # Before, the limit sent its EVALSHA anyway and waited its 0.25 s timeout.
        assert sent == []
    finally:
        relay.thaw()


def test_the_limit_is_shared_again_within_a_second_or_two_of_redis_answering(
    make_app: AppFactory, relay: TcpRelay, redis_url: str
) -> None:
    url = f"redis://127.0.0.1:{relay.port}/0"
    visitor = make_app(MOODTAPE_RATE_LIMIT="1000", MOODTAPE_REDIS_URL=url).test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200
    relay.freeze()
    try:
        frozen_until = time.monotonic() + 3.5
        while time.monotonic() < frozen_until:  # a few seconds of traffic while Redis is away
            assert visitor.get("/api/openapi.yaml").status_code == 200  # counted in this process
            time.sleep(0.01)  # at most 350 requests: a fast machine sent over 1,000, the limit
    finally:
        relay.thaw()
    redis.Redis.from_url(redis_url).flushall()
    # Before, Flask-Limiter asked Redis again only 4 s after its last try, then 8 s, 16 s…
    assert wait_until(lambda: visitor.get("/api/openapi.yaml").status_code == 200 and bool(_limit_keys(redis_url)), 2)


def test_the_slow_bound_setting_is_the_limits_timeout_and_the_breakers_bound(
    make_app: AppFactory, relay: TcpRelay, redis_url: str
) -> None:
    """A Redis far enough away for ``MOODTAPE_REDIS_SLOW_MS=1000``: the limit still counts in it."""
    url = f"redis://127.0.0.1:{relay.port}/0"
    visitor = make_app(MOODTAPE_RATE_LIMIT="1000", MOODTAPE_REDIS_URL=url, MOODTAPE_REDIS_SLOW_MS="1000").test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200  # connections made
    shared = client_for(url)
    assert shared is not None and breaker_for(shared).slow_s == breaker_for(shared).bound_for(1.0)
    redis.Redis.from_url(redis_url).flushall()
    relay.slow(0.3)  # over the default 0.25 s, within the setting
    assert visitor.get("/api/openapi.yaml").status_code == 200
    relay.slow(0)
    assert _limit_keys(redis_url)  # counted in Redis, not in this process after a timeout


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_redis_out_of_memory_leaves_the_limit_on_in_each_process_and_says_so_once(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads still work on a full Redis, writes do not: an early version of this storage went back to
    Redis on each read and logged the fall to memory again on each request."""
    with redis_of_its_own(tmp_path / "redis") as server:
        visitor = make_app(MOODTAPE_RATE_LIMIT="3", MOODTAPE_REDIS_URL=server.url).test_client()
        server.fill_to_maxmemory()
        with caplog.at_level(logging.WARNING, logger="moodtape.web.ratelimit"):
            statuses = [visitor.get("/api/openapi.yaml").status_code for _ in range(6)]
        assert statuses == [200] * 3 + [429] * 3  # never a 500, and the limit holds in this process
        assert caplog.text.count("counting in this process") == 1


def _storage(url: str) -> SharedOrLocalStorage:
    return SharedOrLocalStorage(SCHEME_PREFIX + url, socket_timeout=0.25)


@pytest.mark.usefixtures("still_limiter_clock")
def test_an_acquire_a_full_redis_refuses_does_not_bring_the_count_back_to_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Over the limit, Redis's sliding-window script writes nothing, so a full Redis refuses without an
    error: taken as Redis answering again, it logged "counted in Redis again", and the next request
    allowed (a write: out of memory) logged the fall to memory again, two lines a client a second."""
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = _storage(server.url)
        assert [storage.acquire_sliding_window_entry("busy", 2, 60) for _ in range(3)] == [True, True, False]
        server.fill_to_maxmemory()
        with caplog.at_level(logging.INFO, logger="moodtape.web.ratelimit"):
            for _ in range(3):
                assert storage.acquire_sliding_window_entry("new", 100, 60)  # out of memory: counted here
                assert not storage.acquire_sliding_window_entry("busy", 2, 60)  # refused by Redis, nothing written
        assert caplog.text.count("counting in this process") == 1
        assert "counted in Redis again" not in caplog.text


@pytest.mark.usefixtures("still_limiter_clock")
def test_counts_made_in_this_process_during_an_outage_are_forgotten_once_redis_takes_them_again(
    tmp_path: Path,
) -> None:
    """Kept, they refused a client at the start of the next outage for what it did in the last one."""
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = _storage(server.url)
        server.fill_to_maxmemory()
        assert [storage.acquire_sliding_window_entry("visitor", 2, 60) for _ in range(3)] == [True, True, False]
        redis.Redis.from_url(server.url).config_set("maxmemory", "0")  # room again
        assert storage.acquire_sliding_window_entry("someone-else", 2, 60)  # a write in Redis: shared again
        redis.Redis.from_url(server.url).config_set("maxmemory", "1mb")  # full again: the next outage
        assert storage.acquire_sliding_window_entry("visitor", 2, 60)


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_reset_clears_the_counts_of_this_process_too(tmp_path: Path) -> None:
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = _storage(server.url)
        server.fill_to_maxmemory()
        assert [storage.acquire_sliding_window_entry("visitor", 2, 60) for _ in range(3)] == [True, True, False]
        storage.reset()  # Redis answers it (a delete goes through on a full Redis)
        assert storage.acquire_sliding_window_entry("visitor", 2, 60)


def test_a_failed_check_is_a_failure_not_redis_answering_again(caplog: pytest.LogCaptureFixture) -> None:
    """limits' own check answers a refused connection with False; taken as an answer, it said
    "counted in Redis again" while Redis was still away, and the next count said it was away again."""
    storage = _storage(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with caplog.at_level(logging.INFO, logger="moodtape.web.ratelimit"):
        assert storage.acquire_sliding_window_entry("visitor", 5, 60)  # refused connection: counted here
        assert not storage.check()
        assert storage.acquire_sliding_window_entry("visitor", 5, 60)
    assert caplog.text.count("counting in this process") == 1
    assert "counted in Redis again" not in caplog.text


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_full_redis_answering_the_check_does_not_bring_the_count_back_to_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A PING writes nothing: a full Redis answers it, and still refuses the next count."""
    with redis_of_its_own(tmp_path / "redis") as server:
        storage = _storage(server.url)
        server.fill_to_maxmemory()
        with caplog.at_level(logging.INFO, logger="moodtape.web.ratelimit"):
            assert storage.acquire_sliding_window_entry("visitor", 5, 60)  # out of memory: counted here
            assert storage.check()
            assert storage.acquire_sliding_window_entry("visitor", 5, 60)
        assert caplog.text.count("counting in this process") == 1
        assert "counted in Redis again" not in caplog.text


def test_one_limit_call_timing_out_does_not_open_the_breaker_for_everyone(
    make_app: AppFactory, relay: TcpRelay
) -> None:
    """The limit's own timeout is the slow bound: one Redis pause of 0.3 s is one slow call, not an
    outage that turns every request needing Redis away for a second."""
    url = f"redis://127.0.0.1:{relay.port}/0"
    visitor = make_app(MOODTAPE_RATE_LIMIT="100", MOODTAPE_REDIS_URL=url).test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200  # connections made
    relay.slow(0.3)
    try:
        assert visitor.get("/api/openapi.yaml").status_code == 200  # its limit call timed out: counted here
    finally:
        relay.slow(0)
    shared = client_for(url)
    assert shared is not None
    with redis_errors(shared):
        shared.get("moodtape:anything")
    assert not breaker_for(shared).is_open


def test_a_refusal_says_when_to_retry_from_the_count_every_instance_shares(
    make_app: AppFactory, redis_url: str
) -> None:
    """Two instances on one Redis, one request in 5 s: the second instance's 429 waits out the
    window the first one's request opened in Redis, not the empty one of its own memory."""
    first, second = (make_app(MOODTAPE_RATE_LIMIT="0.2", MOODTAPE_REDIS_URL=redis_url).test_client() for _ in range(2))
    assert first.get("/api/openapi.yaml").status_code == 200
    refused = second.get("/api/openapi.yaml")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 2
