"""One clock for every machine that shares a database or a Redis: theirs, not each machine's own.

History's times (a list's ``created_at``, the retention cut-off) and the per-client write budget's
day were each taken from the writing machine's clock. Two machines 2 h apart behind one load
balancer then disagreed by 2 h: the one ahead stamped lists in the future, hid and deleted lists 2 h
before their retention ran out, and between 22:00 and midnight UTC counted a client's writes in the
next day's row, a fresh allowance early. YouTube's quota day counted in Redis had the same flaw.

:class:`SharedClock` reads the shared server's clock (PostgreSQL's ``clock_timestamp()``, Redis's
``TIME``) at most every :data:`RESYNC_S` seconds and moves it on by this machine's monotonic clock
in between: every machine agrees within a round trip and the monotonic clock's drift (parts per
million: well under a millisecond a minute), one request a minute per process pays the round trip of
a reading (one thread reads, the others go on with the last reading; the database's rides in that
request's own transaction, :class:`DatabaseClock`), and a step of this machine's
wall clock (NTP, an operator) changes nothing. When the server cannot be asked, the last reading goes
on and the next try is :data:`RESYNC_S` after the failed one ended (:data:`RETRY_S` while there has
been no reading yet); before the first reading, callers
wait for the one in progress (at most :data:`FIRST_READING_WAIT_S`), then this machine's clock stands
in (a write then fails with the server anyway). A machine suspended (a laptop's sleep) may lag by the
time it slept until its next reading, as the monotonic clock stops meanwhile on some systems.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.errors import MoodtapeError
from moodtape.store.database import Database

#: Seconds between two readings of the shared clock.
RESYNC_S: Final[float] = 60.0
#: Seconds from the end of a failed first reading to the next try: from its start, a reading that hung
#: for a 5 s connect timeout was due again as it failed, and one write paid two or three timeouts.
RETRY_S: Final[float] = 5.0
#: Seconds from the start of the first reading that callers wait for it before this machine's clock
#: stands in (a database that hangs must not hold each call of a request for as long again).
FIRST_READING_WAIT_S: Final[float] = 2.0

log = logging.getLogger(__name__)


class Reading(NamedTuple):
    """The shared clock's time and this machine's monotonic clock at the same moment."""

    epoch: float
    at: float


#: Reads the shared clock in seconds since the epoch; ``None`` when the server cannot be asked. A
#: plain number is taken as read halfway through the call; a reader that can time its round trip
#: more closely (the database's: not its turn, pool checkout or first-use migration) returns a
#: :class:`Reading` with the moment by ``time.monotonic``.
ReadEpoch = Callable[[], float | Reading | None]


def timed(monotonic: Callable[[], float], ask: Callable[[], float]) -> Reading:
    """``ask()``'s answer, taken as read halfway through the call by ``monotonic``."""
    before = monotonic()
    epoch = float(ask())
    return Reading(epoch, (before + monotonic()) / 2)


