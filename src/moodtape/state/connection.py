"""One Redis connection pool per process, and the error a request gets while Redis is away.

Every Redis call in moodtape goes through :func:`redis_errors`, which turns the client's connection
and timeout errors into :class:`SharedStateError` (HTTP 503 with a JSON body): a request that needs
shared state while Redis restarts fails clearly and at once, and the next one after Redis is back
succeeds, because the pool reconnects by itself. A Redis that answers but refuses (a read-only
replica after a failover, ``maxmemory`` reached, writes stopped after a failed snapshot) is the
same kind of outage for the person asking, and gets the same 503 rather than a 500 (a full one as
:class:`SharedStateFullError`, so that readiness names it as Redis being full). Each of these
503s carries ``Retry-After: 1``. A Redis that turns moodtape away for a reason of its settings (a
wrong or missing password, an ACL user without a command moodtape needs, a database number it does
not have, a TLS certificate not trusted) gets the 503 too, with a message that names the setting to
change rather than "retry in a few seconds", never with the password. These and a full Redis are
logged at every request that meets them, marked so that the log filter ``moodtape serve`` installs
(``web/logs.py``) writes each once and then sums it up once a minute, with a count.
After a call to Redis timed out or crawled, the calls of the
next second get that 503 at once, without waiting on Redis (:mod:`moodtape.state.breaker`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from moodtape.config import Url, refuse_unencoded_password, unreadable_url
from moodtape.errors import MoodtapeError
from moodtape.state.breaker import OPEN_S, BreakerOpen, breaker_for, set_bound_for
from moodtape.url_passwords import url_scheme

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

    def __init__(self, message: str, for_operators: str | None = None) -> None:
        super().__init__(message)
        #: The message with Redis's own words in it (they may name the ACL user), for the log and
        #: ``/readyz``; the 503 a visitor gets says only ``message``.
        self.for_operators = for_operators or message


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
        SettingsError: its password has a character that ends the host part unencoded (checked by the
            settings), or redis-py cannot read the URL.
    """
    import redis

    if url_scheme(url) not in ("redis", "rediss", "unix"):  # not urlsplit: it may quote the password
        shown = Url.without_password(url)
        raise ValueError(f"MOODTAPE_REDIS_URL must start with redis://, rediss:// or unix://, got {shown!r}")
    refuse_unencoded_password("MOODTAPE_REDIS_URL", url)  # checked at start too, by the settings
    try:
        return redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=30,
            decode_responses=False,
        )
    except ValueError:  # redis-py's words may quote a piece of the password ("… as 'Pw'"): never shown
        raise unreadable_url("MOODTAPE_REDIS_URL", url) from None


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
        raise _breaker_open_error(client) from None
    except redis.AuthenticationError:  # a ConnectionError to redis-py: caught before it
        raise _misconfigured(client, "refused moodtape's login", _LOGIN_REFUSED) from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        tls = _tls_trouble(exc)
        if tls:
            raise _misconfigured(client, f"could not be reached over TLS ({tls[0]})", tls[1]) from None
        if isinstance(exc, redis.TimeoutError):
            raise _momentary(client, no_answer_in_time(client)) from None
        raise _momentary(
            client,
            f"the shared state ({_where(client)}) is not answering ({type(exc).__name__}); "
            f"{_RETRY_HINT}{_tls_port_hint(client, exc)}",
        ) from None
    except redis.ReadOnlyError:
        # After a failover the pooled connections may still reach the old primary, now a replica:
        # drop them, so that the next request connects afresh (to the new primary behind the name).
        client.connection_pool.disconnect()
        _settings_trouble.pop(client.connection_pool, None)
        raise _replica_error(client) from None
    except redis.ResponseError as exc:
        if _is_not_permitted(exc):
            fix = _NOT_PERMITTED_IN_SCRIPT if _SCRIPT_NOT_PERMITTED in str(exc) else _NOT_PERMITTED
            raise _misconfigured(client, "refused a command", fix, redis_said=_said(exc)) from None
        if _NO_SUCH_DATABASE in str(exc):
            raise _misconfigured(client, "has no such database", _NO_DATABASE) from None
        if _is_full(exc):
            _log_refusal("Redis is full (maxmemory reached) and refuses writes")
            _settings_trouble.pop(client.connection_pool, None)
            raise SharedStateFullError(
                f"the shared state ({_where(client)}) is full (its maxmemory is reached) and refuses writes; "
                "retry later, and give it more memory or --maxmemory-policy volatile-lru (docs/deployment.md)"
            ) from None
        _log_refusal(f"Redis refused a command: {_said(exc)}")
        raise _momentary(
            client,
            f"the shared state ({_where(client)}) refused the request ({type(exc).__name__}); "
            "the Redis server's log says why (out of memory, a failed snapshot…)",
        ) from None
    else:
        _settings_trouble.pop(client.connection_pool, None)  # answered: whatever was wrong is mended


