"""Shared plumbing for the live providers: one JSON request helper, a TTL cache, a circuit breaker.

Every live call goes through :func:`request_json`, so every provider gets the same behaviour:

- a timeout on each attempt;
- bounded retries with exponential backoff on 5xx and 429, honouring ``Retry-After`` but never
  sleeping more than :attr:`RetryPolicy.max_wait` seconds in total for one request (a person is
  waiting for the page);
- transport failures, timeouts and malformed JSON turned into :class:`ProviderError` subclasses
  whose message a person can read;
- a deadline on each attempt as a whole (a reply trickling in a byte at a time ends there) and a cap
  on a reply's size once unpacked (a small gzip body that would unpack to gigabytes stops at the cap).

Cached calls go through :func:`fetch_once`, so that visitors asking for the same thing at the same
moment send one call between them, not one each (the others wait for its answer).

Secrets (API keys, client secrets, tokens) never appear in messages or logs: callers pass them in
``secrets`` and anything quoted from a reply is scrubbed; URLs are never logged or quoted.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import logging
import math
import random
import sys
import threading
import time
import types
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Protocol, TypeVar

import httpx

from moodtape.errors import ProviderError, ProviderUnreachableError, QuotaExceededError
from moodtape.metrics import PROVIDER_CALLS, PROVIDER_ERRORS, count_lookup

if TYPE_CHECKING:
    from moodtape.state.pauses import SharedPause

log = logging.getLogger("moodtape.providers")

#: Returns seconds; ``time.time`` in production, a fake in tests.
Clock = Callable[[], float]
#: Sleeps for the given seconds; ``time.sleep`` in production, a recorder in tests.
Sleep = Callable[[float], None]
#: Maps a non-2xx reply to the error to raise, or None to let :func:`request_json` decide.
ErrorHook = Callable[[httpx.Response], ProviderError | None]
#: Maps a 2xx reply's decoded body to the error it carries (Deezer answers its errors with 200),
#: or None when it is an answer. See :meth:`ServiceClient.request`.
AnswerCheck = Callable[[Any], ProviderError | None]
#: Gives back a claim taken with :meth:`Cache.claim`; never raises.
Release = Callable[[], None]

V = TypeVar("V")
E = TypeVar("E", bound=BaseException)

_MAX_QUOTED = 200  # characters of a provider's own error message we quote back

#: The most bytes one reply may hold once unpacked. A search page of Spotify or YouTube is tens of
#: kilobytes; a 400 KB gzip body that unpacks to 400 MB took that much memory per request before.
MAX_REPLY_BYTES: Final = 4 * 1024 * 1024
#: Seconds a service is paused once :data:`TROUBLE_STRIKES` requests met a final 5xx (see
#: :class:`TroubleCounter`), and seconds one such request is not sent again: a struggling service is
#: not sent every visitor's retries.
TROUBLE_PAUSE: Final = 30
#: Different requests that must meet a final 5xx within :data:`TROUBLE_WINDOW` seconds before the
#: whole service pauses, and then only if they are at least :data:`TROUBLE_SHARE` of the requests
#: that ended in that window. One was enough before session 32, so a single query that upset the
#: service (its own words tripping a server bug) paused it for every visitor.
#: Per process: P processes send up to 3P failing requests (3 attempts each) per pause.
TROUBLE_STRIKES: Final = 3
#: The share of a window's requests (answered or failed after their retries) that must have failed
#: for :data:`TROUBLE_STRIKES` failures to pause the service: a half. A service failing as often as
#: it answers is paused; one failing a third of the time is not, so its other visitors are served.
TROUBLE_SHARE: Final = 0.5
#: Seconds within which :data:`TROUBLE_STRIKES` failing requests pause the service.
TROUBLE_WINDOW: Final = 30
#: The most failed requests held back at once, each for :data:`TROUBLE_PAUSE` seconds: a bound on
#: memory when visitors send thousands of different failing queries. Forgetting the oldest costs
#: only its retries, should it be sent again before its pause ends.
TROUBLE_REMEMBERED: Final = 256
#: Seconds no call goes out after a 429 that named no ``Retry-After``.
RATE_LIMIT_PAUSE: Final = 60
#: The longest pause a ``Retry-After`` may impose (an hour), so a wrong header cannot stop a service for days.
MAX_PAUSE: Final = 3600
#: Seconds no call goes out after the service refused the credentials: they stay wrong until an
#: operator acts, and each call would only fail again (and, on YouTube, count against the budget).
AUTH_PAUSE: Final = 300


def redact(text: str, secrets: Iterable[str], mark: str = "***") -> str:
    """``text`` with every non-empty secret replaced by ``mark``, the longest first (a secret that
    begins another must not leave the other's tail behind)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, mark)
    return text


class Cache(Protocol[V]):
    """A provider's answer cache: :class:`TTLCache` in this process, or
    :class:`moodtape.state.cache.RedisCache` shared by every instance (``MOODTAPE_REDIS_URL``)."""

    ttl: float

    def get(self, key: Hashable) -> V | None: ...

    def set(self, key: Hashable, value: V, ttl: float | None = None) -> None: ...

    def claim(self, key: Hashable, seconds: float) -> Release | None:
        """The right to fill ``key`` for at most ``seconds``, or None while someone else holds it.

        Returns the function that gives the right back early; a holder that never calls it (its
        process died) blocks nobody past ``seconds``. See :func:`fetch_once`.
        """
        ...


class TTLCache(Generic[V]):
    """A small per-process cache: entries expire after ``ttl`` seconds, the oldest go past ``maxsize``.

    Thread-safe (the web server answers from several threads). ``clock`` is injectable so tests
    can move time forward. ``name``, when given, labels its hits and misses in the metrics.
    """

    def __init__(self, ttl: float, maxsize: int = 512, clock: Clock = time.monotonic, name: str = "") -> None:
        if ttl < 0 or maxsize <= 0:
            raise ValueError("ttl must be >= 0 and maxsize > 0")
        self.name = name
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        #: key → (when the claim ends, on time.monotonic; its holder's token). Real time, not
        #: ``clock``: a test's frozen clock must not make a claim last for ever.
        self._claims: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def claim(self, key: Hashable, seconds: float) -> Release | None:
        """The right to fill ``key`` for ``seconds`` in this process, or None while another thread holds it."""
        token = object()
        with self._lock:
            now = time.monotonic()
            held = self._claims.get(key)
            if held is not None and held[0] > now:
                return None
            for other in [k for k, (ends, _) in self._claims.items() if ends <= now]:
                del self._claims[other]  # lapsed claims, so the map never grows
            self._claims[key] = (now + seconds, token)

        def release() -> None:
            with self._lock:
                if self._claims.get(key, (0.0, None))[1] is token:  # not a later holder's claim
                    del self._claims[key]

        return release

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key``, or None when absent or expired."""
        with self._lock:
            value = self._get(key)
        if self.name:
            count_lookup(self.name, value is not None)
        return value

    def _get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def set(self, key: Hashable, value: V, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default: the cache's own TTL)."""
        lifetime = self.ttl if ttl is None else ttl
        with self._lock:
            self._entries[key] = (self._clock() + lifetime, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


#: Seconds between a waiting caller's tries to take the claim (each try is ±50 % of it, so that
#: callers who began waiting together do not all try at the same instant).
CLAIM_POLL: Final[float] = 0.05


def fetch_once(
    cache: Cache[V],
    key: Hashable,
    fetch: Callable[[], V],
    *,
    ttl: float | None = None,
    hold: float,
    wait: float | None = None,
    after_wait: Callable[[], V] | None = None,
    poll: float = CLAIM_POLL,
) -> V:
    """``key``'s cached value, or else ``fetch()``'s, stored for ``ttl`` seconds (None: the cache's own).

    Single flight: on a miss, the caller that takes :meth:`Cache.claim` on ``key`` fetches and
    stores; the others wait for that and then read the value from the cache, so visitors asking
    the same thing at the same moment send one call between them (with Redis: across instances).

    - A claim lasts at most ``hold`` seconds (give the longest a fetch may take): a holder whose
      process dies blocks the others only until then, and the first to try after takes it over.
    - A holder that fails gives the claim back at once; the next waiter then fetches itself
      (a spent budget or an open breaker answers it at once, as they would have without waiting).
    - A waiter that has not had the claim after ``hold`` seconds of its own (the holder is alive
      but slower than ``hold``) fetches without it, as every caller did before single flight.
    - ``wait``: the most seconds this caller may wait, when less than ``hold`` (what is left of
      its search's time budget: :meth:`ServiceClient.wait_allowed`). It then goes on as after
      ``hold``: the cache is read once more and ``fetch()`` is called, which a budget with no time
      left for an attempt answers at once (:class:`OutOfTimeError`). Held to ``hold`` alone, a
      visitor whose search had 5.1 s left waited 17.5 s on another visitor's claim.
    - ``after_wait``: called instead of ``fetch`` by a caller that waited for another's claim and
      found nothing stored, for a call that must then keep to what its wait left it (a first
      Spotify page, which always goes when it has not waited, no longer does: it fetched a token
      and sent itself 22.3 s into a search after waiting 12.5 s).
    - With a lifetime of 0 (``MOODTAPE_CACHE_TTL=0``) nothing is stored, so nothing is waited for.

    Waiting uses real time (``time.monotonic``, ``time.sleep``), never a provider's injected clock:
    ``wait`` is a length of time, read off that clock when the wait begins.
    """
    value = cache.get(key)
    if value is not None:
        return value
    if (cache.ttl if ttl is None else ttl) <= 0 or hold <= 0:  # waiters would find nothing, only wait
        return fetch()
    deadline = time.monotonic() + (hold if wait is None else max(0.0, min(hold, wait)))
    release = cache.claim(key, hold)
    waited = release is None
    while release is None and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, poll * random.uniform(0.5, 1.5)))  # jitter; never past the deadline
        release = cache.claim(key, hold)
    try:
        if waited:  # (not re-read when claimed at once: one lookup per request, in the metrics too)
            value = cache.get(key)  # filled by the holder we waited for
            if value is not None:
                return value
        value = after_wait() if waited and after_wait is not None else fetch()
        cache.set(key, value, ttl)
        return value
    finally:
        if release is not None:
            release()


