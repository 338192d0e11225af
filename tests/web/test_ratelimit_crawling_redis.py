"""The rate limit's own Redis calls while Redis answers each one in a third of a second (web/ratelimit.py).

Every request but health checks and static files is counted in Redis, and the limit gave up on a
call only after 0.5 s: a probe with Redis 0.3 s late (``moodtape serve``, 4 request threads) saw
the page take 1.26 s at the median and answered 0.8 times a second. Now a call past 0.25 s sends
the limit to this process's memory until Redis answers in time again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webtools import AppFactory

from redis_commands import commands_sent
from redis_server import RedisServer
from tcp_relay import TcpRelay


@pytest.fixture
def relay(redis_server: RedisServer, redis_url: str) -> Iterator[TcpRelay]:
    with TcpRelay(redis_server.port) as relay:
        yield relay


def test_requests_do_not_wait_on_a_redis_a_third_of_a_second_late(
    make_app: AppFactory, relay: TcpRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: a request that sends the limit's call waits out its bound, one that sends
    nothing cannot wait on Redis (a bound on the requests' time could fail on a loaded machine)."""
    app = make_app(MOODTAPE_RATE_LIMIT="100", MOODTAPE_REDIS_URL=f"redis://127.0.0.1:{relay.port}/0")
    visitor = app.test_client()
    assert visitor.get("/api/openapi.yaml").status_code == 200  # counted in Redis, in time
    sent = commands_sent(monkeypatch)
    relay.slow(0.35)
    asked = []
    for _ in range(6):
        assert visitor.get("/api/openapi.yaml").status_code == 200
        asked.append(list(sent))
        sent.clear()
    relay.slow(0)
    # Three calls past the 0.25 s bound in a row (the first one's EVALSHA, then a new connection's
    # HELLO twice) open the breaker; after that the limit counts in this process without asking.
    # Before, each request sent its EVALSHA and waited 0.35 s for the answer.
    assert asked[0] and asked[3:] == [[]] * 3, asked