def _breaker_open_error(client: redis.Redis) -> SharedStateError:
    """The 503 while the breaker is open: the setting to change when that is what opened it.

    A rediss:// URL at a plain port times out in the TLS handshake, which opens the breaker; without
    the remembered cause every call after the first was told "retry in a few seconds" instead.
    """
    remembered = _settings_trouble.get(client.connection_pool)
    if remembered is not None:  # a new error each time: threads raising one at once share no traceback
        return SharedStateError(*remembered)
    breaker = breaker_for(client)
    if breaker.opened_by_timeout:  # the same words as the timeout itself: the same condition
        return SharedStateError(no_answer_in_time(client))
    return SharedStateError(
        f"the shared state ({_where(client)}) answered slower than {breaker.slow_s * 1000:.0f} ms "
        f"{breaker.slow_calls} times in a row, and is not asked again for up to {OPEN_S:g} s; {_RETRY_HINT}"
    )


#: How every 503 for trouble of the moment ends: what a visitor may do, and what an operator checks.
_RETRY_HINT: Final[str] = "retry in a few seconds, and check MOODTAPE_REDIS_URL if it lasts"


def no_answer_in_time(client: redis.Redis, within_s: float = SOCKET_TIMEOUT) -> str:
    """What a Redis that did not answer within ``within_s`` is called, wherever that was seen.

    One condition, one wording: a Redis stopped (SIGSTOP, a frozen host) was told three ways at once,
    by the call that timed out ("is not answering (TimeoutError)"), by the breaker it opened ("timed
    out or was slow to answer a moment ago") and by ``/readyz``'s own bound ("Redis did not answer
    within 1 s"), so instances compared side by side seemed to fail for different reasons.
    """
    return f"the shared state ({_where(client)}) did not answer within {within_s:g} s; {_RETRY_HINT}"


def _momentary(client: redis.Redis, message: str) -> SharedStateError:
    """A 503 for trouble of the moment: any settings refusal remembered for the breaker is over."""
    _settings_trouble.pop(client.connection_pool, None)
    return SharedStateError(message)


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


#: What to change when Redis turns moodtape away for a reason of its settings, not of the moment.
#: Each was told as "not answering (AuthenticationError); retry in a few seconds" or "refused the
#: request (ResponseError); the Redis server's log says why", which no retry and no log line mends.
_LOGIN_REFUSED: Final[str] = (
    "the user or password in MOODTAPE_REDIS_URL (redis://user:password@host:port/db) is wrong, "
    "or missing where Redis requires one (requirepass, or an ACL user)"
)
_TLS_REFUSED: Final[str] = (
    "a rediss:// URL checks the server's certificate against the system's CAs: name your own CA with "
    "?ssl_ca_certs=/path/ca.pem in MOODTAPE_REDIS_URL, and use rediss:// only for a TLS port"
)
_TLS_NAME_MISMATCH: Final[str] = (
    "put the host name the server's certificate is for (its subjectAltName) in MOODTAPE_REDIS_URL, "
    "not another name or address of the same server"
)
_NOT_PERMITTED: Final[str] = (
    "the ACL user in MOODTAPE_REDIS_URL lacks a command or key moodtape needs (Redis's ACL LOG names "
    "which); give it the ACL rule in docs/deployment.md"
)
_NOT_PERMITTED_IN_SCRIPT: Final[str] = (
    "the ACL user in MOODTAPE_REDIS_URL lacks a command a script of moodtape's runs (ACL LOG on the "
    "Redis server names which); give it the ACL rule in docs/deployment.md"
)
_NO_DATABASE: Final[str] = "the /db number in MOODTAPE_REDIS_URL must be below the server's `databases` (16 by default)"
#: Redis's answer to a SELECT of a database number it does not have.
_NO_SUCH_DATABASE: Final[str] = "DB index is out of range"
#: Set (``extra=``) on the lines that say Redis turned moodtape away (full, a setting, a refused
#: command): every request meeting one writes one, and the log filter ``moodtape serve`` installs
#: (``web/logs.py``) writes the first of each and sums up the rest, counting them all.
REFUSAL_MARK: Final[str] = "moodtape_redis_refusal"


def _log_refusal(message: str) -> None:
    """Warn that Redis turned moodtape away, marked so that the server's log filter sums such lines up."""
    log.warning("shared state: %s", message, extra={REFUSAL_MARK: True})


#: The last settings refusal met through each connection pool that opened its breaker (its message,
#: and the message for operators), kept until Redis answers (any caller's call: see
#: :func:`forget_settings_trouble`) or fails otherwise: the breaker-open 503 repeats it
#: (:func:`_breaker_open_error`). A refusal answered at once (a wrong password, an ACL user without a
#: command) opens no breaker, so it is not kept: a breaker opened after it by slow calls was told
#: as that refusal, blaming the ACL while Redis was only slow.
_settings_trouble: weakref.WeakKeyDictionary[object, tuple[str, str]] = weakref.WeakKeyDictionary()