class SharedClock:
    """Seconds since the epoch by a clock several machines share (see the module docstring).

    Args:
        read_epoch: asks the shared server for its time; ``None`` when it cannot.
        resync_s: seconds between two readings.
        monotonic: this machine's steady clock (tests pass a fake).
    """

    def __init__(
        self, read_epoch: ReadEpoch, resync_s: float = RESYNC_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._read_epoch = read_epoch
        self._resync_s = resync_s
        self._monotonic = monotonic
        self._base: Reading | None = None
        self._next_read = -math.inf
        self._reading_since: float | None = None  # monotonic start of the reading in progress
        self._changed = threading.Condition(threading.Lock())

    def __call__(self) -> float:
        if self._claim_reading():
            self._sync()
        base = self._base or self._await_first_reading()
        if base is None:
            return time.time()
        return base.epoch + (self._monotonic() - base.at)

    def _claim_reading(self) -> bool:
        """Whether this call reads the shared clock: one thread at a time does, the others go on."""
        with self._changed:
            if self._reading_since is not None or self._monotonic() < self._next_read:
                return False
            self._reading_since = self._monotonic()
            return True

    def _await_first_reading(self) -> Reading | None:
        """Before any reading, wait (bounded) for the one in progress: callers arriving during it got
        this machine's clock, hours off the others'."""
        with self._changed:
            since = self._reading_since
            if since is not None:
                left = since + FIRST_READING_WAIT_S - self._monotonic()
                self._changed.wait_for(lambda: self._base is not None or self._reading_since is None, left)
            return self._base

    def last_reading(self) -> float:
        """The time by the last reading, without asking the server for a due one (only while there has
        been no reading yet): for a caller whose own transaction takes that reading (:class:`DatabaseClock`)."""
        base = self._base
        if base is None:
            return self()
        return base.epoch + (self._monotonic() - base.at)

    def _sync(self, read: Callable[[], Reading | None] | None = None) -> None:
        reading: Reading | None = None
        try:
            reading = (read or self._read)()
        finally:
            with self._changed:
                self._reading_since = None
                if reading is not None:
                    self._base = reading
                # From the end of this reading: one that hung a connect timeout must not be due again
                # at once. With a reading in hand, a failed one waits as long as a good one: during an
                # outage each try costs its request a connect timeout on top of its own.
                wait_s = self._resync_s if self._base is not None else RETRY_S
                self._next_read = self._monotonic() + wait_s
                self._changed.notify_all()

    def _read(self) -> Reading | None:
        before = self._monotonic()
        answer = self._read_epoch()
        if answer is None or isinstance(answer, Reading):
            return answer
        return Reading(float(answer), (before + self._monotonic()) / 2)


#: PostgreSQL's clock in seconds since the epoch (``clock_timestamp()``: the moment of the statement,
#: not of its transaction's start).
_EPOCH_NOW: Final = sa.select(sa.extract("epoch", sa.func.clock_timestamp()))


class DatabaseClock(SharedClock):
    """PostgreSQL's clock, whose due reading rides in a transaction of the caller's (:meth:`read_within`).

    Read on a connection of its own, the reading that fell due once a minute cost its write a connect
    of its own: with the database host gone, that write waited libpq's connect timeout twice (4.0 s
    with a 2 s timeout, 10 s with the default 5 s). As a statement in the write's transaction it
    costs one round trip a minute on a connection already open, and nothing more when there is none.
    Only the first reading of a process is still taken apart, before anything is timed by it.
    """

    def __init__(self, database: Database) -> None:
        super().__init__(functools.partial(_read_apart, database))

    def read_within(self, connection: Connection) -> None:
        """Take the reading on ``connection`` when one is due (and one was taken before).

        An error of the statement is the transaction's own and is raised as such: the connection is
        broken, and so is the work around it.
        """
        if self._base is None or not self._claim_reading():
            return
        self._sync(lambda: timed(self._monotonic, connection.execute(_EPOCH_NOW).scalar_one))


def _read_apart(database: Database) -> Reading | None:
    """A reading in a read transaction of its own; None (logged) when the database cannot be asked."""
    try:
        # Timed around the statement alone: around the whole read, a turn held 3 s by another
        # request put the clock 1.5 s ahead.
        return database.read(lambda connection: timed(time.monotonic, connection.execute(_EPOCH_NOW).scalar_one))
    except (MoodtapeError, sa.exc.SQLAlchemyError) as error:
        # Any of the store's errors (down, busy, a failed setup): the last reading goes on, and the
        # write this reading follows (after its commit, for the retention sweep) answers as it did.
        log.warning("store: could not read the database's clock (%s); keeping the last reading", type(error).__name__)
        return None


def database_clock(database: Database) -> Callable[[], float]:
    """The clock the machines sharing ``database`` agree on: PostgreSQL's (a :class:`DatabaseClock`),
    or with SQLite (a file on one machine) this machine's own."""
    if database.dialect != "postgresql":
        return time.time
    return DatabaseClock(database)
