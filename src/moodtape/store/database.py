"""One database behind one URL: SQLite by default, PostgreSQL when several machines share it.

:class:`Database` owns the SQLAlchemy engine (a connection pool), brings the schema up to date
with Alembic on first use, and runs every unit of work as one transaction with two promises:

- **Retries.** A transaction that loses a race (PostgreSQL's serialisation failure or deadlock,
  SQLite's "database is locked") is run again, a few times, from the start.
- **Clear failure.** A database that cannot be reached or stops answering becomes
  :class:`~moodtape.errors.StoreUnavailableError` (HTTP 503 with a JSON error and ``Retry-After:
  1`` in the web app, one line in the CLI), never a traceback. The pool checks each connection before lending it
  (``pool_pre_ping``), so when the database comes back the next request simply works.

Two more bounds for a server:

- **A failed setup is remembered.** A schema this moodtape cannot use (a newer moodtape migrated
  it; a user that may not create the tables) is tried again at most every :data:`SETUP_RETRY_S`
  seconds; meanwhile every use raises the same :class:`~moodtape.errors.StoreSetupError` at once,
  without a connection, a lock or a line of Alembic in the log.
- **A schema changed under a running process is noticed, never migrated.** Every
  :data:`SCHEMA_RECHECK_S` one use reads the schema's version again (a plain read, which waits for
  no writer); until the next read says otherwise, every use raises what it found: a version this
  moodtape does not know (a newer instance migrated the database) is
  :class:`~moodtape.store.migrate.SchemaTooNewError`, an older one (restored from a backup to roll
  an upgrade back) :class:`~moodtape.store.migrate.SchemaMovedBackError`; both make readiness 503.
  Only a first use migrates: migrating again under traffic would undo the rollback. A version that
  cannot be read at all (a damaged ``alembic_version``, an error of Alembic's or SQLAlchemy's that
  is no outage) is a :class:`~moodtape.errors.StoreSetupError` too, not a 500; each change is logged
  once per process, however many :class:`Database` objects of the process use that database.
- **A SQLite file replaced under a running process is noticed** (:class:`StoreFileReplacedError`):
  every use compares the file at the path with the one this process opened first (a ``stat``, a
  few microseconds) and, when it was moved away, replaced, removed or made unreachable, uses
  neither: the open connections would write to a file nobody reads any more, and a new one would
  read the old file's ``-wal`` into the new file (a probe lost a whole restore that way). What was
  opened is the process's, not one :class:`Database`'s: a second object on the path whose first
  use comes after the swap is refused too, instead of setting the new file up beside the old
  ``-wal``.
- **Threads waiting on the database** (:class:`StoreWaits`, set by the web app): a database that
  is frozen (its host still acknowledges packets, so no timeout of libpq or the kernel fires) holds
  each query until :class:`ConnectionWatchdog` gives up on it. Only so many threads may use it at
  once; the next waits :data:`STORE_WAIT_S` for a turn and is then answered with a 503, so the other
  request threads stay free for pages, photo analysis and ``/healthz``.
- **A connection that went silent** (PostgreSQL): :class:`ConnectionWatchdog` shuts the socket of a
  connection whose statement, ping or commit waits longer than :data:`GIVE_UP_S` (a pooled
  connection's ping: :data:`PING_GIVE_UP_S`). A failover that leaves the old connections half-open
  (a relay or virtual address that moved, a frozen server) otherwise held every request thread
  that took one of them, and with it every turn of :class:`StoreWaits`, until the process was
  restarted.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.pool import StaticPool

from moodtape.config import refuse_unencoded_password, unreadable_url
from moodtape.errors import DataError, MoodtapeError, StoreSetupError, StoreUnavailableError
from moodtape.store.idle_sessions import end_idle_sessions

T = TypeVar("T")
log = logging.getLogger(__name__)
#: The lines saying PostgreSQL refuses writes, on a logger of their own: ``web/logs.py`` sums them
#: up per cause, and only "takes writes again" ends their run, not a read that succeeds.
writes_log = logging.getLogger(f"{__name__}.writes")

#: Attempts for a transaction that loses a race, and the pause before the first retry (doubles).
ATTEMPTS: Final[int] = 4
FIRST_PAUSE_S: Final[float] = 0.02
#: Seconds to wait for a connection or a lock before the request is answered with a 503.
CONNECT_TIMEOUT_S: Final[int] = 5
#: PostgreSQL: longest one statement may run, a wait for a row or table lock included, before the
#: server cancels it and the request is answered with a 503 (SQLite's bound is its busy_timeout).
STATEMENT_TIMEOUT_S: Final[int] = 5
#: PostgreSQL: seconds without an acknowledgement from the server (a dead host, a cut network)
#: before the kernel gives up on the connection, where no server is left to cancel anything.
TCP_GIVE_UP_S: Final[int] = 10
#: A migration may rewrite tables: it gets longer than a request's statements.
MIGRATION_TIMEOUT_S: Final[int] = 300
#: PostgreSQL: seconds one step on a connection (a statement, with the work between statements, or
#: the commit) may wait for the server before :class:`ConnectionWatchdog` closes the connection
#: under it. The server cancels a statement after :data:`STATEMENT_TIMEOUT_S`; this is for a server
#: that cannot answer at all while its end of the connection still acknowledges (half-open TCP).
GIVE_UP_S: Final[float] = STATEMENT_TIMEOUT_S + 5.0
#: PostgreSQL: seconds the pool's check of an idle connection (``SELECT 1`` before lending it) may
#: take before the connection is closed and the pool's older connections are replaced.
PING_GIVE_UP_S: Final[float] = 3.0
#: Seconds before a setup that failed (:class:`~moodtape.errors.StoreSetupError`) is tried again;
#: until then every use fails at once with the same error.
SETUP_RETRY_S: Final[float] = 30.0
#: Seconds a thread waits for a turn on the database when :class:`StoreWaits`' threads all use it:
#: as long as it waited for a pooled connection before the bound existed, so a busy but healthy
#: database (SQLite's one writer at a time) turns no more requests away than it did then.
STORE_WAIT_S: Final[float] = 5.0
#: Seconds between two log lines saying that threads were turned away by :class:`StoreWaits`.
_BUSY_LOG_EVERY_S: Final[float] = 10.0
#: SQLSTATEs that mean "run the transaction again": serialization_failure, deadlock_detected.
_RETRY_SQLSTATES: Final[frozenset[str]] = frozenset({"40001", "40P01"})
#: Advisory lock key so that two instances starting together migrate one after the other.
_MIGRATION_LOCK: Final[int] = 0x6D6F6F64  # "mood"
#: Seconds between two reads of the schema's version once it is set up: a newer instance may have
#: migrated it since (a rolling upgrade), or an operator restored an older one (a rollback), and this
#: process must then stop using it. Readiness polls come every few seconds, so a balancer takes such
#: an instance out within a few more.
SCHEMA_RECHECK_S: Final[float] = 5.0
_UNAVAILABLE = "the history store is not answering right now; try again in a moment"
#: SQLSTATE read_only_sql_transaction: PostgreSQL refuses a write on a standby (a failover left
#: MOODTAPE_DATABASE_URL on the old primary) or with ``default_transaction_read_only = on``.
_READ_ONLY_SQLSTATE: Final[str] = "25006"
READ_ONLY: Final[str] = (
    "the history store is read-only and refuses writes (a standby, or default_transaction_read_only is on); "
    "retry later, and point MOODTAPE_DATABASE_URL at the primary (with several hosts, add "
    "?target_session_attrs=read-write)"
)
#: Seconds between two renewals of connections that found the database read-only (see
#: :func:`renew_read_only_connections`).
RENEW_READ_ONLY_EVERY_S: Final[float] = 1.0
_FILE_REPLACED = (
    "the SQLite database file was {how} while this instance ran, so this instance stopped using it: its open "
    "connections still reach the old file, and a new one would read the old file's -wal into the new one. "
    "Stop every moodtape process using it, delete the -wal and -shm files beside it (they belong to the old "
    "file), then start again (docs/store.md: replacing a SQLite file)"
)
_SLOW = "the history store is slow to answer right now ({n} requests here are waiting for it); try again in a moment"


def dialect_insert(connection: Connection) -> Any:
    """``insert`` with ``ON CONFLICT`` for the connection's database (SQLite and PostgreSQL both have it)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL for a ``MOODTAPE_DATABASE_URL`` value (``postgresql://`` uses psycopg 3).

    Raises:
        DataError: not a ``sqlite:///`` or ``postgresql://`` URL.
        SettingsError: a PostgreSQL URL whose password has a character that ends it unencoded.
    """
    unreadable = False
    try:
        parsed = sa.make_url(url)
        if parsed.drivername == "postgres":  # the scheme libpq and Heroku-style URLs use
            parsed = parsed.set(drivername="postgresql")
    except exc.ArgumentError:
        parsed = None
    except ValueError:  # int() of the port, in words that may quote a piece of the password
        parsed, unreadable = None, True
    if unreadable:  # raised outside the except, so its words are not even the context
        refuse_unencoded_password("MOODTAPE_DATABASE_URL", url)
        raise unreadable_url("MOODTAPE_DATABASE_URL", url)
    if parsed is None or parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DataError(
            "MOODTAPE_DATABASE_URL must look like sqlite:///path/to/moodtape.db or postgresql://user@host/dbname"
        )
    refuse_unencoded_password("MOODTAPE_DATABASE_URL", url)  # checked at start too, by the settings
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise DataError("MOODTAPE_DATABASE_URL needs a file: sqlite:///path/to/moodtape.db")
        return _absolute_sqlite(parsed.set(drivername="sqlite+pysqlite"))
    return parsed.set(drivername="postgresql+psycopg")


def sqlite_file(url: sa.URL) -> str | None:
    """The file a SQLite URL opens, as an absolute path (a ``file:`` URI's too, as SQLite reads it);
    None for PostgreSQL and for a database in memory."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if not _is_uri(url):
        return os.path.abspath(database)
    split = urllib.parse.urlsplit(database)
    path = urllib.parse.unquote(split.path)
    memory = url.query.get("mode") == "memory" or "mode=memory" in split.query
    if memory or path in ("", ":memory:") or split.netloc not in ("", "localhost"):
        return None  # SQLite refuses another host's file: nothing here to look at
    return os.path.abspath(path)


def _is_uri(url: sa.URL) -> bool:
    """Whether SQLite reads the database as a ``file:`` URI (``?uri=true``)."""
    uri = str(url.query.get("uri", "")).lower()
    return uri in ("true", "1", "yes", "on") and (url.database or "").startswith("file:")


def _absolute_sqlite(url: sa.URL) -> sa.URL:
    """``url`` naming its file by its absolute path, fixed once: every connection then opens the
    same file, and the process compares the file it opened with that one, whatever the working
    folder becomes later (a relative path reported the file "removed" after a ``chdir``)."""
    path = sqlite_file(url)
    if path is None:
        return url
    if not _is_uri(url):
        return url.set(database=path)
    split = urllib.parse.urlsplit(url.database or "")
    if split.path.startswith("/"):
        return url
    rest = f"?{split.query}" if split.query else ""
    return url.set(database=f"file:{urllib.parse.quote(path)}{rest}")


class Database:
    """A pooled engine for ``url`` whose schema is migrated on first use.

    Args:
        url: ``sqlite:///path.db``, ``sqlite:///:memory:`` or ``postgresql://user:pw@host:port/db``.
    """

    def __init__(self, url: str) -> None:
        self.url = engine_url(url)
        self._engine: Engine | None = None
        self._ready = False
        #: When the schema's version is to be read again (monotonic seconds), once it is set up; the
        #: thread that moves it on reads it, the others go on meanwhile.
        self._recheck_at = 0.0
        self._recheck_lock = threading.Lock()
        #: Why the schema, set up earlier, may not be used now (the last read's answer), or None.
        self._schema_moved: StoreSetupError | None = None
        self._setup_lock = threading.Lock()
        self._migrate_lock = threading.Lock()
        #: The last failed setup and when it may be tried again (monotonic seconds), or None.
        self._setup_failed: tuple[StoreSetupError, float] | None = None
        #: The bound on threads using the database at once (the web app sets one), or None: no bound.
        self.waits: StoreWaits | None = None
        #: The SQLite file's absolute path (its identity, once set up, in :data:`_OPENED_FILES`); None
        #: for PostgreSQL and in-memory SQLite.
        self.sqlite_path = sqlite_file(self.url)
        # One shared in-memory SQLite connection must not run two transactions at once.
        self._memory_lock: threading.Lock | None = threading.Lock() if self.in_memory else None
        #: The outage under way, for the line that says it is over.
        self._outage = _Outage()
        #: When a refused write next renews the pool's connections.
        self._renewals = _AtMostEvery(RENEW_READ_ONLY_EVERY_S)
        #: When readiness finding writes refused next renews them: a limiter of its own, or polling
        #: it every second took every turn and refused writes never renewed the pool.
        self._readiness_renewals = _AtMostEvery(RENEW_READ_ONLY_EVERY_S)
        #: Renews every pooled connection at the next lending: asked by readiness finding writes
        #: refused, and once when writes are taken again (for the connections opened meanwhile).
        self._pool_renewal = _PoolRenewal()
        #: Writes refused by a read-only database: a read that succeeds does not end this one.
        self._refusing_writes = _Outage(writes_log, "store: database takes writes again after %.1f s (%d refused)")

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    @property
    def in_memory(self) -> bool:
        return self.dialect == "sqlite" and self.url.database in (None, "", ":memory:")

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The engine, made on first use (no connection is opened until one is needed)."""
        if self._engine is None:
            with self._setup_lock:
                if self._engine is None:
                    self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> Engine:
        if self.dialect == "sqlite":
            return _sqlite_engine(self.url, self.in_memory)
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise DataError(
                "MOODTAPE_DATABASE_URL names PostgreSQL: install the driver with pip install 'moodtape[postgres]'"
            ) from None
        engine = sa.create_engine(
            self.url,
            pool_size=5,
            max_overflow=10,
            pool_timeout=CONNECT_TIMEOUT_S,
            pool_pre_ping=True,  # a connection broken by a database restart is replaced, not lent
            pool_recycle=1800,
            # The most recently returned connection first: light traffic keeps reusing one, and the
            # rest of a burst's sit idle until PostgreSQL ends them (store/idle_sessions.py). Lent in
            # turn, a request every 0.15 s kept all 5 of a burst's open past a 1 s idle bound.
            pool_use_lifo=True,
            connect_args=postgres_connect_args(),
        )
        watch_connections(engine)
        end_idle_sessions(engine)  # a burst's connections go back to the server (store/idle_sessions.py)
        renew_read_only_connections(engine, self._renewals)
        self._pool_renewal.listen(engine)
        return engine

    def upgrade(self) -> None:
        """Bring the schema to the newest version (Alembic ``upgrade head``); safe to repeat.

        Retried like a transaction: processes that start together on one SQLite file race for
        its write lock, and the loser must wait its turn, not fail to start.
        """
        self._raise_if_file_replaced()
        self._retried(self._upgrade_once)

    def _upgrade_once(self) -> None:
        from moodtape.store.migrate import upgrade

        longer = {"moodtape_give_up_s": MIGRATION_TIMEOUT_S + GIVE_UP_S}
        with (
            self._setup_errors(),
            self._translate_errors(),
            self.engine.connect().execution_options(**longer) as connection,
            connection.begin(),
        ):
            if self.dialect == "postgresql":
                timeout = f"{MIGRATION_TIMEOUT_S * 1000}"
                connection.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": timeout})
                connection.execute(sa.text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": timeout})
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            upgrade(connection)
        self._remember_opened_file()
        self._schema_moved = None
        self._ready = True
        self._recheck_at = time.monotonic() + SCHEMA_RECHECK_S

    def ensure_ready(self) -> None:
        """Migrate once per process, on first use; a database that is down is tried again next time.

        A setup that failed (:class:`~moodtape.errors.StoreSetupError`: the schema is newer than
        this moodtape, or the user may not create the tables) is not tried again for
        :data:`SETUP_RETRY_S` seconds: the same error is raised at once meanwhile.
        """
        self._retried(self._ready_once)

    def _ready_once(self) -> None:
        # Before a first use too: a second Database on the path, set up after the file was replaced,
        # would otherwise take the new file for its own and read the old file's -wal into it.
        self._raise_if_file_replaced()
        if self._ready:
            self._raise_if_schema_moved()
            return
        self._raise_if_setup_failed()
        with self._migrate_lock:
            if self._ready:  # set up by another thread meanwhile
                return
            self._raise_if_setup_failed()  # another thread's attempt may have just failed
            try:
                self._upgrade_once()
            except StoreSetupError as error:
                self._setup_failed = (error, time.monotonic() + SETUP_RETRY_S)
                raise
            self._setup_failed = None

    def _remember_opened_file(self) -> None:
        """Record the file this process set up, unless one of its Database objects did first."""
        if self.sqlite_path is None:
            return
        found = _file_identity(self.sqlite_path)
        if isinstance(found, tuple):
            with _OPENED_LOCK:
                _OPENED_FILES.setdefault(self.sqlite_path, found)

    def _raise_if_file_replaced(self) -> None:
        """Raise :class:`StoreFileReplacedError` while the SQLite file at the path is not the one this
        process set up (moved, replaced, removed or unreachable since); no connection is used or
        opened then. Nothing to compare before the process's first setup of the path."""
        opened = _OPENED_FILES.get(self.sqlite_path) if self.sqlite_path is not None else None
        if opened is None:
            return
        assert self.sqlite_path is not None
        found = _file_identity(self.sqlite_path)
        replaced = None if found == opened else _file_replaced(found)
        _note(f"{self.sqlite_path}#file", replaced, f" ({self.sqlite_path})")
        if replaced is not None:
            raise replaced

    def _raise_if_schema_moved(self) -> None:
        """Raise what the last read of the schema's version found wrong, reading it again first when
        :data:`SCHEMA_RECHECK_S` has passed. Never migrates: only a first use does (see
        :class:`~moodtape.store.migrate.SchemaMovedBackError`)."""
        if self.in_memory:
            return  # this process's alone: nobody else migrates or restores it
        if self._claim_schema_read():
            self._read_schema()
        moved = self._schema_moved
        if moved is not None:
            raise _fresh(moved)

    def _claim_schema_read(self) -> bool:
        """Whether this thread reads the version now; it moves the next read on first, so requests
        arriving together make one read, and a database that does not answer is asked once a period."""
        with self._recheck_lock:
            now = time.monotonic()
            if now < self._recheck_at:
                return False
            self._recheck_at = now + SCHEMA_RECHECK_S
            return True

    def _read_schema(self) -> None:
        """Read the version in a read transaction: on SQLite a write's BEGIN IMMEDIATE would wait for
        any other writer, and readiness with it. Without the migration lock: a frozen database then
        holds this thread for its own wait, not the others in turn."""
        from moodtape.store.migrate import current_revision, mismatch

        cause: Exception | None = None
        try:
            with self._translate_errors(), self._begin(write=False) as connection:
                moved: StoreSetupError | None = mismatch(current_revision(connection))
        except StoreSetupError as error:  # the version table is damaged
            moved = error
        except (MoodtapeError, _RetryError):
            raise  # an outage, a lost race: answered as such, the last answer kept
        except Exception as error:  # not an outage (a malformed row, Alembic, SQLAlchemy): no 500 either
            moved, cause = _unreadable_version(error), error
        _note(str(self.url), moved, cause=cause)
        self._schema_moved = moved

    def _raise_if_setup_failed(self) -> None:
        failed = self._setup_failed
        if failed is not None and time.monotonic() < failed[1]:
            raise _fresh(failed[0])

    def read(self, work: Callable[[Connection], T], *, bounded: bool = True) -> T:
        """Run ``work`` in a read-only transaction (retried like :meth:`write`).

        ``bounded=False`` skips :attr:`waits`: for the readiness check, which runs in a thread of its
        own, one at a time; with a turn, a frozen database would keep one of the request threads'
        turns for as long as it stayed frozen.
        """
        return self._run(work, write=False, bounded=bounded)

    def inspect(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a read-only transaction on the database as it is, without setting it up:
        for ``moodtape db status``, which must report a schema it finds (one restored from a backup,
        say) rather than migrate it first."""
        return self._run(work, write=False, set_up=False)

    def write(self, work: Callable[[Connection], T], *, bounded: bool = True) -> T:
        """Run ``work`` in one transaction: all of it is written or none of it; retried on a lost race.

        ``bounded=False`` skips :attr:`waits`, as for :meth:`read` (a readiness check's one small write).
        """
        return self._run(work, write=True, bounded=bounded)

    def _run(self, work: Callable[[Connection], T], *, write: bool, bounded: bool = True, set_up: bool = True) -> T:
        def once() -> T:
            with self._turn() if bounded else nullcontext():
                if set_up:
                    self._ready_once()  # inside the retries: a first use may race another process's migration
                with self._translate_errors(), self._serialised(), self._begin(write) as connection:
                    result = work(connection)
            self._outage.ended()
            if write:
                self._writes_taken_again()
            return result

        return self._retried(once)

    def _retried(self, once: Callable[[], T]) -> T:
        """``once()``, run again after a pause while it loses a race; a 503 error after :data:`ATTEMPTS`."""
        pause = FIRST_PAUSE_S
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return once()
            except _RetryError as retry:
                if attempt == ATTEMPTS:
                    raise StoreUnavailableError(_UNAVAILABLE) from retry.__cause__
                log.info("store: transaction lost a race (%s); retrying", retry)
                time.sleep(pause)
                pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _begin(self, write: bool) -> Iterator[Connection]:
        options: dict[str, Any] = {"moodtape_write": write}
        with self.engine.connect().execution_options(**options) as connection, connection.begin():
            yield connection

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold one of :attr:`waits`' turns for the block (no bound when it is None)."""
        if self.waits is None:
            yield
            return
        with self.waits.turn():
            yield

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._memory_lock is None:
            yield
            return
        with self._memory_lock:
            yield

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """Lost races become :class:`_RetryError`; an unreachable database becomes a 503 error."""
        try:
            yield
        except exc.DBAPIError as error:
            if _is_retryable(error):
                raise _RetryError(str(error.orig)) from error
            if _refused_as_read_only(error.orig):
                raise self.refused_writes_error(str(error.orig)) from None
            if error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError):
                self._outage.failed()
                log.warning("store: database unavailable: %s", error.orig)  # summed up per cause by web/logs.py
                raise StoreUnavailableError(_unavailable_because(error)) from None
            raise
        except exc.TimeoutError:
            self._outage.failed()
            log.warning("store: no free database connection within %s s", CONNECT_TIMEOUT_S)
            raise StoreUnavailableError(_UNAVAILABLE) from None

    def refused_writes_error(self, said: str) -> StoreUnavailableError:
        """The 503 for a database that refuses writes, logged under a cause of its own.

        Before, such a write was a 500 ("something went wrong on the server") with a traceback in
        the log, and ``/readyz`` said ready. Logged as an outage, every successful read in between
        said "database available again" and ended the log filter's run: 100 refused writes, each
        followed by a read, wrote 200 lines. A read proves nothing about writes, so only a write
        that succeeds (or a readiness check that finds writes allowed) ends this one.
        The refused connections are renewed by :func:`renew_read_only_connections`.
        """
        self._refusing_writes.failed()
        writes_log.warning("store: database refuses writes: %s", said)  # summed up per cause by web/logs.py
        return StoreUnavailableError(READ_ONLY)

    def refuses_writes(self, connection: Connection) -> bool:
        """Whether PostgreSQL would refuse this instance's writes (a standby, or read-only by
        default): readiness said "ok" while every write failed. SQLite never is: it is only asked to
        answer, and raises when it cannot.

        Renews nothing itself: it runs inside the transaction, and the caller renews the pool
        after it ends (:meth:`renew_refused_connections`).
        """
        if connection.dialect.name != "postgresql":
            connection.execute(sa.text("SELECT 1"))
            return False
        said = "SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only') = 'on'"
        return bool(connection.execute(sa.text(said)).scalar_one())

    def renew_refused_connections(self) -> None:
        """Renew every pooled connection at its next lending, at most once a second: readiness
        found writes refused, after its transaction ended.

        Every pooled connection keeps the read-only default it was opened with, and a multi-host
        URL reaches the primary only on a new one. Before, readiness renewed only its own
        connection, so it said "ready" (and logged "takes writes again") while the request
        threads' connections still refused writes: ``/readyz`` flapped between ready and
        degraded 4 times in 1.5 s. It renewed that one mid-transaction too, which disarmed the
        connection's watchdog while its COMMIT still ran.
        """
        if self._readiness_renewals.due():
            self._pool_renewal.ask()

    def note_writes_allowed(self) -> None:
        """Say once that writes are taken again, if they were refused (a readiness check found so)."""
        self._writes_taken_again()

    def _writes_taken_again(self) -> None:
        """End the refusals' run, and renew the connections opened while it lasted: one connection
        taking writes says nothing of the pool's others, which keep the read-only default."""
        if self._refusing_writes.ended():
            self._pool_renewal.ask()

    @contextmanager
    def _setup_errors(self) -> Iterator[None]:
        """A user that may not create the tables, or a migration failing for a reason that is no
        outage (Alembic's own errors, a table in the way): a clear :class:`StoreSetupError`, which
        :meth:`ensure_ready` remembers, not a 500 and a new attempt on every request."""
        try:
            yield
        except exc.ProgrammingError as error:
            if "permission denied" not in str(error.orig).lower():
                raise _setup_failed(error) from None
            log.error("store: cannot create or change the tables: %s", error.orig)
            raise StoreSetupError(
                "the database user may not create moodtape's tables: grant it CREATE on the schema, or run "
                "`moodtape db upgrade` once as a user that may"
            ) from None
        except (MoodtapeError, _RetryError):
            raise
        except Exception as error:
            raise _setup_failed(error) from None

    def dispose(self) -> None:
        """Close every pooled connection; the next use opens new ones."""
        if self._engine is not None:
            self._engine.dispose()


class _AtMostEvery:
    """Says "due" at most once every ``seconds`` (lock-free: two threads racing may both hear it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True


class _PoolRenewal:
    """Renews every connection of a pool at the next lending, once asked to.

    The next connection lent is closed and replaced, and the pool's others, idle or in use, are
    replaced at their next lending, as after a refused write (SQLAlchemy's handling of a lost
    connection, through its public :class:`~sqlalchemy.exc.InvalidatePoolError`). Asked from
    outside a transaction, nothing in use is closed under a statement.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked = False

    def ask(self) -> None:
        with self._lock:
            self._asked = True

    def _taken(self) -> bool:
        """Whether renewal was asked for, once: the next lending alone renews the pool."""
        with self._lock:
            asked, self._asked = self._asked, False
        return asked

    def listen(self, engine: Engine) -> None:
        def lent(*_args: object) -> None:
            if self._taken():
                raise exc.InvalidatePoolError("the database refused writes: renewing the pool's connections")

        event.listen(engine, "checkout", lent)


def _refused_as_read_only(error: object) -> bool:
    """Whether the driver's error is PostgreSQL refusing a write as read-only."""
    return getattr(error, "sqlstate", None) == _READ_ONLY_SQLSTATE


def renew_read_only_connections(engine: Engine, renewals: _AtMostEvery) -> None:
    """Renew ``engine``'s connections after PostgreSQL refused a write as read-only, in place.

    Pooled connections keep the read-only default they were opened with, and a multi-host URL
    reaches the primary only on a new connection: they must be renewed to see writes allowed again.
    Disposing the engine at each refusal did so with a new pool every time, while the connections
    other threads held went back to the old pools and stayed open until garbage collected: 4
    writers and 4 readers for 4 s filled PostgreSQL's 100 connections, and reads failed. Now the
    refused connection is closed and the pool's others are renewed when next lent, in the same
    pool (SQLAlchemy's handling of a lost connection), at most once every ``renewals.seconds``.
    """

    def refused(context: ExceptionContext) -> None:
        if _refused_as_read_only(context.original_exception) and renewals.due():
            context.is_disconnect = True

    event.listen(engine, "handle_error", refused)


class _Outage:
    """Counts the uses that found the database unavailable, and says once when one succeeds again.

    The failures themselves are logged one per request; ``web/logs.py`` sums them up, and this
    line ("store: database available again ...") writes its summary at once, then ends it.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        back: str = "store: database available again after %.1f s (%d uses failed meanwhile)",
    ) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failures = 0
        self._log = logger or log
        self._back = back

    def failed(self) -> None:
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()
            self._failures += 1

    def ended(self) -> bool:
        """Say that it is over, once; whether this call ended one."""
        if self._since is None:  # the usual case, without taking the lock
            return False
        with self._lock:
            since, failures = self._since, self._failures
            self._since, self._failures = None, 0
        if since is None:
            return False
        # At the failures' level: wherever they show, their end shows too.
        self._log.warning(self._back, time.monotonic() - since, failures)
        return True


class StoreWaits:
    """At most ``slots`` threads of this process use the database at once; the next one waits up to
    ``wait_s`` for a turn and then gets :class:`~moodtape.errors.StoreUnavailableError` (a 503).

    A database that is frozen while its host still acknowledges packets (a server stuck on I/O, a
    stuck PgBouncer, a paused VM) answers no query and trips no timeout: no server is left to cancel
    the statement and the kernel sees every packet acknowledged. Four requests for the history then
    held all four request threads of an instance until the database came back, and ``/healthz``,
    pages and photo analysis waited behind them. With this bound at most ``slots`` threads are held
    (the web app gives half its request threads); the rest answer, and those needing the store get
    a 503 within ``wait_s``. Several :class:`Database` objects (the store, the short-lived state) may
    share one bound. A thread that holds a turn uses the database again (nested) without another.

    Args:
        slots: threads that may use the database at once (at least 1).
        wait_s: seconds a thread waits for a turn before the 503 (default :data:`STORE_WAIT_S`).
    """

    def __init__(self, slots: int, wait_s: float | None = None) -> None:
        self.wait_s = STORE_WAIT_S if wait_s is None else wait_s
        self._slots = 0
        self._busy = 0
        self._changed = threading.Condition()
        self._mine = threading.local()
        self._next_log = 0.0
        self.resize(slots)

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def busy(self) -> int:
        """Threads using the database now."""
        return self._busy

    def resize(self, slots: int) -> None:
        """Allow ``slots`` threads at once from now on (the server knows its thread count late)."""
        if slots < 1:
            raise ValueError("slots must be at least 1")
        with self._changed:
            self._slots = slots
            self._changed.notify_all()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Run the block holding a turn.

        Raises:
            StoreUnavailableError: no turn came free within :attr:`wait_s`.
        """
        if getattr(self._mine, "held", False):
            yield
            return
        with self._changed:
            if not self._changed.wait_for(lambda: self._busy < self._slots, timeout=self.wait_s):
                self._log_refusal()
                raise StoreUnavailableError(_SLOW.format(n=self._busy))
            self._busy += 1
        self._mine.held = True
        try:
            yield
        finally:
            self._mine.held = False
            with self._changed:
                self._busy -= 1
                self._changed.notify()

    def _log_refusal(self) -> None:
        now = time.monotonic()
        if now >= self._next_log:  # once in a while, not once per refused request
            self._next_log = now + _BUSY_LOG_EVERY_S
            log.warning(
                "store: all %d turns on the database stayed taken for %s s (is it answering?); requests "
                "that need it get a 503 until a turn comes free",
                self._slots,
                self.wait_s,
            )


def postgres_connect_args() -> dict[str, Any]:
    """libpq settings that bound every wait, so a stuck database costs a request 503, not a thread.

    Without them a query waits as long as the server does: behind a lock held by a stuck
    transaction, on an overloaded server, or on a host that vanished. The server cancels what runs
    too long (``statement_timeout``, ``lock_timeout``: SQLSTATE 57014 / 55P03, which become 503s);
    the kernel drops a connection whose server stopped acknowledging (``tcp_user_timeout``,
    keepalives for idle pooled connections).
    """
    statement_ms = STATEMENT_TIMEOUT_S * 1000
    return {
        "connect_timeout": CONNECT_TIMEOUT_S,
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}",
        "tcp_user_timeout": TCP_GIVE_UP_S * 1000,
        "keepalives": 1,
        "keepalives_idle": TCP_GIVE_UP_S,
        "keepalives_interval": 2,
        "keepalives_count": 3,
    }


class ConnectionWatchdog:
    """Closes a PostgreSQL connection under a thread that has waited on it too long.

    libpq bounds a connect (``connect_timeout``) and a server that stops acknowledging
    (``tcp_user_timeout``), and the server bounds its own statements (``statement_timeout``), but
    nothing bounds a wait on a connection whose other end still acknowledges every packet and never
    answers: a server frozen under ``SIGSTOP``, a stuck PgBouncer, or a failover behind a relay or a
    moved address that leaves the old connections half-open. A probe failing PostgreSQL over behind
    a relay (the old connections kept open and silent, new ones reaching the new server) had every
    request that took a pooled connection wait for good in the pool's ``SELECT 1``: with those threads
    holding every turn of :class:`StoreWaits`, the instance answered each history request 503 until
    it was restarted.

    A connection is *armed* while it is lent out (from the pool's checkout to its checkin) and
    again before each statement, with a deadline; a thread here shuts the socket of one that passes
    its deadline, so the waiting call fails at once as a broken connection (a 503 for the request,
    the connection thrown away) and the pool opens new ones, which reach the database wherever it is
    now. One per process (made again after a fork).
    """

    def __init__(self) -> None:
        self._pid = -1
        #: Guards the start (threads arming at once must start one watcher, on one Condition).
        self._starting = threading.Lock()
        self._changed = threading.Condition()
        self._armed: dict[int, tuple[float, float, Any]] = {}
        #: Connections closed so far in this process (for tests and logs).
        self.closed = 0
        # A fork's child has copies of the locks, possibly held by a parent thread: fresh ones.
        os.register_at_fork(after_in_child=self._forget_parent)

    def _forget_parent(self) -> None:
        self._starting = threading.Lock()
        self._changed = threading.Condition()
        self._armed = {}
        self._pid = -1

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        """From now on, close ``dbapi_connection`` unless :meth:`disarm` comes within ``seconds``."""
        self._started()
        with self._changed:
            self._armed[id(dbapi_connection)] = (time.monotonic() + seconds, seconds, dbapi_connection)
            self._changed.notify()

    def disarm(self, dbapi_connection: Any) -> None:
        if self._pid != os.getpid():
            return
        with self._changed:
            self._armed.pop(id(dbapi_connection), None)

    def _started(self) -> None:
        """Start this process's watcher once (the first arm here, or the first in a fork's child)."""
        if self._pid == os.getpid():
            return
        with self._starting:
            if self._pid == os.getpid():
                return  # another thread started it meanwhile
            self._pid = os.getpid()
            threading.Thread(
                target=self._watch, args=(self._pid, self._changed), name="moodtape-db-watchdog", daemon=True
            ).start()

    def _watch(self, pid: int, changed: threading.Condition) -> None:
        while self._pid == pid:
            with changed:
                now = time.monotonic()
                late = [(key, seconds, conn) for key, (at, seconds, conn) in self._armed.items() if at <= now]
                for key, seconds, connection in late:
                    del self._armed[key]
                    # Shut under the lock: a disarm (the statement ending, the connection going back
                    # to the pool) waits for it, so a connection lent again is never shut by mistake.
                    self._close(connection, seconds)
                if not late:
                    soonest = min((at for at, _, _ in self._armed.values()), default=now + 60.0)
                    changed.wait(max(0.05, soonest - now))

    def _close(self, dbapi_connection: Any, seconds: float) -> None:
        try:
            if dbapi_connection.closed:
                return
            fd = dbapi_connection.pgconn.socket
            # Shut down, not closed: libpq still owns the descriptor; its wait wakes and reads the end.
            with socket.socket(fileno=os.dup(fd)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except Exception as exc:  # the connection went away meanwhile: nothing to close
            log.debug("store: watchdog could not close a connection: %s", exc)
            return
        self.closed += 1
        log.warning(
            "store: a database connection waited over %s s for the server (half-open or frozen?); closed it",
            f"{seconds:g}",
        )


#: The process's watchdog of PostgreSQL connections.
WATCHDOG: Final = ConnectionWatchdog()


def watch_connections(engine: Engine) -> None:
    """Put every connection of ``engine`` (PostgreSQL) under :data:`WATCHDOG` while it is in use."""

    def lent(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        WATCHDOG.arm(dbapi_connection, GIVE_UP_S)

    def returned(dbapi_connection: Any, *_args: object) -> None:
        if dbapi_connection is not None:
            WATCHDOG.disarm(dbapi_connection)

    def statement(connection: Connection, cursor: Any, *_args: object) -> None:
        seconds = connection.get_execution_options().get("moodtape_give_up_s", GIVE_UP_S)
        WATCHDOG.arm(cursor.connection, float(seconds))

    event.listen(engine, "checkout", lent)
    # Not "soft_invalidate": a connection so marked is still in use, and closed when it comes back.
    for name in ("checkin", "invalidate", "close", "detach"):
        event.listen(engine, name, returned)
    event.listen(engine, "before_cursor_execute", statement)

    dialect = engine.dialect
    ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        # The pool's check of an idle connection, before it is lent (and armed by "checkout").
        WATCHDOG.arm(dbapi_connection, PING_GIVE_UP_S)
        try:
            return ping(dbapi_connection)
        finally:
            WATCHDOG.disarm(dbapi_connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign]


class _RetryError(Exception):
    """Internal: the transaction lost a race and may be run again."""


class StoreFileReplacedError(StoreSetupError):
    """The SQLite file this process set up was moved away, replaced or removed while it ran.

    This instance's own trouble (a process started now would open the file at the path), so
    ``/readyz`` says not ready; it lasts until every process is restarted, or the file put back.
    """


def _file_replaced(found: tuple[int, int] | OSError) -> StoreFileReplacedError:
    if isinstance(found, FileNotFoundError):
        how = "removed"
    elif isinstance(found, OSError):  # a folder on the path replaced by a file, or made unreadable
        how = f"made unreachable ({type(found).__name__}: {found.strerror or found})"
    else:
        how = "replaced (or moved away)"
    return StoreFileReplacedError(_FILE_REPLACED.format(how=how))


def _file_identity(path: str) -> tuple[int, int] | OSError:
    """The file's (device, inode) now, or why it cannot be looked at: any :class:`OSError` means the
    file this process opened cannot be reached at the path any more, as a removed one cannot."""
    try:
        found = os.stat(path)
    except OSError as error:
        return error
    return found.st_dev, found.st_ino


#: The SQLite files this process set up: absolute path → (device, inode) at its first setup by any
#: :class:`Database` of the process. Per path, not per object: ``serve --processes N`` without Redis
#: gives each worker two objects on one URL, set up seconds apart, and the second must not take a
#: file swapped in meanwhile for its own (nor the two then disagree on it). A fork's child keeps it:
#: the parent's engines, and the files they opened, are its too.
_OPENED_FILES: dict[str, tuple[int, int]] = {}
_OPENED_LOCK = threading.Lock()


def _unreadable_version(error: Exception) -> StoreSetupError:
    return StoreSetupError(
        f"the database's schema version could not be read ({type(error).__name__}; this instance's log has "
        "the details): check its alembic_version table (one row, the version its tables are at) with "
        "`moodtape db status`"
    )


def _setup_failed(error: Exception) -> StoreSetupError:
    log.error("store: setting the schema up failed", exc_info=error)
    return StoreSetupError(
        f"setting the database's schema up failed ({type(error).__name__}; this instance's log has the "
        "details): `moodtape db status` shows its version, `moodtape db upgrade` tries again"
    )


#: What this process last logged about each database (its URL; ``#file`` for its SQLite file): the
#: message, or None for "in order". Shared by every :class:`Database` of the process, so the store and
#: the short-lived state on one URL (``serve --processes N``) log a change once, not once each.
_NOTED: dict[str, str | None] = {}
_NOTED_LOCK = threading.Lock()


def _note(key: str, trouble: StoreSetupError | None, detail: str = "", cause: Exception | None = None) -> None:
    """Log ``trouble`` (a warning, with the traceback of its ``cause``) or its end (info) when it
    differs from what this process last said."""
    said = None if trouble is None else str(trouble)
    with _NOTED_LOCK:
        if _NOTED.get(key) == said:
            return
        _NOTED[key] = said
    if trouble is None:
        log.info("store: the database is usable again%s; using it", detail)
    else:
        log.warning("store: %s%s", trouble, detail, exc_info=cause)


def _forget_notes() -> None:
    """A fork's child logs for itself (and gets fresh locks, in case a parent thread held one)."""
    global _NOTED_LOCK, _OPENED_LOCK
    _NOTED.clear()
    _NOTED_LOCK = threading.Lock()
    _OPENED_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_notes)


#: What PostgreSQL (through libpq) says when it turns a connection away for a reason of the settings,
#: and what the 503 then says to change. A retry does not mend these, and "not answering right now;
#: try again in a moment" sent the person who set the URL to look for an outage; the cause was only in
#: the log. libpq's text is matched (regular expressions), as it gives no SQLSTATE for a refused
#: connection; so only a server whose messages are in English (lc_messages) is named, others get the
#: generic message. The server's refusals come as ``FATAL:``; libpq's own (``fe_sendauth: no password
#: supplied``, a URL without a password where the server asks for one) without it.
_REFUSALS: Final[tuple[tuple[str, str], ...]] = (
    (
        r'FATAL: .*(password authentication failed|no pg_hba\.conf entry|role "[^"]*" does not exist)'
        r"|fe_sendauth: no password supplied",
        "the database refused moodtape's login: check the user and password in MOODTAPE_DATABASE_URL "
        "(postgresql://user:password@host:port/database) and the server's pg_hba.conf",
    ),
    (
        r'FATAL: .*role "[^"]*" is not permitted to log in',
        "the role in MOODTAPE_DATABASE_URL may not log in (NOLOGIN): as a superuser, ALTER ROLE <user> LOGIN",
    ),
    (
        r"FATAL: .*permission denied for database",
        "the user in MOODTAPE_DATABASE_URL may not connect to that database: as its owner, "
        "GRANT CONNECT ON DATABASE <database> TO <user>",
    ),
    (
        r'FATAL: .*database "[^"]*" does not exist',
        "the database named in MOODTAPE_DATABASE_URL does not exist on that server: create it "
        "(createdb --owner USER NAME), or fix the name after the last / of the URL",
    ),
    (
        r"FATAL: .*too many connections for role",
        "the user in MOODTAPE_DATABASE_URL is at its own connection limit; try again in a moment, and raise "
        "it (ALTER ROLE <user> CONNECTION LIMIT <n>, -1 for none) for as many connections as the instances open",
    ),
    (
        r"FATAL: .*too many connections for database",
        "the database in MOODTAPE_DATABASE_URL is at its own connection limit; try again in a moment, and "
        "raise it (ALTER DATABASE <database> CONNECTION LIMIT <n>, -1 for none)",
    ),
    (
        r"FATAL: .*(too many clients|remaining connection slots are reserved)",
        "the database has no free connection (its max_connections is reached); try again in a moment, "
        "and raise max_connections or put PgBouncer in front (docs/deployment.md, Sizing)",
    ),
)


def _refusal_named(said: str) -> str | None:
    """What to change for libpq's ``said``, or None when it is no refusal of the settings (an outage)."""
    one_line = " ".join(said.split())
    for signs, message in _REFUSALS:
        if re.search(signs, one_line):
            return message
    return None


def _unavailable_because(error: exc.DBAPIError) -> str:
    """The 503's message for a database that cannot be used: what to change when PostgreSQL said why."""
    return _refusal_named(str(error.orig)) or _UNAVAILABLE


def _is_retryable(error: exc.DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    # SQLite: another process holds the write lock beyond busy_timeout.
    message = str(error.orig).lower()
    return isinstance(error, exc.OperationalError) and ("database is locked" in message or "is busy" in message)


def _sqlite_engine(url: sa.URL, in_memory: bool) -> Engine:
    if in_memory:
        # One connection shared by every thread: separate ones would each see an empty database.
        engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        file = sqlite_file(url)
        if file is not None:  # (a file: URI's own path: its text made a folder named "file:" here)
            Path(file).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (SQLAlchemy's
        # documented recipe), so that writes can take the lock up front with BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            # WAL: readers never wait for a writer, and several processes can share the file.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={CONNECT_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write takes the lock at BEGIN; a deferred one that reads first could fail to upgrade.
        write = connection.get_execution_options().get("moodtape_write", True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _fresh(error: StoreSetupError) -> StoreSetupError:
    """A new error like ``error``, to raise again: re-raising the same object grows its traceback."""
    return type(error)(*error.args)
