"""Moments every instance of one deployment must agree on, recorded once in the store they share.

The first is when the deployment began issuing session cookies with an issue time
(:data:`COOKIE_ISSUE_TIMES`): cookies of the earlier format are accepted for 180 days from then
(``web/session.py``). A date written into the code was wrong for everyone who upgraded later (past
it, every returning visitor was logged out at once), and each instance's own start time differs
from machine to machine and moves at every restart. Migration 0005 records the moment it runs, in
the ``deployment_facts`` table of the database every instance uses (a SQLite file on one machine,
PostgreSQL across several), so all of them read the same moment, and a restart does not move it.

A moment never changes once recorded, so each process reads it once per :class:`Database` and keeps
it. While the database cannot be read, :func:`recorded_since` answers None (the caller decides what
that means) and tries again :data:`RETRY_S` after the failure, so that an outage costs one wait per
interval, not one per request. A row deleted by hand is recorded again, at that moment.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.errors import MoodtapeError
from moodtape.store.database import Database, dialect_insert
from moodtape.store.schema import deployment_facts

#: When this deployment first issued session cookies with an issue time (migration 0005).
COOKIE_ISSUE_TIMES: Final[str] = "session_cookie_issue_times"
#: Seconds after a failed read before the database is asked again.
RETRY_S: Final[float] = 30.0

_log = logging.getLogger(__name__)
_lock = threading.Lock()
#: What each database said, per fact: read once, kept for the process's life.
_known: weakref.WeakKeyDictionary[Database, dict[str, float]] = weakref.WeakKeyDictionary()
#: When a database that failed to answer may be asked again (monotonic seconds).
_retry_at: weakref.WeakKeyDictionary[Database, float] = weakref.WeakKeyDictionary()


def now() -> float:
    """The clock a fact is recorded by (Unix seconds): the recording machine's own."""
    return time.time()


def recorded_since(database: Database, fact: str) -> float | None:
    """When ``fact`` was recorded in ``database`` (Unix seconds), or None while that cannot be read.

    The first call per database reads it (setting the database up first, like any first use, which
    runs migration 0005 and so records :data:`COOKIE_ISSUE_TIMES`); later calls answer from memory.
    """
    with _lock:
        known = _known.get(database, {}).get(fact)
        if known is not None:
            return known
        if time.monotonic() < _retry_at.get(database, 0.0):
            return None
    try:
        since = database.read(lambda connection: _since(connection, fact))
        if since is None:  # deleted by hand: recorded again, now
            since = database.write(lambda connection: _record_once(connection, fact, now()))
    except MoodtapeError as exc:  # unavailable, or not set up: the caller goes on without it
        _log.info("could not read when %s was recorded (asking again in %g s): %s", fact, RETRY_S, exc)
        with _lock:
            _retry_at[database] = time.monotonic() + RETRY_S
        return None
    with _lock:
        _known.setdefault(database, {})[fact] = since
        _retry_at.pop(database, None)
    return since


def _since(connection: Connection, fact: str) -> float | None:
    found = connection.execute(sa.select(deployment_facts.c.since).where(deployment_facts.c.fact == fact))
    value = found.scalar_one_or_none()
    return float(value) if value is not None else None


def _record_once(connection: Connection, fact: str, moment: float) -> float:
    """Record ``fact`` at ``moment`` unless an instance recorded it first; the moment kept either way."""
    insert = dialect_insert(connection)(deployment_facts).values(fact=fact, since=moment)
    connection.execute(insert.on_conflict_do_nothing(index_elements=[deployment_facts.c.fact]))
    kept = _since(connection, fact)
    assert kept is not None
    return kept