class CircuitBreaker:
    """Stops calling a service for ``cooldown`` seconds after it failed, so an offline machine
    does not pay a timeout on every request.
    """

    def __init__(self, cooldown: float, clock: Clock = time.monotonic) -> None:
        self.cooldown = cooldown
        self._clock = clock
        self._open_until = 0.0
        self.reason: str | None = None
        self.kind: type[ProviderError] = ProviderUnreachableError

    def allow(self) -> bool:
        """True when calls may go out (the breaker is closed or its cooldown is over)."""
        return self._clock() >= self._open_until

    def trip(
        self, reason: str, seconds: float | None = None, kind: type[ProviderError] = ProviderUnreachableError
    ) -> None:
        """Stop calls for ``seconds`` (default: the cooldown), raising ``kind(reason)`` meanwhile: a
        paused rate limit stays a rate limit (429, skipped by the fetches that skip those), not an
        outage."""
        self.reason = reason
        self.kind = kind
        self._open_until = self._clock() + (self.cooldown if seconds is None else seconds)

    def reset(self) -> None:
        self.reason = None
        self.kind = ProviderUnreachableError
        self._open_until = 0.0

    def seconds_left(self) -> float:
        return max(0.0, self._open_until - self._clock())


class _PerSecond:
    """Events counted per whole second of a sliding window, oldest first: memory bounded by the
    window's seconds, whatever the traffic (a list of every failure kept 5000 entries, scanned on
    each new one under the lock, at 200 failures a second).

    The clock may be a wall clock (a caller's own, or one a test steps), which can step back;
    Spotify and YouTube pass ``time.monotonic`` since session 33. An event at or before the latest
    second counted is added to that second, so the seconds stay in order and their number bounded
    (a clock swinging back and forth made a new one each time), and :meth:`forget` drops the
    seconds after the window too: a step back longer than the window left an hour's answers
    counted as if they had just come.
    """

    def __init__(self) -> None:
        #: [whole second, events in it], oldest first
        self._counts: deque[list[int]] = deque()

    def add(self, now: float) -> None:
        second = math.floor(now)
        if self._counts and second <= self._counts[-1][0]:
            self._counts[-1][1] += 1
        else:
            self._counts.append([second, 1])

    def forget(self, now: float, window: float) -> None:
        """Drop the seconds outside ``(now - window, now + window]``."""
        while self._counts and self._counts[0][0] <= now - window:
            self._counts.popleft()
        while self._counts and self._counts[-1][0] > now + window:
            self._counts.pop()

    def total(self) -> int:
        return sum(count for _, count in self._counts)

    def clear(self) -> None:
        self._counts.clear()


