"""A circuit breaker in front of Redis: after a call timed out or crawled, stop asking it for a moment.

Each Redis call is bounded by :data:`~moodtape.state.connection.SOCKET_TIMEOUT` (1 s), but nothing
bounded how many calls waited that long. A Redis that stopped answering (frozen, or a host still
acknowledging packets) or that answered every call just under the bound held each call of every
request a second: measured with four request threads, a camera frame took 4.5 s (5 calls), a saved
list 8.1 s (9 calls), and every thread sat in Redis, so ``/healthz`` answered 0.5 times a second and
took 1.8 s, pages that need nothing of Redis included.

So a call that *cost a wait* opens the breaker: one that timed out, or :data:`SLOW_CALLS_TO_OPEN`
in a row that waited longer than :data:`SLOW_CALL_S`, back to back (each beginning within
:data:`SLOW_GAP_S` of the last one's end; a healthy Redis answers in well under a millisecond). For the
next :data:`OPEN_S` every call that starts fails at once, without a socket, as the same 503
``shared_state_unavailable`` with ``Retry-After: 1`` it would have got after its wait. Then the
breaker is *half-open*: the next call is let through as a probe, alone (the others still fail at
once until it is done); a probe in time closes the breaker, one that times out or crawls opens it
for another :data:`OPEN_S`. At most one thread per process waits on a Redis that is away, once a
second, and requests that need no Redis (pages, photo analysis, ``/healthz``) keep every other
thread. A refused connection (Redis restarting, its host up) costs no wait: it fails the call as
before but leaves the breaker closed, so the first call after the restart succeeds, as it did.

**What counts as waiting.** A "call" is the whole block of Redis commands the caller runs (a
session update is about 3 round trips, a first GET on a new connection about 4), and its wait is its
wall time less the time its thread spent ready to run but without a CPU (the thread's run-queue
delay, ``/proc/thread-self/schedstat``): photo analysis on every core stretched healthy calls to
0.4-0.75 s, and most of that was run-queue delay. Only that is taken out. Still counted: a wait for
Python's GIL (the thread sleeps on a lock, not in the run queue), the block's own CPU time, a
garbage collection, and a Redis starved of CPU on the same host; a review saw healthy calls count
up to 0.85 s of waiting under CPU and GIL pressure at a load of 12. Hence three slow calls in a
row, not one or two: such pauses come alone or in twos, while a Redis 0.3 s late on every round
trip gives three in under a second. The bound is per block, not per round trip, so with the default bound a Redis
more than about 50 ms away a round trip counts as slow (three round trips at 90 ms are 0.27 s):
``MOODTAPE_REDIS_SLOW_MS`` sets the bound (:meth:`RedisBreaker.bound_for`) for a Redis in another
zone, and the log line that says the breaker opened says so when even Redis's fastest answer so far
(about one round trip) times four is over the bound. Before, the bound was 0.75 s of wall time, so a Redis
answering each call in 0.5-0.75 s never opened the breaker and every request paid it once per call
(measured: a camera frame 3.0 s at the median, ``/healthz`` answered 1.2 times a second and the
page 0.8). Where the run-queue delay cannot be read (not Linux, or a kernel without scheduler
statistics), the bound stays :data:`SLOW_CALL_UNMEASURED_S` of wall time.

What it costs: for :data:`OPEN_S` after a stalled Redis comes back, requests that need it still get the 503
(clients told ``Retry-After: 1`` come back after that anyway). One or two slow calls (a Redis forking
for a snapshot of a large data set; a garbage collection or a long C call holding Python's lock
for a moment) do not open it, and calls that were slow together (one pause of this process
stretches every call in flight) count as one.
A call in flight when the breaker opened that then answers in time closes it again: a fresh
answer is the best evidence that Redis is back.

One breaker per connection pool (:func:`breaker_for`): one per Redis server and process, shared by
every request thread; a forked worker starts with a closed one, with the bound its parent was given.
"""

from __future__ import annotations

