"""A circuit breaker in front of Redis: after a call timed out or crawled, stop asking it for a moment.

Each Redis call is bounded by :data:`~moodtape.state.connection.SOCKET_TIMEOUT` (1 s), but nothing
bounded how many calls waited that long. A Redis that stopped answering (frozen, or a host still
acknowledging packets) or that answered every call just under the bound held each call of every
request a second: measured with four request threads, a camera frame took 4.5 s (5 calls), a saved
list 8.1 s (9 calls), and every thread sat in Redis, so ``/healthz`` answered 0.5 times a second and
took 1.8 s, pages that need nothing of Redis included.

So a call that *cost a wait* opens the breaker: one that timed out, or :data:`SLOW_CALLS_TO_OPEN`
in a row that took longer than :data:`SLOW_CALL_S` (a healthy Redis answers in well under a
millisecond). For the next :data:`OPEN_S` every call that starts fails at once, without a socket,
as the same 503
``shared_state_unavailable`` with ``Retry-After: 1`` it would have got after its wait. Then the
breaker is *half-open*: the next call is let through as a probe, alone (the others still fail at
once until it is done); a probe in time closes the breaker, one that times out or crawls opens it
for another :data:`OPEN_S`. At most one thread per process waits on a Redis that is away, once a
second, and requests that need no Redis (pages, photo analysis, ``/healthz``) keep every other
thread. A refused connection (Redis restarting, its host up) costs no wait: it fails the call as
before but leaves the breaker closed, so the first call after the restart succeeds, as it did.

What it costs: for :data:`OPEN_S` after a stalled Redis comes back, requests that need it still get the 503
(clients told ``Retry-After: 1`` come back after that anyway). One slow call alone (a Redis forking
for a snapshot of a large data set; a request thread that lost the CPU to photo analysis for a
moment, since the time measured is the whole block of Redis calls) does not open it, and calls
that were slow together (one pause of this process stretches every call in flight) count as one.
A call in flight when the breaker opened that then answers in time closes it again: a fresh
answer is the best evidence that Redis is back.

One breaker per connection pool (:func:`breaker_for`): one per Redis server and process, shared by
every request thread; a forked worker starts with a closed one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

#: Seconds the breaker stays open after a failed or slow call: the ``Retry-After`` the 503s carry,
#: so a client that waits as told meets a half-open breaker, and one probe a second is the most a
#: Redis that is away costs a process.
OPEN_S: Final[float] = 1.0
#: A call slower than this counts toward opening the breaker: a healthy Redis answers in well under
#: a millisecond, and a Redis that needs most of a second per call makes a list take seconds. Not
#: lower: the time measured is the whole block, our own process's pauses included (a review saw
#: healthy calls of 0.4-0.75 s with CPU-bound threads in the serving process).
SLOW_CALL_S: Final[float] = 0.75
#: Slow calls in a row (with no call in time between them, each started after the last slow one
#: ended) that open the breaker; a call that timed out opens it alone.
SLOW_CALLS_TO_OPEN: Final[int] = 2


class BreakerOpen(Exception):  # noqa: N818 (a state, not a fault: "the breaker is open")
    """The breaker is open (or half-open with its probe in flight): the call was not made."""


class RedisBreaker:
    """Closed, open or half-open; see the module docstring.

    Args:
        open_s: seconds it stays open after a failed or slow call.
        slow_s: a call taking longer counts as failed.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self, open_s: float = OPEN_S, slow_s: float = SLOW_CALL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.open_s = open_s
        self.slow_s = slow_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self._probing = False
        self._slow_in_a_row = 0
        self._last_slow_end = float("-inf")

    @property
    def is_open(self) -> bool:
        """Whether a call now would be turned away (open, or half-open with a probe in flight)."""
        with self._lock:
            return self._turns_away()

    def _turns_away(self) -> bool:
        """Open, or half-open with its probe out (the lock held)."""
        return self._open_until > 0 and (self._clock() < self._open_until or self._probing)

    @contextmanager
    def call(self) -> Iterator[None]:
        """Run one Redis call (the block) unless the breaker is open, and learn from how it went.

        Raises:
            BreakerOpen: the call was not made.
        """
        probe = self._admit()
        started = self._clock()
        timed_out = False
        try:
            yield
        except Exception as exc:
            timed_out = _timed_out(exc)  # a refusal, a refused connection, the caller's own error: no wait
            raise
        finally:
            self._record(started, timed_out, probe)

    def _admit(self) -> bool:
        """True when this call is the half-open breaker's probe; raise :class:`BreakerOpen` to turn it away."""
        with self._lock:
            if self._turns_away():
                raise BreakerOpen
            if not self._open_until:
                return False
            self._probing = True
            return True

    def _record(self, started: float, timed_out: bool, probe: bool) -> None:
        """Learn from a call that started at ``started`` and ends now."""
        with self._lock:
            ended = self._clock()
            if probe:
                self._probing = False
            was_open = self._open_until > 0
            if not timed_out and ended - started <= self.slow_s:
                self._slow_in_a_row = 0
                self._open_until = 0.0  # an answer in time: Redis is back, whatever else is in flight
                if was_open:
                    log.info("shared state: Redis answers again; requests use it again")
                return
            # Calls that were slow together count once: one pause of this process (the GIL, the
            # CPU) stretches every call in flight, and says nothing of Redis.
            if started >= self._last_slow_end:
                self._slow_in_a_row += 1
            self._last_slow_end = max(self._last_slow_end, ended)
            if not timed_out and not probe and self._slow_in_a_row < SLOW_CALLS_TO_OPEN:
                return  # one slow call: noted, not yet a reason to turn calls away
            self._open_until = self._clock() + self.open_s
        if not was_open:
            log.warning(
                "shared state: Redis timed out or took over %s s to answer; requests that need it get a 503 "
                "at once, and it is asked again every %s s until it answers in time",
                self.slow_s,
                self.open_s,
            )


def _timed_out(exc: Exception) -> bool:
    import redis

    return isinstance(exc, redis.TimeoutError)


_breakers: weakref.WeakKeyDictionary[object, RedisBreaker] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked worker starts with closed breakers (its parent's outage is not its own) and a free
    lock (another thread of the parent may have held it at the fork)."""
    global _breakers_lock
    _breakers.clear()
    _breakers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def breaker_for(client: redis.Redis) -> RedisBreaker:
    """The breaker of ``client``'s connection pool (one per Redis server and process)."""
    with _breakers_lock:
        pool = client.connection_pool
        found = _breakers.get(pool)
        if found is None:
            found = _breakers[pool] = RedisBreaker()
        return found