class TroubleCounter:
    """Decides when requests that met a 5xx after every retry pause their whole service.

    A 5xx may belong to one request only: its words trip a bug on the server while every other
    query works. So such a failure is held against that request alone, which is not sent again for
    ``pause`` seconds (a visitor reloading it does not send three more calls each time). The
    service as a whole pauses once, within the last ``window`` seconds, ``strikes`` different
    requests failed so *and* the failures are at least ``share`` of the requests that ended
    (answered or failed). So one bad query among good ones pauses no one, while a service failing
    at least as often as it answers pauses and is spared every visitor's retries. At low traffic
    the share is of few requests: one visitor's 3 different failing searches between 2 answers to
    others pause everyone, as 3 of 5 failed.

    Before, each answer cancelled the oldest failure counted, so a service answering exactly as
    often as it failed (bad, good, bad, good…) never paused: each bad search cost its 3 attempts
    and a warning for as long as it lasted.

    Answers and failures are counted per second of the window (:class:`_PerSecond`), and only the
    last ``strikes`` different failed requests are kept to tell them apart. Requests are known by
    :func:`request_digest`, never kept in clear (a form may carry a secret). Per process, like the
    :class:`CircuitBreaker` it feeds; thread-safe.
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        strikes: int = TROUBLE_STRIKES,
        share: float = TROUBLE_SHARE,
        window: float = TROUBLE_WINDOW,
        pause: float = TROUBLE_PAUSE,
        remembered: int = TROUBLE_REMEMBERED,
    ) -> None:
        self.strikes = strikes
        self.share = share
        self.window = window
        self.pause = pause
        self._clock = clock
        self._remembered = remembered
        #: request digest → (when it may be sent again, the scrubbed message it failed with)
        self._failed: OrderedDict[str, tuple[float, str]] = OrderedDict()
        #: the last ``strikes`` different requests that failed → when, latest last
        self._recent: OrderedDict[object, float] = OrderedDict()
        self._failures = _PerSecond()
        self._answers = _PerSecond()
        self._lock = threading.Lock()

    def failed_lately(self, digest: str) -> tuple[str, float] | None:
        """The message the request ``digest`` failed with and the seconds before it may be sent
        again, or None. A wait longer than ``pause`` is the trace of a clock that stepped back
        since, so it holds nothing back."""
        with self._lock:
            until, reason = self._failed.get(digest, (0.0, ""))
            left = until - self._clock()
        return (reason, left) if 0 < left <= self.pause else None

    def strike(self, digest: str, reason: str, *, hold_back: bool = True) -> bool:
        """Note that the request ``digest`` met a 5xx after its retries; True when the whole service
        should pause now.

        ``hold_back=False`` for the app's own request (Spotify's token fetch), the same for every
        visitor: holding it back would stop the whole service on one failure, so it is not, and
        each of its failures counts as a different request (one per visitor who needed it).
        """
        with self._lock:
            now = self._clock()
            if hold_back:
                self._failed[digest] = (now + self.pause, reason)
                self._failed.move_to_end(digest)
                for key in [k for k, (until, _) in self._failed.items() if until <= now]:
                    del self._failed[key]
                while len(self._failed) > self._remembered:
                    self._failed.popitem(last=False)
            self._recent[digest if hold_back else object()] = now
            for stale in [k for k, when in self._recent.items() if abs(when - now) >= self.window]:
                del self._recent[stale]
            while len(self._recent) > self.strikes:
                self._recent.popitem(last=False)
            self._forget(now)
            self._failures.add(now)
            failures, answers = self._failures.total(), self._answers.total()
            if len(self._recent) < self.strikes or failures < self.share * (failures + answers):
                return False
            # The pause that follows: after it, as many failures again.
            self._recent.clear()
            self._failures.clear()
            self._answers.clear()
            return True

    def answered(self) -> None:
        """The service answered a request: one more request that did not fail, for the window's share."""
        with self._lock:
            now = self._clock()
            self._forget(now)
            self._answers.add(now)

    def _forget(self, now: float) -> None:
        """Drop the counts outside the window around ``now`` (the caller holds the lock)."""
        self._failures.forget(now, self.window)
        self._answers.forget(now, self.window)


def request_digest(method: str, url: str, params: object = None, data: object = None) -> str:
    """What tells one request from another, as a digest: method, URL, query and form only (not the
    headers, not a JSON body). The same search gives the same digest, and no key or token in it is
    kept in clear."""
    parts = (method.upper(), url, _sorted_items(params), _sorted_items(data))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _sorted_items(values: object) -> object:
    return sorted(values.items(), key=repr) if isinstance(values, Mapping) else values


@dataclass(frozen=True)
class RetryPolicy:
    """How hard :func:`request_json` tries.

    Attributes:
        attempts: total tries, the first included.
        backoff: first delay in seconds; it doubles after each retry.
        max_wait: the most seconds slept in total for one request. A ``Retry-After`` longer than
            what is left is not waited for: the call fails at once and says when to try again.
    """

    attempts: int = 3
    backoff: float = 0.25
    max_wait: float = 2.5