import logging
import math
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
#: A call (a block of Redis commands) that waited longer than this (its time less its thread's
#: run-queue delay) counts toward opening the breaker: a healthy Redis answers in well under a
#: millisecond, its own hiccups (a fork for a snapshot) last tens of milliseconds, and a frame makes
#: five calls, a list nine, so a Redis at a quarter of a second a call already makes them take
#: seconds. Per block, not per round trip: a Redis over about 50 ms away a round trip reads as slow.
SLOW_CALL_S: Final[float] = 0.25
#: The bound where the run-queue delay cannot be read: the whole block's wall time is all there is,
#: and a review saw healthy calls of 0.4-0.75 s with CPU-bound threads in the serving process.
SLOW_CALL_UNMEASURED_S: Final[float] = 0.75
#: A block of this many round trips is about the longest moodtape runs (a first GET on a new
#: connection): one whose fastest answer times this is over the bound is too far away for it.
ROUND_TRIPS_PER_BLOCK: Final[int] = 4
#: Where a thread's scheduler statistics are (Linux): run time, run-queue delay, slices, in ns.
_SCHEDSTAT: Final[str] = "/proc/thread-self/schedstat"
#: The same of the process's first thread, which has surely run: whether the kernel keeps them at all.
_PROCESS_SCHEDSTAT: Final[str] = "/proc/self/schedstat"
#: Slow calls in a row (with no call in time between them, each started after the last slow one
#: ended) that open the breaker; a call that timed out opens it alone. Three, not two: a review saw
#: two in a row on a healthy Redis under CPU and GIL pressure (GIL waits are not taken out).
SLOW_CALLS_TO_OPEN: Final[int] = 3
#: Each of those slow calls begins within this many seconds of the last one's end: a Redis slow on
#: every call gives them back to back whatever a block's length (three single GETs 0.3 s late open
#: the breaker in 0.9 s), while pauses of this process spread over a quiet minute say nothing. A gap,
#: not a window over all three: a session update 0.4 s late takes 1.2 s, three of them 3.6 s.
SLOW_GAP_S: Final[float] = 1.0


class BreakerOpen(Exception):  # noqa: N818 (a state, not a fault: "the breaker is open")
    """The breaker is open (or half-open with its probe in flight): the call was not made."""


