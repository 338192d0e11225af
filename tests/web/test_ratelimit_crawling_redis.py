"""The rate limit's own Redis calls while Redis answers each one in a third of a second (web/ratelimit.py).

Every request but health checks and static files is counted in Redis, and the limit gave up on a
call only after 0.5 s: a probe with Redis 0.3 s late (``moodtape serve``, 4 request threads) saw
the page take 1.26 s at the median and answered 0.8 times a second. Now a call past 0.25 s sends
the limit to this process's memory until Redis answers in time again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from webtools import AppFactory

from redis_server import RedisServer
from tcp_relay import TcpRelay


@pytest.fixture
def relay(redis_server: RedisServer, redis_url: str) -> Iterator[TcpRelay]:
    with TcpRelay(redis_server.port) as relay:
        yield relay


def test_requests_do_not_wait_on_a_redis_a_third_of_a_second_late(make_app: AppFactory, relay: TcpRelay) -> None:
    app = make_app(MOODTAPE_RATE_LIMIT="100", MOODTAPE_REDIS_URL=f"redis://127.0.0.1:{relay.port}/0")
    visitor = app.test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200  # counted in Redis, in time
    relay.slow(0.35)
    visitor.get("/api/openapi.yaml")  # waits for its bound, then the limit counts in memory
    took = []
    for _ in range(5):
        started = time.monotonic()
        assert visitor.get("/api/openapi.yaml").status_code == 200
        took.append(time.monotonic() - started)
    relay.slow(0)
    # Before, each request waited 0.35 s for Redis's answer to the limit's call.
    assert sorted(took)[2] < 0.2, took