DEFAULT_RETRY = RetryPolicy()


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """The reply's ``Retry-After`` in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def wait_asked(response: httpx.Response) -> float | None:
    """The reply's ``Retry-After`` as a wait, or None when it asks for none: ``0``, ``-5`` or a date
    already past are read like a missing header (backoff between retries, :data:`RATE_LIMIT_PAUSE`
    after a final 429). Taken as they were, they sent both retries in the same instant and paused
    the service for 1 s, where a missing header waits 0.25 s then 0.5 s and pauses 60 s. So ``0``
    pauses 60 s while ``1`` pauses 1 s: intended, since ``0`` names no wait at all, like no header."""
    seconds = retry_after_seconds(response)
    return seconds if seconds is not None and seconds > 0 else None


def quote_api_message(message: object, secrets: Iterable[str] = ()) -> str:
    """A provider's error text made safe to show: a string, scrubbed, one line, not too long."""
    text = " ".join(str(message).split()) if message else ""
    text = redact(text, secrets)
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


def _wait_phrase(seconds: float | None) -> str:
    """When to try again, in a unit a person reads at a glance ("in about 1 h", not "3600 s");
    capped at :data:`MAX_PAUSE`, as no pause is longer."""
    if seconds is None:
        return "in a minute"
    seconds = min(seconds, MAX_PAUSE)  # no pause is longer, so no wait said is either
    if seconds >= 3600:
        return f"in about {round(seconds / 3600)} h"
    if seconds >= 90:
        return f"in about {round(seconds / 60)} min"
    return f"in about {max(1, math.ceil(seconds))} s"


def paused(error: ProviderError, seconds: float) -> ProviderError:
    """``error`` marked so that :class:`ServiceClient` sends no call for ``seconds`` after it."""
    error.retry_after = max(1, math.ceil(min(seconds, MAX_PAUSE)))
    return error


def one_requests_trouble(error: ProviderError) -> ProviderError:
    """``error`` marked as maybe one request's fault (a 5xx after its retries, a reply that cannot
    be read): :class:`ServiceClient` holds back that request for :data:`TROUBLE_PAUSE` seconds and
    pauses the whole service only as :class:`TroubleCounter` decides, never for this one alone."""
    error.counts_toward_pause = True
    return paused(error, TROUBLE_PAUSE)


def for_operator(error: E, detail: str) -> E:
    """``error``, whose message is worded for visitors, carrying ``detail`` for the operator.

    A visitor reads the message in the list's reasons and can do nothing about a setting; the
    operator reads :func:`operator_detail` in the log line :meth:`ServiceClient.fail` writes. The
    detail is a PEP 678 note: not part of ``str(error)``, but shown in any traceback.
    """
    error.add_note(detail)
    return error


def operator_detail(error: BaseException) -> str:
    """What the operator's log says of ``error``: the notes of :func:`for_operator`, else its message."""
    notes = getattr(error, "__notes__", None)
    return " ".join(notes) if notes else str(error)


def not_available_here(service: str) -> str:
    """The visitor's sentence for a failure only the operator can mend (a refused key, a bad setting).

    "Here", not "on this server": the same sentence is read on the page and in ``moodtape recommend``
    on a laptop, where the CLI also prints the operator's detail (see :mod:`moodtape.cli.recommend`).
    """
    return f"{service} is not available here for now; the built-in catalog stands in."


def rate_limited(service: str, retry_after: float | None) -> QuotaExceededError:
    """The error of a service that said "not so often" (a final 429; iTunes' 403), pausing it for
    ``retry_after`` seconds (:func:`wait_asked`; :data:`RATE_LIMIT_PAUSE` when None) and saying so."""
    wait = RATE_LIMIT_PAUSE if retry_after is None else retry_after
    error = QuotaExceededError(
        f"{service} is limiting how often moodtape may ask; try again {_wait_phrase(retry_after)}."
    )
    paused(error, wait)
    return error


def _final_status_error(service: str, response: httpx.Response, retry_after: float | None) -> ProviderError:
    status = response.status_code
    if status == 429:
        return rate_limited(service, retry_after)
    if status >= 500:
        # Maybe this request's fault alone: see TroubleCounter.
        return one_requests_trouble(
            ProviderError(f"{service} is having trouble (HTTP {status}); try again in a few minutes.")
        )
    return ProviderError(f"{service} refused the request (HTTP {status}).")


def request_json(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    params: Mapping[str, str | int] | None = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = time.sleep,
    on_error: ErrorHook | None = None,
    clock: Clock = time.monotonic,
    deadline: float | None = None,
) -> Any:
    """Send one request and return its decoded JSON body.

    ``service`` names the provider in messages ("Spotify"). ``on_error`` sees every non-2xx reply
    first and may return the error to raise (an invalid key is not worth retrying); when it
    returns None, 5xx and 429 are retried within ``retry`` and anything else fails at once.
    With a ``deadline`` (on ``clock``), a retry goes only when its wait and one more attempt, run to
    its timeout, end by then: a page started with 5.1 s of a 10 s search budget left was retried
    after 503, 503, holding the visitor 20.35 s. The status error raised when only the deadline
    stopped a retry is marked ``retry_out_of_time`` (see :class:`ServiceClient`).

    Raises:
        ProviderUnreachableError: connection failed or timed out.
        QuotaExceededError: still rate-limited (429) after the allowed waiting.
        ProviderError: 5xx after every retry, another non-2xx status, or a body that is not JSON.
    """
    waited = 0.0
    for attempt in range(1, retry.attempts + 1):
        try:
            response = _send(client, method, url, service, params, data, headers, auth, timeout)
        except ProviderUnreachableError as unreachable:
            if attempt == 1 or unreachable.maybe_sent:
                raise
            # An earlier attempt was answered (with a 5xx or 429): the call reached the service.
            raise ProviderUnreachableError(str(unreachable), maybe_sent=True) from None
        if response.is_success:
            return _decode(response, service)
        if on_error is not None and (error := on_error(response)) is not None:
            raise error
        retry_after = wait_asked(response)
        if response.status_code != 429 and response.status_code < 500:
            raise _final_status_error(service, response, retry_after)
        delay = retry_after if retry_after is not None else retry.backoff * 2 ** (attempt - 1)
        if attempt == retry.attempts or waited + delay > retry.max_wait:
            raise _final_status_error(service, response, retry_after)
        if deadline is not None and clock() + delay + _attempt_seconds(client, timeout) > deadline:
            error = _final_status_error(service, response, retry_after)
            error.retry_out_of_time = True  # the retry would have gone but for the deadline
            raise error
        log.info("%s answered HTTP %d; retrying in %.2f s", service, response.status_code, delay)
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable: the loop always returns or raises")  # pragma: no cover