class RedisBreaker:
    """Closed, open or half-open; see the module docstring.

    Args:
        open_s: seconds it stays open after a failed or slow call.
        slow_s: a call that waited longer counts as failed (by default :data:`SLOW_CALL_S`, or
            :data:`SLOW_CALL_UNMEASURED_S` where ``ready_s`` cannot be read).
        clock: monotonic seconds (tests pass their own).
        ready_s: seconds the calling thread has spent ready to run but without a CPU, or None where
            that cannot be read (tests pass their own).
        slow_calls: slow calls in a row that open it (:data:`SLOW_CALLS_TO_OPEN`).
        gap_s: seconds between one slow call's end and the next one's start that end a run of them
            (:data:`SLOW_GAP_S`).
    """

    def __init__(
        self,
        open_s: float = OPEN_S,
        slow_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        ready_s: Callable[[], float | None] | None = None,
        slow_calls: int = SLOW_CALLS_TO_OPEN,
        gap_s: float = SLOW_GAP_S,
    ) -> None:
        self._ready_s = ready_s or run_queue_seconds
        self.open_s = open_s
        self.slow_s = slow_s if slow_s is not None else self.bound_for(SLOW_CALL_S)
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0  # 0: closed
        self._probing = False
        self.slow_calls = slow_calls
        self.gap_s = gap_s
        self._slow_in_a_row = 0
        self._last_counted_end = float("-inf")  # when the last slow call counted in a row ended
        self.fastest_s = float("inf")  # the shortest wait of an answered call: about one round trip
        #: Whether it last opened on a call that timed out at its caller's full timeout (rather than on
        #: slow answers): the 503s while it is open then say the same as that timeout did.
        self.opened_by_timeout = False

    def set_bound(self, measured_s: float) -> None:
        """Count a call slow past ``measured_s`` of waiting (see :meth:`bound_for`) from now on."""
        self.slow_s = self.bound_for(measured_s)

    def bound_for(self, measured_s: float) -> float:
        """The slow bound for ``measured_s`` of waiting (``MOODTAPE_REDIS_SLOW_MS``): that, where the
        run-queue delay is taken out, else the same with the half second that
        :data:`SLOW_CALL_UNMEASURED_S` allows for it on top."""
        return measured_s if self._ready_s() is not None else measured_s + SLOW_CALL_UNMEASURED_S - SLOW_CALL_S

    @property
    def is_open(self) -> bool:
        """Whether a call now would be turned away (open, or half-open with a probe in flight)."""
        with self._lock:
            return self._turns_away()

    def _turns_away(self) -> bool:
        """Open, or half-open with its probe out (the lock held)."""
        return self._open_until > 0 and (self._clock() < self._open_until or self._probing)

    @contextmanager
    def call(self, timeout_opens: bool = True) -> Iterator[None]:
        """Run one Redis call (the block) unless the breaker is open, and learn from how it went.

        Args:
            timeout_opens: whether the block's timing out opens the breaker at once. A caller whose
                own socket timeout is as short as the slow bound (the rate limit's) passes False:
                its timeout is then one slow call, and only three in a row open the breaker for
                every caller, as three slow calls of anyone's would.

        Raises:
            BreakerOpen: the call was not made.
        """
        probe = self._admit()
        started, ready_before = self._clock(), self._ready_s()
        timed_out, answered = False, False
        try:
            yield
            answered = True
        except Exception as exc:
            timed_out = _timed_out(exc)  # a refusal, a refused connection, the caller's own error: no wait
            raise
        finally:
            waited = self._waited(started, ready_before)
            self._record(started, waited, timed_out, probe, timeout_opens, answered)

    def _waited(self, started: float, ready_before: float | None) -> float:
        """Seconds the call since ``started`` waited, less the time its thread stood in the run queue."""
        took = self._clock() - started
        if took <= self.slow_s or ready_before is None:
            return took  # in time (no second read needed), or nothing to take out
        ready_after = self._ready_s()
        return took if ready_after is None else took - max(0.0, ready_after - ready_before)

    def _count_slow(self, started: float, ended: float) -> None:
        """Count a slow call from ``started`` to ``ended`` in the run of slow calls (the lock held).

        Calls slow together count once: one pause of this process (the GIL, the CPU) stretches every
        call in flight and says nothing of Redis, so a call that began before the last counted one
        ended is not counted. One that began long after it starts a new run.
        """
        if started < self._last_counted_end:
            return
        if started - self._last_counted_end > self.gap_s:
            self._slow_in_a_row = 0
        self._slow_in_a_row += 1
        self._last_counted_end = ended

    def _admit(self) -> bool:
        """True when this call is the half-open breaker's probe; raise :class:`BreakerOpen` to turn it away."""
        with self._lock:
            if self._turns_away():
                raise BreakerOpen
            if not self._open_until:
                return False
            self._probing = True
            return True

    def _record(
        self, started: float, waited: float, timed_out: bool, probe: bool, timeout_opens: bool, answered: bool
    ) -> None:
        """Learn from a call that started at ``started``, ends now and waited ``waited`` seconds
        (``answered``: without an error, so it went to Redis and back at least once)."""
        with self._lock:
            ended = self._clock()
            if probe:
                self._probing = False
            was_open = self._open_until > 0
            if answered:
                self.fastest_s = min(self.fastest_s, waited)
            if not timed_out and waited <= self.slow_s:
                self._slow_in_a_row = 0
                self._open_until = 0.0  # an answer in time: Redis is back, whatever else is in flight
                if was_open:
                    log.info("shared state: Redis answers again; requests use it again")
                return
            self._count_slow(started, ended)
            opens_now = (timed_out and timeout_opens) or probe
            if not opens_now and self._slow_in_a_row < self.slow_calls:
                return  # a slow call or two: noted, not yet a reason to turn calls away
            self._open_until = self._clock() + self.open_s
            self.opened_by_timeout = timed_out and timeout_opens
        if not was_open:
            log.warning(
                "shared state: Redis timed out or waited over %s s to answer; requests that need it get a 503 "
                "at once, and it is asked again every %s s until it answers in time%s",
                self.slow_s,
                self.open_s,
                self._too_far_hint(),
            )

    def _too_far_hint(self) -> str:
        """A word for the log when even Redis's fastest answer says it is too far for the bound: a
        Redis in another zone is not away, the bound is too tight for it."""
        if math.isinf(self.fastest_s) or self.fastest_s * ROUND_TRIPS_PER_BLOCK <= self.slow_s:
            return ""  # never answered in time (nothing known), or near enough
        return (
            f" (its fastest answer took {self.fastest_s * 1000:.0f} ms, one round trip or more: a Redis that far "
            "away needs MOODTAPE_REDIS_SLOW_MS raised to about 4 round trips + 250 ms; see docs/deployment.md)"
        )


