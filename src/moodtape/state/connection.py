"""One Redis connection pool per process, and the error a request gets while Redis is away.

Every Redis call in moodtape goes through :func:`redis_errors`, which turns the client's connection
and timeout errors into :class:`SharedStateError` (HTTP 503 with a JSON body): a request that needs
shared state while Redis restarts fails clearly and at once, and the next one after Redis is back
succeeds, because the pool reconnects by itself. A Redis that answers but refuses (a read-only
replica after a failover, ``maxmemory`` reached, writes stopped after a failed snapshot) is the
same kind of outage for the person asking, and gets the same 503 rather than a 500 (a full one as
:class:`SharedStateFullError`, so that readiness names it as Redis being full). Each of these
503s carries ``Retry-After: 1``. After a call to Redis timed out or crawled, the calls of the
next second get that 503 at once, without waiting on Redis (:mod:`moodtape.state.breaker`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from moodtape.errors import MoodtapeError
from moodtape.state.breaker import OPEN_S, BreakerOpen, breaker_for, set_bound_for

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

#: Seconds a Redis call may take; Redis answers in well under a millisecond when healthy, so a
#: short bound keeps requests from queueing behind a Redis that is down or partitioned.
SOCKET_TIMEOUT: Final[float] = 1.0
#: Seconds a client is asked to wait (``Retry-After``) before sending again a request that met an
#: outage: without it, the 503s said nothing of when to retry.
RETRY_AFTER_S: Final[int] = 1
#: Every key moodtape writes starts with this, so one Redis can be shared with other programs.
PREFIX: Final[str] = "moodtape:"


class SharedStateError(MoodtapeError):
    """Redis (the state instances share) is not answering; the request may be retried shortly."""

    status = 503
    code = "shared_state_unavailable"
    #: Sent as ``Retry-After``: Redis restarts in a second or two and the pool reconnects by itself.
    retry_after = RETRY_AFTER_S


class SharedStateFullError(SharedStateError):
    """Redis answers but refuses writes: it reached its ``maxmemory`` with nothing it may evict."""


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
    """Turn Redis connection trouble inside the block into :class:`SharedStateError`.

    The block runs through ``client``'s circuit breaker: while it is open, the block does not run
    and the error is raised at once.
    """
    import redis

    try:
        with breaker_for(client).call():
            yield
    except BreakerOpen:
        raise SharedStateError(
            f"the shared state ({_where(client)}) timed out or was slow to answer a moment ago, and is not asked "
            f"again for up to {OPEN_S:g} s; retry in a few seconds, and check MOODTAPE_REDIS_URL if it lasts"
        ) from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise SharedStateError(
            f"the shared state ({_where(client)}) is not answering ({type(exc).__name__}); "
            "retry in a few seconds, and check MOODTAPE_REDIS_URL if it lasts"
        ) from None
    except redis.ReadOnlyError:
        # After a failover the pooled connections may still reach the old primary, now a replica:
        # drop them, so that the next request connects afresh (to the new primary behind the name).
        client.connection_pool.disconnect()
        raise _replica_error(client) from None
    except redis.ResponseError as exc:
        if _is_full(exc):
            log.warning("shared state: Redis is full (maxmemory reached) and refuses writes")
            raise SharedStateFullError(
                f"the shared state ({_where(client)}) is full (its maxmemory is reached) and refuses writes; "
                "retry later, and give it more memory or --maxmemory-policy volatile-lru (docs/deployment.md)"
            ) from None
        log.warning("shared state: Redis refused a command: %s", exc)
        raise SharedStateError(
            f"the shared state ({_where(client)}) refused the request ({type(exc).__name__}); "
            "the Redis server's log says why (out of memory, a failed snapshot…)"
        ) from None


#: What Redis says when it refuses a write at its ``maxmemory``: the start of its ``OOM`` error, which
#: before Redis 7.0 comes back inside a plain "Error running script" error when a script's write met it.
_FULL_REFUSAL: Final[str] = "OOM command not allowed"


def _is_full(exc: Exception) -> bool:
    """Whether ``exc`` is Redis refusing a write at its ``maxmemory``.

    redis-py raises ``OutOfMemoryError`` only for an error that begins with ``OOM``; a script's write
    (EVAL: the fingerprints readiness notes, ``state/instances.py``; the analysis windows) that met it
    on Redis before 7.0 came back as a plain ``ResponseError``, told as "refused the request".
    """
    import redis

    return isinstance(exc, redis.exceptions.OutOfMemoryError) or _FULL_REFUSAL in str(exc)


def _where(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"Redis at {kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def _replica_error(client: redis.Redis) -> SharedStateError:
    return SharedStateError(
        f"the shared state ({_where(client)}) is a read-only replica; point MOODTAPE_REDIS_URL at the primary"
    )


def ping(client: redis.Redis) -> None:
    """Raise :class:`SharedStateError` unless Redis answers and takes writes.

    A replica answers PING too, so readiness also asks for the server's role: an instance whose
    Redis became a replica after a failover would otherwise stay in rotation and fail every write.
    """
    import redis

    with redis_errors(client):
        client.ping()
        try:
            role = client.execute_command("ROLE")  # type: ignore[no-untyped-call]
        except redis.ResponseError:  # ROLE renamed or disabled by a managed service: PING must do
            return
        if role and role[0] in (b"slave", "slave", b"replica", "replica"):
            raise _replica_error(client)


@functools.lru_cache(maxsize=4)
def shared_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL per process; redis-py resets the pool after a fork."""
    return connect(url)


def client_for(url: str, slow_s: float | None = None) -> redis.Redis | None:
    """The shared client for ``MOODTAPE_REDIS_URL``'s value, or None when it is empty.

    ``slow_s`` (``MOODTAPE_REDIS_SLOW_MS``, given where the app starts) becomes its breaker's bound.
    """
    url = url.strip()
    if not url:
        return None
    client = shared_client(url)
    if slow_s is not None:
        set_bound_for(client, slow_s)
    return client