#: Failures before any byte of the request left: no connection (refused, DNS, TLS, the proxy's
#: CONNECT), or none free in the pool. Any other transport failure may come after the request arrived.
_NEVER_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def _send(
    client: httpx.Client,
    method: str,
    url: str,
    service: str,
    params: Mapping[str, str | int] | None,
    data: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
    timeout: float | None,
) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": params, "data": data, "headers": {**ACCEPTED_ENCODINGS, **(headers or {})}}
    if timeout is not None:
        kwargs["timeout"] = timeout
    # `from None` below: the httpx exception carries the request, whose URL or headers may hold a key.
    deadline = time.monotonic() + (timeout if timeout is not None else _client_timeout(client))
    watchdog = _Watchdog(deadline)
    try:
        with watchdog:
            request = client.build_request(method, url, **kwargs)
            request.extensions["trace"] = watchdog.trace
            response = client.send(request, stream=True, auth=auth)
            try:
                watchdog.watch(response.extensions.get("network_stream"))
                body = _read_body(response, service, deadline)
            finally:
                watchdog.disarm()  # before close() hands the connection back to the pool
                response.close()
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _UNPACKED_HEADERS]
        return httpx.Response(response.status_code, headers=kept, content=body, request=request)
    except httpx.TransportError as exc:  # timeouts included
        timed_out = isinstance(exc, httpx.TimeoutException) or watchdog.fired
        message = "did not answer in time (slow network or offline?)" if timed_out else "is unreachable (offline?)"
        raise ProviderUnreachableError(f"{service} {message}.", maybe_sent=not isinstance(exc, _NEVER_SENT)) from None


#: The only encodings :func:`_unpacked` reads, sent on every request: httpx's default also offers br
#: and zstd whenever the brotli or zstandard packages happen to be installed, and such replies failed.
ACCEPTED_ENCODINGS: Final = {"Accept-Encoding": "gzip, deflate"}


class _Watchdog:
    """Ends one exchange at its deadline, headers included, by shutting its socket down.

    httpx's timeouts bound each read, not the exchange: status and headers trickling in a byte
    every 0.1 s under a 1 s timeout took 11 s, and the body check in :func:`_read_capped` runs only
    between chunks. The socket comes from httpcore's trace: the new connection's, or, on a
    kept-alive one, the connection sending the request (found on the call stack, as httpcore
    names no stream in that event), and again from the response once its headers are in.
    """

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._done = False
        self._socket: Any = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disarm()

    def disarm(self) -> None:
        """Stop watching; called before the connection goes back to the pool. Under the lock that
        :meth:`_fire` shuts the socket under, so once this returns no shutdown can reach a
        connection another request may be using."""
        self._timer.cancel()
        with self._lock:
            self._socket = None
            self._done = True

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: note the socket of a connection as soon as it is made."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))
        elif event.endswith("send_request_headers.started"):
            self.watch(_sending_stream())

    def watch(self, stream: Any) -> None:
        """Shut ``stream``'s socket down at the deadline (at once when it has passed)."""
        get_info = getattr(stream, "get_extra_info", None)
        sock = get_info("socket") if get_info is not None else None
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            self._socket = sock
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:  # held while shutting: disarm() waits, so the pool never gets a shut socket
            if self._done:
                return
            self.fired = True
            if self._socket is not None:
                _shut(self._socket)


def _sending_stream() -> Any:
    """The network stream of the httpcore connection up the call stack that is sending a request,
    or None (a kept-alive connection is reused without a trace event that names its stream)."""
    frame: types.FrameType | None = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return None
        stream = getattr(frame.f_locals.get("self"), "_network_stream", None)
        if stream is not None:
            return stream
        frame = frame.f_back
    return None


def _shut(sock: Any) -> None:
    """Wake a read blocked on ``sock`` (shutdown does; close alone does not, on Linux)."""
    with contextlib.suppress(OSError):  # already closed: nothing is waiting on it
        sock.shutdown(2)  # socket.SHUT_RDWR


#: Headers that describe the body as sent, not the unpacked body :func:`_send` hands on.
_UNPACKED_HEADERS: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _attempt_seconds(client: httpx.Client, timeout: float | None) -> float:
    """The longest one attempt may take: ``timeout``, or the client's own when none is named."""
    return timeout if timeout is not None else _client_timeout(client)


def _client_timeout(client: httpx.Client) -> float:
    """The client's read timeout, the deadline of an attempt when the caller names none."""
    return client.timeout.read if client.timeout.read is not None else 30.0


def _read_capped(response: httpx.Response, service: str, deadline: float) -> bytes:
    """The reply's body, unpacked, read before ``deadline`` (time.monotonic) and within
    :data:`MAX_REPLY_BYTES`.

    httpx's own timeout bounds each read, not the whole body: a reply trickling in a byte a second
    held a worker for as long as the server liked. It unpacks gzip without a limit, too, so the
    body is unpacked here, never more than the cap at a time.
    """
    size = 0
    chunks: list[bytes] = []
    for chunk in _unpacked(response, service):
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise _too_large(service)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the reply did not end before the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_body(response: httpx.Response, service: str, deadline: float) -> bytes:
    """The reply's body as :func:`_read_capped` reads it, or, for an error status, nothing when it
    cannot be read: the status says what happened. A 429 with a broken or oversized body was
    counted as an unreadable reply (one request's trouble) instead of pausing for the rate limit,
    and a 5xx's was not retried."""
    try:
        return _read_capped(response, service, deadline)
    except ProviderError:
        if response.is_success:
            raise
        return b""


def _too_large(service: str) -> ProviderError:
    return one_requests_trouble(
        ProviderError(
            f"{service} sent a reply larger than moodtape accepts ({MAX_REPLY_BYTES // (1024 * 1024)} MB); "
            "try again later."
        )
    )