def run_queue_seconds() -> float | None:
    """Seconds the calling thread has stood in the run queue (ready, no CPU free), or None off Linux.

    About 7 microseconds a read; read once before each Redis call, and after it only when it was slow.
    A thread that has not yet been accounted reads ``0 0 0``, as it does on a kernel that keeps no
    statistics: a breaker built there took that for "cannot be read" and set itself the 0.75 s
    bound (141 of 200 fresh threads; in the first thread of a process just forked, 137 of 200).
    Which of the two it is, :func:`_kernel_keeps_stats` finds out once per process.
    """
    schedstat = _read_schedstat(_SCHEDSTAT)
    if schedstat is None:
        return None
    delay = _run_queue_from(schedstat)
    global _keeps_stats
    if delay is not None:
        _keeps_stats = True
        return delay
    if _keeps_stats is None:
        _keeps_stats = _kernel_keeps_stats()
        schedstat = _read_schedstat(_SCHEDSTAT) or schedstat  # accounted by now, where it yielded
    return _delay_so_far(schedstat) if _keeps_stats else None


#: Whether the kernel keeps scheduler statistics, once a read told (None: not yet). A property of the
#: kernel, so a forked child keeps it; any thread's read that shows time on a CPU sets it True.
_keeps_stats: bool | None = None


def _kernel_keeps_stats() -> bool:
    """Whether ``0 0 0`` here is a thread not yet accounted, rather than a kernel keeping nothing.

    The process's first thread has surely run, unless it is the caller just forked; then the
    caller gives up its CPU once (``sched_yield`` accounts its time so far) and reads again.
    Measured: 222 of 300 forked children read ``0 0 0`` at first, and after yielding none did.
    """
    if _run_queue_from(_read_schedstat(_PROCESS_SCHEDSTAT) or b"") is not None:
        return True
    os.sched_yield()
    return _run_queue_from(_read_schedstat(_SCHEDSTAT) or b"") is not None


def _delay_so_far(schedstat: bytes) -> float:
    """The run-queue delay of a thread whose time on a CPU is not yet accounted (usually 0)."""
    fields = schedstat.split()
    return int(fields[1]) / 1e9 if len(fields) >= 2 and fields[1].isdigit() else 0.0


def _read_schedstat(path: str) -> bytes | None:
    """The scheduler statistics at ``path``, or None where there are none (not Linux)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(descriptor, 128)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _run_queue_from(schedstat: bytes) -> float | None:
    """The run-queue delay in ``schedstat`` (nanoseconds on CPU, in the run queue, slices), in seconds.

    None when the kernel keeps no scheduler statistics: it then writes ``0 0 0``, and a thread that
    has surely run (the process's first) shows no time on a CPU only then.
    """
    fields = schedstat.split()
    if len(fields) < 2 or not (fields[0].isdigit() and fields[1].isdigit()) or int(fields[0]) == 0:
        return None
    return int(fields[1]) / 1e9


def _timed_out(exc: Exception) -> bool:
    import redis

    return isinstance(exc, redis.TimeoutError)


_breakers: weakref.WeakKeyDictionary[object, RedisBreaker] = weakref.WeakKeyDictionary()
#: The bound each pool was given (``MOODTAPE_REDIS_SLOW_MS``, by :func:`set_bound_for`): kept across
#: a fork, unlike the breakers, so that a forked worker's fresh breaker has it too. Cleared with the
#: breakers, the setting was lost in every ``serve --processes N`` or gunicorn worker (0.25 s there).
_bounds: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()
_breakers_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked worker starts with closed breakers (its parent's outage is not its own), the bounds
    it was configured with, and a free lock (another thread of the parent may have held it)."""
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
            bound = _bounds.get(pool)
            if bound is not None:
                found.slow_s = bound  # as resolved where it was set: a fresh child's first schedstat may read 0
        return found


def set_bound_for(client: redis.Redis, measured_s: float) -> None:
    """Count ``client``'s calls slow past ``measured_s`` of waiting, in this process and in the
    workers it forks from now on (see :meth:`RedisBreaker.bound_for`)."""
    breaker = breaker_for(client)
    with _breakers_lock:
        breaker.set_bound(measured_s)
        _bounds[client.connection_pool] = breaker.slow_s