def forget_settings_trouble(client: redis.Redis) -> None:
    """Forget the settings refusal remembered for ``client``'s pool: a caller that shares its breaker
    but not :func:`redis_errors` (the rate limit) got an answer, so the refusal is no longer why the
    breaker is or will be open."""
    _settings_trouble.pop(client.connection_pool, None)


def _misconfigured(client: redis.Redis, what: str, fix: str, redis_said: str = "") -> SharedStateError:
    """The 503 for a Redis that turns moodtape away until a setting changes, logged (see :func:`_log_refusal`).

    Nothing of the URL but host and port goes into the message or the log: never its password.
    ``redis_said`` (Redis's own words, which may name the ACL user) goes to the log and to
    ``/readyz`` (:attr:`SharedStateError.for_operators`), not into the 503 a visitor reads.
    """
    told = f"the shared state ({_where(client)}) {what}"
    detailed = f"{told} ({redis_said})" if redis_said else told
    _log_refusal(f"{detailed}: {fix}")
    if breaker_for(client).is_open:  # this call opened it (a TLS handshake that timed out): say so while open
        _settings_trouble[client.connection_pool] = (f"{told}: {fix}", f"{detailed}: {fix}")
    else:  # answered at once: a breaker opened later is opened by something else (a slow Redis)
        _settings_trouble.pop(client.connection_pool, None)
    return SharedStateError(f"{told}: {fix}", for_operators=f"{detailed}: {fix}")


#: How Redis words an ACL refusal met inside a script (EVAL): a plain error, not ``NOPERM``.
_SCRIPT_NOT_PERMITTED: Final[str] = "The user executing the script can't"


def _is_not_permitted(exc: Exception) -> bool:
    """Whether ``exc`` is Redis's ACL refusing moodtape's user a command or a key, directly or in a script."""
    import redis

    return isinstance(exc, redis.exceptions.NoPermissionError) or _SCRIPT_NOT_PERMITTED in str(exc)


def _said(exc: Exception) -> str:
    """Redis's own words for a refusal, on one line and short (it names a command or a key pattern)."""
    return " ".join(str(exc).split())[:160]


#: OpenSSL's codes for a certificate that is trusted but made out for another name or address.
_NAME_MISMATCH_CODES: Final[frozenset[int]] = frozenset({62, 64})  # X509_V_ERR_HOSTNAME_/IP_ADDRESS_MISMATCH


def _tls_trouble(exc: Exception) -> tuple[str, str] | None:
    """What went wrong in a TLS handshake behind a connection error and what to change, or None when
    TLS is not the cause.

    A certificate that does not verify, or a rediss:// URL pointed at a plain port (the handshake
    waits for an answer that never comes), fails the same way on every retry. A certificate made out
    for another name is no matter of trust: naming a CA (the usual advice) does not mend it.
    """
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes is short; a cycle in one must not hang the request
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            if seen.verify_code in _NAME_MISMATCH_CODES:
                return f"certificate for another name: {seen.verify_message}", _TLS_NAME_MISMATCH
            return f"certificate not trusted: {seen.verify_message}", _TLS_REFUSED
        if isinstance(seen, ssl.SSLError):
            return f"TLS error: {seen.reason or seen}", _TLS_REFUSED
        if isinstance(seen, TimeoutError) and "handshake" in str(seen):
            return "no TLS handshake: is that port a TLS port?", _TLS_REFUSED
        seen = seen.__cause__ or seen.__context__
    return None


#: redis-py's words for a connection the server closed without answering.
_CLOSED_BY_SERVER: Final[str] = "Connection closed by server"


def _tls_port_hint(client: redis.Redis, exc: Exception) -> str:
    """A hint for a redis:// URL whose connection was cut without an answer, or "".

    A TLS-only Redis port resets a connection that speaks plain Redis to it (measured: Redis 7 with
    ``--tls-port``, "Connection reset by peer" at the first command), which read "not answering
    (ConnectionError)" like a Redis that is down. A plain Redis never cuts a fresh connection
    unanswered, so the hint is worth its words; it stays a hint, as a network can reset too.

    Only the error raised and its direct ``__cause__`` are judged, never what was being handled
    when it came (``__context__``): redis-py retries, so a Redis that is simply stopped after
    answering once raised "Connection refused" while handling "Connection closed by server" (the
    pooled connection's), and the hint told operators of the most common outage to use rediss://.
    """
    import redis

    if client.connection_pool.connection_class is not redis.Connection:  # rediss:// or unix://: not this
        return ""
    for seen in (exc, exc.__cause__):
        if isinstance(seen, ConnectionResetError) or (seen is not None and _CLOSED_BY_SERVER in str(seen)):
            return "; the connection was closed before Redis answered: if that port expects TLS, use rediss://"
    return ""


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