def _unreadable(service: str, what: str) -> ProviderError:
    """The error for a reply moodtape cannot read (``what``: why, in a word or two).

    Counted like a 5xx (:func:`one_requests_trouble`): a proxy's or captive portal's HTML page
    answered with 200, or a truncated body, paused nothing before, so every visitor's request was
    sent again, each spending one of the day's YouTube searches: 10 visitors spent 10, against the
    3 that ten 500s cost.
    """
    return one_requests_trouble(
        ProviderError(f"{service} sent a reply moodtape could not read ({what}); try again later.")
    )


def _unpacked(response: httpx.Response, service: str) -> Iterator[bytes]:
    """The body's bytes as they arrive, gzip or deflate unpacked in steps of at most the cap.

    At least one chunk (maybe empty) comes per piece read from the network, so the reader's
    deadline is checked as the bytes arrive. The packed bytes are capped too: a body of many tiny
    gzip members unpacks to almost nothing, and 40 MB of empty members took 11 s to read.
    """
    if response.is_stream_consumed:  # already read by the transport (a test's MockTransport)
        yield response.content
        return
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise _unreadable(service, encoding[:20])
    inflater = _Inflater(encoding)
    packed = 0
    try:
        for raw in response.iter_raw():
            packed += len(raw)
            if packed > MAX_REPLY_BYTES:
                raise _too_large(service)
            unpacked = False
            for out in inflater.feed(raw):
                unpacked = True
                yield out
            if not unpacked:
                yield b""
        inflater.finish()
    except zlib.error:
        raise _unreadable(service, f"broken {encoding}") from None


#: The first two bytes of every gzip member (RFC 1952 §2.3.1).
_GZIP_MAGIC: Final = b"\x1f\x8b"


class _Inflater:
    """Unpacks a gzip or deflate body fed piece by piece, never more than the cap in one step.

    A gzip body may be several members one after another (RFC 1952 §2.2, what ``cat a.gz b.gz``
    makes, and what servers that compress as they stream send); each member is unpacked in turn, as
    gzip(1) and browsers do. Only the first was read before, so a JSON reply split over two members
    failed as "not JSON". Bytes after the last member that do not begin another (padding) are
    ignored, as gzip(1) ignores them; so are bytes after a deflate stream's end.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # 32: a gzip or zlib header, whichever comes
        self._started = False  # some of the body was read without error (no raw-deflate fallback then)
        self._members = 0  # gzip members ended so far
        self._lead = b""  # the current stream's first two bytes (a gzip member begins with _GZIP_MAGIC)
        self._ignoring = False  # trailing bytes after the last stream: dropped

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The bytes ``data`` unpacks to, in non-empty steps of at most :data:`MAX_REPLY_BYTES` + 1.

        Raises:
            zlib.error: the body is not the gzip or deflate it says it is.
        """
        pending = data
        while pending and not self._ignoring:
            self._lead = (self._lead + pending[:2])[:2]
            try:
                out = self._inflater.decompress(pending, MAX_REPLY_BYTES + 1)
            except zlib.error:
                if self._members and self._lead != _GZIP_MAGIC:  # after the last member: padding
                    self._ignoring = True
                    return
                if self._started or self._encoding != "deflate":
                    raise
                # Some servers send "deflate" raw, without the zlib header RFC 9110 asks for.
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._inflater.decompress(pending, MAX_REPLY_BYTES + 1)
            self._started = True
            if out:  # an empty member unpacks to nothing: no step for it
                yield out
            pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                pending = self._inflater.unused_data
                self._next_member()

    def finish(self) -> None:
        """Check that the body did not stop inside a stream (a reply cut short).

        Before, a truncated reply was caught only when its JSON happened to be cut short too.

        Raises:
            zlib.error: a gzip member or the deflate stream began but did not end.
        """
        if self._ignoring or not self._lead or self._inflater.eof:
            return
        if self._members and self._lead != _GZIP_MAGIC:  # after the last member: padding
            return
        raise zlib.error("the body ended inside a compressed stream")

    def _next_member(self) -> None:
        """Get ready for the gzip member after the one that just ended (deflate has no such thing)."""
        if self._encoding == "deflate":
            self._ignoring = True
            return
        self._members += 1
        self._lead = b""
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)  # 16: gzip only, a member's header


def _decode(response: httpx.Response, service: str) -> Any:
    try:
        return response.json()
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise _unreadable(service, "not JSON") from None


def json_dict(value: object, service: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else a readable :class:`ProviderError`."""
    if not isinstance(value, dict):
        raise ProviderError(f"{service} sent a reply in an unexpected shape; try again later.")
    return value


class FailureLog:
    """The failure each service last logged, shared by every :class:`ServiceClient` in the process.

    Kept per client, an engine built for each call (``moodtape.recommend(…, recommender=build_recommender())``)
    logged "Deezer: Deezer is unreachable (offline?)." and the same of iTunes Search on every
    call offline, and Python prints a library's warnings on stderr when the program set up no
    logging: two lines on every call. Shared, a service's failure is logged once per process, and
    again only when its reason changes or after that service answered. Like :mod:`warnings`'
    registry, it holds what was said (a line per service), never a request's state.
    """

    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def first(self, service: str, message: str) -> bool:
        """Whether ``message`` is news for ``service`` (so to be logged); it is the last one from now on."""
        with self._lock:
            if self._last.get(service) == message:
                return False
            self._last[service] = message
            return True

    def answered(self, service: str) -> None:
        """``service`` answered: its next failure is news again, even with the reason logged last."""
        if service in self._last:  # read without the lock: an answer is the common case, a failure the rare one
            with self._lock:
                self._last.pop(service, None)

    def clear(self) -> None:
        """Forget every service's last failure (tests: each starts as a fresh process would)."""
        with self._lock:
            self._last.clear()


#: The process's :class:`FailureLog`.
FAILURES_LOGGED: Final = FailureLog()


class OutOfTimeError(ProviderError):
    """A call its search's time budget had no room for: less than one attempt's timeout was left
    before its ``deadline``, so it was not sent (nothing counted, logged or paused: the service
    did nothing wrong, it was only slow before). A search meeting it keeps what it already has."""

    pauses: ClassVar[bool] = False

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} answered too slowly: this search ran out of time before it could ask again.")
        self.maybe_sent = False  # never left: a YouTube search reserved for it is given back


