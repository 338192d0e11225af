"""A real Redis behind a relay the test can slow down or stall (tests/tcp_relay.py), and a client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from moodtape.state.connection import connect
from redis_server import RedisServer
from tcp_relay import TcpRelay


@pytest.fixture
def relay(redis_server: RedisServer, redis_url: str) -> Iterator[TcpRelay]:
    with TcpRelay(redis_server.port) as relay:
        yield relay


@pytest.fixture
def client(relay: TcpRelay) -> redis.Redis:
    return connect(f"redis://127.0.0.1:{relay.port}/0")
