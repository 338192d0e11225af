"""One Redis connection pool per process, and the error a request gets while Redis is away.

Every Redis call in moodtape goes through :func:`redis_errors`, which turns the client's connection
and timeout errors into :class:`SharedStateError` (HTTP 503 with a JSON body): a request that needs
shared state while Redis restarts fails clearly and at once, and the next one after Redis is back
succeeds, because the pool reconnects by itself.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from moodtape.errors import MoodtapeError

if TYPE_CHECKING:
    import redis

#: Seconds a Redis call may take; Redis answers in well under a millisecond when healthy, so a
#: short bound keeps requests from queueing behind a Redis that is down or partitioned.
SOCKET_TIMEOUT: Final[float] = 1.0
#: Every key moodtape writes starts with this, so one Redis can be shared with other programs.
PREFIX: Final[str] = "moodtape:"


class SharedStateError(MoodtapeError):
    """Redis (the state instances share) is not answering; the request may be retried shortly."""

    status = 503
    code = "shared_state_unavailable"


def describe(url: str) -> str:
    """``host:port/db`` of a Redis URL, without the password, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (``redis://[:password@]host:port/db``); connects on first use.

    Raises:
        ValueError: the URL is not a Redis URL.
    """
    import redis

    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"MOODTAPE_REDIS_URL must start with redis://, rediss:// or unix://, got {describe(url)!r}")
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
        decode_responses=False,
    )


@contextlib.contextmanager
def redis_errors(client: redis.Redis) -> Iterator[None]:
    """Turn Redis connection trouble inside the block into :class:`SharedStateError`."""
    import redis

    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        where = client.connection_pool.connection_kwargs.get("host", "?")
        port = client.connection_pool.connection_kwargs.get("port", "?")
        raise SharedStateError(
            f"the shared state (Redis at {where}:{port}) is not answering ({type(exc).__name__}); "
            "retry in a few seconds, and check MOODTAPE_REDIS_URL if it lasts"
        ) from None


def ping(client: redis.Redis) -> None:
    """Raise :class:`SharedStateError` unless Redis answers."""
    with redis_errors(client):
        client.ping()


@functools.lru_cache(maxsize=4)
def shared_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process; redis-py resets the pool after a fork."""
    return connect(url)


def client_for(url: str) -> redis.Redis | None:
    """The shared client for ``MOODTAPE_REDIS_URL``'s value, or None when it is empty."""
    url = url.strip()
    return shared_client(url) if url else None