def shortfall_reason(error: ProviderError | None) -> str | None:
    """The failure a list cut short names (:class:`~moodtape.providers.base.Shortfall`): None when only
    time ran out; a quota or rate limit in words of its own, since the service's message says what
    happens to whole lists ("using the built-in catalog until tomorrow"), which is not true of a list
    the service still gave part of; any other failure as the service's message says it."""
    if error is None or isinstance(error, OutOfTimeError):
        return None
    if isinstance(error, QuotaExceededError):
        return "it allows no more requests for now"
    return str(error)


class SharedPauses(Protocol):
    """Where a service's pause is kept for every instance with the same credentials (``RedisPauses``)
    and every worker of ``serve --processes N`` (``PauseTable``): neither method raises, a store
    that is away shares nothing."""

    def get(self, service: str) -> SharedPause | None: ...

    def put(self, service: str, reason: str, kind: type[ProviderError], seconds: float) -> None: ...


class ServiceClient:
    """One service's way of calling :func:`request_json`: its name, timeout, retries and secrets.

    After a connection failure or timeout the service is not called again for ``cooldown``
    seconds: the same readable error is raised at once, so an offline machine answers fast. An
    error marked with :func:`paused` (a 429, refused credentials) stops calls the same way for its
    ``retry_after`` seconds, so a service that said "not now" or "not with this key" is not asked
    again by every visitor. A 5xx after every retry (marked ``counts_toward_pause``) stops only that
    same request for a while; the service pauses once several different requests met one lately
    and they are at least half of the requests that ended (see :class:`TroubleCounter`), as one
    visitor's query may be all that upsets it.
    With ``late_retry_is_late`` (the keyless previews), a 5xx or 429 whose retry only the
    ``deadline`` of :meth:`request` left no room for is raised as :class:`OutOfTimeError`: not
    counted toward a pause, paused for or logged. Spotify and YouTube keep the service's error (a
    later page that met it ends the search naming it).
    With ``shared_pauses`` (Redis, the workers' shared memory, or both), a pause after a 429 or
    refused credentials is written there too, and one another process or instance wrote is kept
    here for what is left of it: the service spoke of the credentials sent, and the store shares it
    only with instances holding the same ones.
    Any message that somehow quotes a secret is scrubbed before it leaves. Each failure is logged
    once per process (a warning, scrubbed: the operator's detail where :func:`for_operator` gave one,
    else the message), however many clients of the service there are, again only when the reason
    changes or after a success (:class:`FailureLog`).
    """

    def __init__(
        self,
        http: httpx.Client,
        service: str,
        *,
        timeout: float,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        cooldown: float = 60.0,
        secrets: Callable[[], Iterable[str]] = tuple,
        shared_pauses: SharedPauses | None = None,
        late_retry_is_late: bool = False,
    ) -> None:
        self.http = http
        self.late_retry_is_late = late_retry_is_late
        self.service = service
        self.shared_pauses = shared_pauses
        self.timeout = timeout
        self.retry = retry
        self.breaker = CircuitBreaker(cooldown, clock)
        self.troubles = TroubleCounter(clock)
        self._clock = clock  # what a request's ``deadline`` is read on
        self._sleep = sleep
        self._secrets = secrets

    @property
    def longest_request(self) -> float:
        """Seconds one :meth:`request` may take at most: every attempt ended at its timeout (the
        whole exchange, headers and body, see :class:`_Watchdog`), and the longest sleeping allowed
        between them. How long a :func:`fetch_once`
        claim is held, so that a slow but living holder keeps it until it has its answer."""
        return self.retry.attempts * self.timeout + self.retry.max_wait

    def has_time_for_an_attempt(self, deadline: float) -> bool:
        """Whether one attempt, run to its timeout, still ends by ``deadline`` (on this service's
        clock): what a call held to a search's time budget needs before it is sent."""
        return self._clock() + self.timeout <= deadline

    def wait_allowed(self, until: float | None) -> float | None:
        """Seconds a call held to a search's budget ending at ``until`` (on this service's clock) may
        wait for another visitor's work (its :func:`fetch_once` claim on the same entry, a token it
        is fetching): what is left of the budget, at least 0. None when no budget is in force: such
        a caller waits as long as the holder may take, as before budgets."""
        return None if until is None else max(0.0, until - self._clock())

    def first_attempt_allowed(self, deadline: float | None) -> float | None:
        """``deadline``, moved on as far as one attempt needs: for a call that always goes (a
        search's first page, and a token fetched for it), held to ``deadline`` for its retries only."""
        return None if deadline is None else max(deadline, self._clock() + self.timeout)

    def request(
        self,
        method: str,
        url: str,
        *,
        check: AnswerCheck | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """:func:`request_json` with this service's settings; other keyword arguments pass through.

        ``deadline`` (on this service's clock): the request is not sent at all (:class:`OutOfTimeError`)
        when less than one attempt's timeout is left before it, and no retry starts unless its wait
        and one more attempt end by then (a Spotify page or token, a YouTube fetch or status
        re-check, within its search's time budget).

        ``check`` sees the decoded body of a 2xx reply and may return the error it carries: that
        reply then counts as a failure only, never also as an answer (a Deezer error in a 200 body
        counted as both, so a Deezer failing half its lookups so never paused).

        A request carrying credentials (``auth``: Spotify's token fetch) is the app's own, the same
        for every visitor, so a 5xx or unreadable reply to it is not held back for that request
        alone (that held back the whole service for 30 s after one failure): it counts toward the
        pause like any other request's failure (see :meth:`TroubleCounter.strike`).
        """
        self.raise_if_paused()
        if deadline is not None and not self.has_time_for_an_attempt(deadline):
            # Checked here, not only by the search: a token renewed after a 401, a page sent again
            # with it, a status re-check or a call made after waiting on another visitor's claim
            # all start late, and each went with its full timeout and retries past the budget.
            raise OutOfTimeError(self.service)
        digest = request_digest(method, url, kwargs.get("params"), kwargs.get("data"))
        self._raise_if_failed_lately(digest)
        PROVIDER_CALLS.labels(service=self.service).inc()
        try:
            answer = request_json(
                self.http,
                method,
                url,
                service=self.service,
                timeout=self.timeout,
                retry=self.retry,
                sleep=self._sleep,
                clock=self._clock,
                deadline=deadline,
                **kwargs,
            )
            if check is not None and (carried := check(answer)) is not None:
                raise carried
        except ProviderError as error:
            PROVIDER_ERRORS.labels(service=self.service).inc()
            if not error.pauses:  # worth trying again at once (a stale token), not a failure
                raise
            if error.retry_out_of_time and self.late_retry_is_late:
                raise self._late(error) from error
            if isinstance(error, ProviderUnreachableError) and not error.retry_after:
                paused(error, self.breaker.cooldown)  # offline: every call would pay the timeout again
            raise self.fail(error, digest, hold_back=kwargs.get("auth") is None) from None
        self.troubles.answered()
        FAILURES_LOGGED.answered(self.service)
        return answer

    def _late(self, error: ProviderError) -> OutOfTimeError:
        """``error``, whose retry only the deadline left no room for, as the time that ran out: for a
        client whose calls are a nicety (previews), it is neither counted toward a pause nor logged.
        Before, a 503 or a 429 met near the end of a list's 10 s ended the list as a failure, paused
        the service (a 429 without ``Retry-After`` for 60 s), and left the songs after it unread
        from the cache, where the 0.25 s retry would have gone without the deadline."""
        late = OutOfTimeError(self.service)
        late.maybe_sent = True  # it went and was answered
        return late

    def _raise_if_failed_lately(self, digest: str) -> None:
        """Raise the 5xx this very request met lately, without sending it (``maybe_sent=False``, as
        for a pause), until :data:`TROUBLE_PAUSE` has passed: another request may be sent meanwhile."""
        failed = self.troubles.failed_lately(digest)
        if failed is None:
            return
        reason, left = failed
        error = ProviderError(reason)
        error.retry_after = max(1, math.ceil(left))
        error.maybe_sent = False
        error.counts_toward_pause = True  # still this one request's trouble, not the service's
        raise error

    def raise_if_paused(self) -> None:
        """Raise the error that paused this service, of its own kind and with the seconds left as
        ``retry_after``, while the pause lasts (a paused 429 stays a 429, not an outage). It is
        marked ``maybe_sent=False``: no request left, so a caller may give back a quota it reserved
        (a pause another visitor starts between the reserve and the call reaches no one either)."""
        if not self.paused_now():
            return
        reason = self.breaker.reason or f"{self.service} is unreachable (offline?)."
        error = self.breaker.kind(reason)
        error.retry_after = max(1, math.ceil(self.breaker.seconds_left()))
        error.maybe_sent = False
        raise error

    def paused_now(self) -> bool:
        """Whether no call may go out now: this process paused the service, or another process or
        instance did (its pause is then kept here too, for what is left of it)."""
        return not self.breaker.allow() or self._paused_elsewhere()

    def pause(
        self, reason: str, seconds: float | None = None, kind: type[ProviderError] = ProviderUnreachableError
    ) -> None:
        """Send no call for ``seconds`` (default: the cooldown), raising ``kind(reason)`` meanwhile,
        here and, for the kinds worth sharing (a rate limit, refused credentials), wherever
        ``shared_pauses`` reaches."""
        seconds = self.breaker.cooldown if seconds is None else seconds
        self.breaker.trip(reason, seconds, kind)
        if self.shared_pauses is not None:  # it holds for every process and instance with these credentials
            self.shared_pauses.put(self.service, reason, kind, seconds)

    def _paused_elsewhere(self) -> bool:
        """Whether another process or instance paused this service (a 429, a refused key) and it is
        not over: this process then keeps the same pause for what is left of it, asking no more
        meanwhile."""
        shared = None if self.shared_pauses is None else self.shared_pauses.get(self.service)
        if shared is None:
            return False
        self.breaker.trip(shared.reason, shared.seconds, shared.kind)
        return True

    def fail(self, error: ProviderError, digest: str = "", *, hold_back: bool = True) -> ProviderError:
        """``error`` scrubbed of secrets, its pause (see :func:`paused`) started and logged once:
        for failures a provider decides on itself, outside :meth:`request`, too. ``digest`` is the
        :func:`request_digest` of the request that failed ("": none known); ``hold_back`` as for
        :meth:`TroubleCounter.strike`."""
        secrets = tuple(self._secrets())
        safe = redact(str(error), secrets)
        if error.retry_after and self._pauses_service(error, digest, safe, hold_back):
            self.pause(safe, error.retry_after, type(error))  # no call until it has passed
        self._log_once(redact(operator_detail(error), secrets))  # the operator's wording, where there is one
        notes = getattr(error, "__notes__", [])
        safe_notes = [redact(note, secrets) for note in notes]
        if safe == str(error) and safe_notes == notes:
            return error
        scrubbed = type(error)(safe)
        scrubbed.retry_after = error.retry_after
        scrubbed.maybe_sent = error.maybe_sent  # a quota reserved for it is given back only if it never left
        scrubbed.counts_toward_pause = error.counts_toward_pause  # a provider may fail() it again
        for note in safe_notes:
            scrubbed.add_note(note)
        return scrubbed

    def _pauses_service(self, error: ProviderError, digest: str, reason: str, hold_back: bool) -> bool:
        """Whether ``error``'s pause stops the whole service now. One marked ``counts_toward_pause``
        holds back its own request and counts toward :class:`TroubleCounter`'s strikes; without a
        digest there is no request to hold back, and every such error would share one key (never
        reaching the strikes), so it pauses the service at once like any other."""
        if not (error.counts_toward_pause and digest):
            return True
        return self.troubles.strike(digest, reason, hold_back=hold_back)

    def _log_once(self, message: str) -> None:
        """Log a failure's (scrubbed) message, unless it is the one this service logged last in this process.

        The service's name leads the line, once: most messages already begin with it ("Deezer is
        unreachable (offline?)."), and a prefix in front of those said it twice ("Deezer: Deezer is …")."""
        if FAILURES_LOGGED.first(self.service, message):
            if message.startswith(self.service):
                log.warning("%s", message)
            else:
                log.warning("%s: %s", self.service, message)
