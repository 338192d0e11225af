"""The store: saved lists, feedback, "not my mood" corrections and the history choice, per session.

Every method is one transaction on :class:`~moodtape.store.database.Database` (retried when it
loses a race, a 503 error when the database is down). Session ids are opaque strings the browser
or CLI makes up; nothing ties them to a person.

Bounds, so the store cannot grow without limit:

- **Retention.** Rows older than ``retention_days`` are invisible at once and deleted by
  :meth:`Store.prune`, which writes run at most once a minute per process.
- **A cap per session.** At most ``max_lists`` lists and ``max_feedback`` feedback rows per
  session; the oldest go first.
- **A budget per client.** At most ``client_budget_bytes`` of history written a day by one client
  address, whatever the sessions it uses (:mod:`moodtape.store.write_budget`); ``writer`` names the
  client of the current write (the web app sets it; None outside a request counts nothing).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.errors import StoreUnavailableError
from moodtape.store import schema, write_budget
from moodtape.store.clock import DatabaseClock, SharedClock, database_clock
from moodtape.store.database import Database, T, dialect_insert
from moodtape.store.records import Feedback, SavedList, Visit, check_session_id, new_id
from moodtape.store.write_budget import CHOICE_BYTES, DEFAULT_BYTES_PER_DAY, Writer, feedback_cost, list_cost

DEFAULT_RETENTION_DAYS: Final[float] = 30.0
DEFAULT_MAX_LISTS: Final[int] = 50
DEFAULT_MAX_FEEDBACK: Final[int] = 500
#: Seconds between two retention sweeps in one process.
PRUNE_EVERY_S: Final[float] = 60.0
#: Rows one retention transaction deletes at most: a backlog of millions is worked off in short
#: transactions, none of them near the statement timeout.
PRUNE_BATCH: Final[int] = 2000
#: Seconds of deleting a request's sweep may spend; the next sweep goes on where it stopped.
PRUNE_BUDGET_S: Final[float] = 0.5

log = logging.getLogger(__name__)
_DAY: Final[float] = 86400.0


def _as_url(location: str | Path) -> str:
    text = str(location)
    if "://" in text:
        return text
    return f"sqlite:///{text}"


class Store:
    """History (saved lists), feedback and corrections per session, in SQLite or PostgreSQL.

    Args:
        location: a database URL (``sqlite:///…``, ``postgresql://…``), a SQLite file path, or
            ``":memory:"``.
        retention_days: how long anything about a session is kept.
        max_lists: the most lists kept per session (the oldest go first).
        max_feedback: the most feedback rows kept per session.
        client_budget_bytes: the most bytes of history one client may write a day (0: no bound).
        writer: who the current write is for (a client's digest, or None: nothing counted).
        clock: seconds since the epoch; tests pass a fake. None (the default): the database's clock
            on PostgreSQL, which every machine sharing it agrees on, this machine's with SQLite
            (:func:`~moodtape.store.clock.database_clock`).
    """

    def __init__(
        self,
        location: str | Path = ":memory:",
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        max_lists: int = DEFAULT_MAX_LISTS,
        max_feedback: int = DEFAULT_MAX_FEEDBACK,
        client_budget_bytes: int = DEFAULT_BYTES_PER_DAY,
        writer: Writer = write_budget.nobody,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if retention_days <= 0 or max_lists < 1 or max_feedback < 1:
            raise ValueError("retention_days, max_lists and max_feedback must be positive")
        self.database = Database(_as_url(location))
        self.retention_days = retention_days
        self.max_lists = max_lists
        self.max_feedback = max_feedback
        self.client_budget_bytes = client_budget_bytes
        self.writer = writer
        self._clock = clock if clock is not None else database_clock(self.database)
        self._last_time = 0.0
        self._time_lock = threading.Lock()
        self._next_prune = 0.0

    def __repr__(self) -> str:
        return f"Store({self.database.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close pooled connections; the store reopens them if used again."""
        self.database.dispose()

    def _time(self) -> float:
        """Seconds since the epoch by the store's clock, without taking a due reading (only a first one):
        :meth:`_with_clock` takes it, before the transaction or, the database's, as its first statement."""
        clock = self._clock
        return clock.last_reading() if isinstance(clock, SharedClock) else clock()

    def time(self) -> float:
        """Seconds since the epoch by the store's clock, the one every instance sharing the database
        agrees on: for the times of a visit's lists, which the history sorts among the stored ones.
        No due reading is taken here (only a process's first): the next transaction takes it."""
        return self._time()

    def _with_clock(self, work: Callable[[Connection], T]) -> Callable[[Connection], T]:
        """``work``, after a due reading of the database's clock in the same transaction.

        A write reads its time (:meth:`_now`) inside ``work``, after that reading: read before it,
        the write that took a due reading was stamped by the previous one (an hour off after a
        suspended virtual machine slept an hour). The process's first reading is still taken here,
        apart, before the transaction (not with a second connection from inside it).
        """
        clock = self._clock
        if not isinstance(clock, DatabaseClock):
            clock()  # a due reading of another shared clock, before the transaction: never inside it
            return work
        self._time()  # the first reading of this process, when there has been none

        def reading_the_clock_first(connection: Connection) -> T:
            clock.read_within(connection)
            return work(connection)

        return reading_the_clock_first

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self.database.read(self._with_clock(work))

    def _now(self) -> float:
        """Seconds since the epoch, strictly increasing within this process so "newest" is well defined.

        The clock is read outside the lock: the first reading asks the database, and writers queued
        behind one that hung waited for it with no bound (20 s on a database that did not answer).
        """
        clock = self._time()
        with self._time_lock:
            self._last_time = max(clock, self._last_time + 1e-6)
            return self._last_time

    def _oldest_kept(self) -> float:
        return self._time() - self.retention_days * _DAY

    def _write(self, work: Callable[[Connection], Any]) -> Any:
        result = self.database.write(self._with_clock(work))
        if self._time() >= self._next_prune:
            self._next_prune = self._time() + PRUNE_EVERY_S
            self._sweep()
        return result

    def _spender(self) -> Callable[[Connection, int], None]:
        """Counts bytes against the current writer's daily budget inside a write (made in it, after the
        transaction's due clock reading; the clock by its last reading, never asking the database)."""
        client, allowance, now = self.writer(), self.client_budget_bytes, self._time()

        def spend(connection: Connection, cost: int) -> None:
            write_budget.spend(connection, client, cost, allowance, now)

        return spend

    def _sweep(self) -> None:
        """The retention sweep that follows a write, which has committed by now: a sweep that fails
        must not turn the write's answer into an error, or the client retries a write that is stored."""
        try:
            self.prune(budget_s=PRUNE_BUDGET_S)
        except (StoreUnavailableError, sa.exc.SQLAlchemyError) as error:
            log.warning("store: the retention sweep failed (%s); the next one tries again", type(error).__name__)

    # --- the history choice ---

    def consent(self, session_id: str) -> bool | None:
        """Whether the session chose to keep history: True, False, or None when it has not chosen."""
        check_session_id(session_id)
        table = schema.sessions
        row = self._read(lambda c: c.execute(sa.select(table.c.history).where(table.c.id == session_id)).first())
        return None if row is None else bool(row[0])

    def set_consent(self, session_id: str, keep_history: bool, *, visit: Visit | None = None) -> None:
        """Record the choice; with ``visit`` (history turned on), keep it too, in the same transaction,
        so that a visit refused by the client's budget leaves the choice as it was. Turning history
        on counts against that budget; turning it off counts nothing and is never refused."""
        check_session_id(session_id)
        table = schema.sessions

        def work(connection: Connection) -> None:
            now, spend = self._now(), self._spender()  # after the transaction's clock reading
            # An upsert, so two requests choosing at once cannot collide on the primary key. It
            # takes the session's row before the budget's, as every history write does (a list
            # save holds it FOR SHARE, then counts): the other order deadlocked on PostgreSQL.
            insert = dialect_insert(connection)(table).values(id=session_id, history=keep_history, updated_at=now)
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=[table.c.id], set_={"history": keep_history, "updated_at": now}
                )
            )
            if not keep_history:
                return  # "off" keeps nothing, so it counts nothing: the budget's refusal says to turn it off
            spend(connection, CHOICE_BYTES)
            if visit is not None:
                spend(connection, self._keep_rows(connection, session_id, visit, now))

        self._write(work)

    # --- saved lists ---

    def save_list(self, session_id: str, saved: SavedList, *, if_kept: bool = False) -> SavedList:
        """Store a list as one record (keeping at most ``max_lists`` per session); returns it with its time.

        ``if_kept``: only while the session keeps history, decided in the same transaction (see
        :func:`_keeps_history`); otherwise nothing is written.
        """
        check_session_id(session_id)
        table = schema.lists

        def work(connection: Connection) -> float:
            now, spend = self._now(), self._spender()  # after the transaction's clock reading
            if if_kept and not _keeps_history(connection, session_id):
                return now
            spend(connection, list_cost(saved))
            at = _after_newest(connection, table, session_id, now)
            connection.execute(_insert_new(connection, table, _list_row(session_id, saved, at)))
            _keep_newest(connection, table, session_id, self.max_lists)
            return at

        at: float = self._write(work)
        return SavedList(saved.id, saved.kind, saved.strategy, saved.document, at)

    def update_list(self, session_id: str, saved: SavedList, *, if_kept: bool = False) -> bool:
        """Replace a stored list's items (a disliked row replaced, or undone) with a newer revision.

        Returns False when the list is not stored, or when the stored one is as new or newer: two
        requests changing one list may reach the database in either order, and the later
        revision (:attr:`SavedList.revision`) must win.
        """
        check_session_id(session_id)
        table = schema.lists
        where = (table.c.session_id == session_id, table.c.id == saved.id)

        def work(connection: Connection) -> bool:
            if if_kept and not _keeps_history(connection, session_id):
                return False
            # FOR UPDATE holds the row on PostgreSQL; SQLite writes already hold the lock (BEGIN IMMEDIATE).
            row = connection.execute(sa.select(table.c.document).where(*where).with_for_update()).first()
            if row is None:
                return False
            stored = SavedList(saved.id, saved.kind, saved.strategy, row[0] or {})
            if stored.revision >= saved.revision:
                return False
            connection.execute(sa.update(table).where(*where).values(document=dict(saved.document)))
            return True

        changed: bool = self._write(work)
        return changed

    def get_list(self, session_id: str, list_id: str) -> SavedList | None:
        """The session's list ``list_id``, or None (never stored, deleted or past retention)."""
        check_session_id(session_id)
        table = schema.lists
        query = _list_columns().where(
            table.c.session_id == session_id, table.c.id == list_id, table.c.created_at >= self._oldest_kept()
        )
        row = self._read(lambda c: c.execute(query).first())
        return None if row is None else _saved(row)

    def lists(self, session_id: str, limit: int = DEFAULT_MAX_LISTS) -> list[SavedList]:
        """The session's lists, newest first."""
        check_session_id(session_id)
        table = schema.lists
        query = (
            _list_columns()
            .where(table.c.session_id == session_id, table.c.created_at >= self._oldest_kept())
            .order_by(table.c.created_at.desc())
            .limit(limit)
        )
        return [_saved(row) for row in self._read(lambda c: c.execute(query).all())]

    def seen_keys(self, session_id: str) -> frozenset[str]:
        """Keys of every item on the session's stored lists."""
        keys: set[str] = set()
        for saved in self.lists(session_id, limit=self.max_lists):
            keys |= saved.keys
        return frozenset(keys)

    def keep_visit(
        self,
        session_id: str,
        lists: Sequence[SavedList],
        feedback: Sequence[Feedback],
        corrections: Mapping[str, str],
    ) -> None:
        """Keep a visit's lists, feedback and corrections (history just turned on), in one transaction.

        Rows already stored (the same ids) are left as they are, also when another request keeps
        the same visit at the same moment (two tabs, a double click): its rows are skipped, not a
        collision on the primary key. The per-session caps still hold. Nothing is kept unless the
        session keeps history when this transaction runs: a "Delete everything" between turning
        history on and keeping the visit left the whole visit stored with no choice recorded.
        """
        check_session_id(session_id)

        def work(connection: Connection) -> None:
            now, spend = self._now(), self._spender()  # after the transaction's clock reading
            if not _keeps_history(connection, session_id, alone=True):  # it replaces corrections too
                return
            spend(connection, self._keep_rows(connection, session_id, Visit(lists, feedback, corrections), now))

        self._write(work)

    def _keep_rows(self, connection: Connection, session_id: str, visit: Visit, now: float) -> int:
        """Insert the visit's rows not stored yet (the per-session caps still hold); their cost in bytes."""
        t, f, m = schema.lists, schema.feedback, schema.mood_corrections
        cost = 0
        for saved, at in zip(visit.lists, _kept_times(visit.lists, now), strict=True):
            row = _list_row(session_id, saved, at)
            if connection.execute(_insert_new(connection, t, row).returning(t.c.id)).first() is not None:
                cost += list_cost(saved)
        for index, event in enumerate(visit.feedback):
            # Short-lived feedback has no time yet: keep the visit's order with increasing times
            # (not read from the clock here: it may ask the database, inside this transaction).
            row = _feedback_row(session_id, event, event.created_at or now + index * 1e-6)
            if connection.execute(_insert_new(connection, f, row).returning(f.c.id)).first() is not None:
                cost += feedback_cost(event)
        for detected, corrected in visit.corrections.items():  # counted with the choice (CHOICE_BYTES)
            connection.execute(sa.delete(m).where(m.c.session_id == session_id, m.c.detected == detected))
            connection.execute(
                sa.insert(m).values(
                    id=new_id(), session_id=session_id, created_at=now, detected=detected, corrected=corrected
                )
            )
        _keep_newest(connection, t, session_id, self.max_lists)
        _keep_newest(connection, f, session_id, self.max_feedback)
        return cost

    # --- feedback ---

    def add_feedback(self, session_id: str, feedback: Feedback, *, if_kept: bool = False) -> None:
        """Store one feedback (``if_kept``: only while the session keeps history, as for lists)."""
        check_session_id(session_id)
        table = schema.feedback

        def work(connection: Connection) -> None:
            now, spend = self._now(), self._spender()  # after the transaction's clock reading
            if if_kept and not _keeps_history(connection, session_id):
                return
            spend(connection, feedback_cost(feedback))
            row = _feedback_row(session_id, feedback, _after_newest(connection, table, session_id, now))
            connection.execute(_insert_new(connection, table, row))
            _keep_newest(connection, table, session_id, self.max_feedback)

        self._write(work)

    def remove_feedback(self, session_id: str, feedback_id: str) -> bool:
        """Forget one feedback (an undone dislike); False when it was not stored."""
        check_session_id(session_id)
        table = schema.feedback
        statement = sa.delete(table).where(table.c.session_id == session_id, table.c.id == feedback_id)
        removed: int = self._write(lambda c: c.execute(statement).rowcount)
        return removed > 0

    def feedback(self, session_id: str) -> list[Feedback]:
        """The session's feedback, oldest first."""
        check_session_id(session_id)
        t = schema.feedback
        query = (
            sa.select(
                t.c.item_key, t.c.artist, t.c.action, t.c.genre, t.c.created_at, t.c.list_id, t.c.position, t.c.id
            )
            .where(t.c.session_id == session_id, t.c.created_at >= self._oldest_kept())
            .order_by(t.c.created_at.asc())
        )
        return [Feedback(*row) for row in self._read(lambda c: c.execute(query).all())]

    # --- "not my mood" ---

    def set_correction(self, session_id: str, detected: str, corrected: str, *, if_kept: bool = False) -> None:
        """Remember that when this session's face reads as ``detected``, the person means ``corrected``
        (``if_kept``: only while the session keeps history, as for lists)."""
        check_session_id(session_id)
        table = schema.mood_corrections

        def work(connection: Connection) -> None:
            row = {"id": new_id(), "session_id": session_id, "created_at": self._now()}
            # Alone: two tabs correcting one emotion at once each deleted nothing the other had
            # not committed yet, and both inserted (two corrections in force, either one read).
            if if_kept and not _keeps_history(connection, session_id, alone=True):
                return
            connection.execute(sa.delete(table).where(table.c.session_id == session_id, table.c.detected == detected))
            connection.execute(sa.insert(table).values(**row, detected=detected, corrected=corrected))

        self._write(work)

    def corrections(self, session_id: str) -> dict[str, str]:
        """Every correction of the session: detected emotion → the one the person meant."""
        check_session_id(session_id)
        t = schema.mood_corrections
        query = (
            sa.select(t.c.detected, t.c.corrected)
            .where(t.c.session_id == session_id, t.c.created_at >= self._oldest_kept())
            .order_by(t.c.created_at.asc())
        )
        return {str(d): str(c) for d, c in self._read(lambda c: c.execute(query).all())}

    def correction(self, session_id: str, detected: str) -> str | None:
        """The latest correction for ``detected`` in the session, or None."""
        return self.corrections(session_id).get(detected)

    # --- deletion and retention ---

    def delete_session(self, session_id: str) -> dict[str, int]:
        """Delete everything stored for the session in one transaction; rows deleted per table.

        The ``sessions`` row goes first. A write on another instance holds it with ``FOR SHARE``
        (:func:`_keeps_history`) until it commits, so deleting it first makes this transaction wait
        for that write, and the deletes after it see (and take) the rows it added. Deleted last,
        a list or like inserted meanwhile was invisible to the earlier deletes and stayed behind.
        """
        check_session_id(session_id)
        tables = (schema.sessions, *(table for table in schema.SESSION_TABLES if table is not schema.sessions))

        def work(connection: Connection) -> dict[str, int]:
            counts: dict[str, int] = {}
            for table in tables:
                key = table.c.id if table is schema.sessions else table.c.session_id
                counts[table.name] = connection.execute(sa.delete(table).where(key == session_id)).rowcount
            return counts

        deleted: dict[str, int] = self.database.write(work)
        return deleted

    def prune(self, *, budget_s: float | None = None) -> int:
        """Delete rows past the retention period, and the per-client budget counts of days before
        yesterday (UTC; kept about two days, whatever the retention); returns how many rows went.

        Each transaction deletes at most :data:`PRUNE_BATCH` rows of one table, so a large backlog
        (after downtime, or a shorter retention) never holds locks for long or runs into the
        statement timeout. ``budget_s``: stop starting batches after this many seconds (what is left
        goes at the next sweep); ``None`` deletes everything due.
        """
        oldest = self._oldest_kept()
        deadline = None if budget_s is None else time.monotonic() + budget_s
        deleted = 0
        for table in schema.SESSION_TABLES:
            column = table.c.updated_at if table is schema.sessions else table.c.created_at
            while True:
                batch: int = self.database.write(
                    functools.partial(_delete_batch, table=table, column=column, before=oldest)
                )
                deleted += batch
                if batch < PRUNE_BATCH:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    return deleted
        # Budget counts: only today's is read; yesterday's stays for an instance whose clock is behind.
        before = write_budget.today(self._time()) - 1
        while True:
            forget = functools.partial(write_budget.forget_days_before, day=before, batch=PRUNE_BATCH)
            batch = self.database.write(forget)
            deleted += batch
            if batch < PRUNE_BATCH or (deadline is not None and time.monotonic() >= deadline):
                return deleted

    def ping(self) -> None:
        """Raise :class:`~moodtape.errors.StoreUnavailableError` unless the database answers and takes
        writes (for readiness checks); a read-only PostgreSQL also has the pool renewed, so that
        readiness says ready only once the pool's connections take writes."""
        # Outside the request threads' bound (StoreWaits): readiness runs it in its own thread.
        if self.database.read(self.database.refuses_writes, bounded=False):
            self.database.renew_refused_connections()  # after the transaction, not under its COMMIT
            raise self.database.refused_writes_error(
                "the database is in recovery or default_transaction_read_only is on"
            )
        self.database.note_writes_allowed()

    def row_count(self) -> int:
        """Rows in every session table together (for tests and ``moodtape db status``)."""

        def work(connection: Connection) -> int:
            return sum(
                int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in schema.SESSION_TABLES
            )

        total: int = self.database.read(work)
        return total


def _list_row(session_id: str, saved: SavedList, created_at: float) -> dict[str, Any]:
    return {
        "id": saved.id,
        "session_id": session_id,
        "created_at": created_at,
        "kind": saved.kind,
        "strategy": saved.strategy,
        "emotion": saved.emotion,
        "document": dict(saved.document),
    }


def _feedback_row(session_id: str, feedback: Feedback, created_at: float) -> dict[str, Any]:
    return {
        "id": feedback.id,
        "session_id": session_id,
        "created_at": created_at,
        "item_key": feedback.item_key,
        "artist": feedback.artist,
        "genre": feedback.genre,
        "action": feedback.action,
        "list_id": feedback.list_id,
        "position": feedback.position,
    }


def _delete_batch(connection: Connection, table: sa.Table, column: sa.Column[Any], before: float) -> int:
    """Delete up to :data:`PRUNE_BATCH` rows of ``table`` whose ``column`` is before ``before``."""
    due = sa.select(table.c.id).where(column < before).limit(PRUNE_BATCH).scalar_subquery()
    deleted: int = connection.execute(sa.delete(table).where(table.c.id.in_(due))).rowcount
    return deleted


def _kept_times(lists: Sequence[SavedList], now: float) -> list[float]:
    """The times a visit's lists are stored with: ``now`` (the store's clock), a microsecond apart
    in the visit's order, the last made at ``now``. Not their own times: the machine that made each
    stamped it by its own clock, and one 2 h behind stored them 2 h in the past, deleted at once by
    a 1 h retention. Retention counts from when history is turned on, as for lists made after."""
    order = sorted(range(len(lists)), key=lambda index: lists[index].created_at or 0.0)
    times = [now] * len(lists)
    for rank, index in enumerate(order):
        times[index] = now - (len(lists) - 1 - rank) * 1e-6
    return times


def _keeps_history(connection: Connection, session_id: str, *, alone: bool = False) -> bool:
    """Whether the session keeps history, read inside the writing transaction with a share lock.

    A check in a transaction of its own let a "Delete everything" (or history turned off) on
    another instance slip between the check and the write, which then stored a row the person had
    just deleted. On PostgreSQL ``FOR SHARE`` holds the session's row: a delete waits for this
    transaction and takes its rows too, or this one waits for the delete and finds no row. SQLite
    runs one writing transaction at a time, which gives the same order.

    ``alone``: take the row ``FOR UPDATE`` instead, so that two such writes of one session run one
    after the other (a replace by delete-then-insert, which two at once would both insert).
    """
    table = schema.sessions
    row = connection.execute(
        sa.select(table.c.history).where(table.c.id == session_id).with_for_update(read=not alone)
    ).first()
    return row is not None and bool(row[0])


def _insert_new(connection: Connection, table: sa.Table, row: Mapping[str, Any]) -> Any:
    """Insert ``row`` unless a row with its id is already there: a list or feedback is stored once
    however many requests store it at the same moment (a check before a plain INSERT cannot see
    another transaction's uncommitted row, so on PostgreSQL the second one failed)."""
    return dialect_insert(connection)(table).values(**row).on_conflict_do_nothing(index_elements=[table.c.id])


def _list_columns() -> sa.Select[Any]:
    t = schema.lists
    return sa.select(t.c.id, t.c.kind, t.c.strategy, t.c.document, t.c.created_at)


def _saved(row: sa.Row[Any] | tuple[Any, ...]) -> SavedList:
    list_id, kind, strategy, document, created_at = tuple(row)
    return SavedList(str(list_id), str(kind), str(strategy), dict(document), float(created_at))


def _after_newest(connection: Connection, table: sa.Table, session_id: str, now: float) -> float:
    """``now``, or just after the session's newest row in ``table`` if that is later.

    Each instance stamps rows with its own clock. One running minutes behind stamped its lists
    older than those made before them elsewhere: history showed them out of order, and with the
    session at its cap a new list was trimmed at once (answered 201, never kept). A session's rows
    therefore follow the order they were written in, whatever the clocks say.
    """
    newest = connection.execute(
        sa.select(sa.func.max(table.c.created_at)).where(table.c.session_id == session_id)
    ).scalar()
    return now if newest is None else max(now, float(newest) + 1e-3)


def _keep_newest(connection: Connection, table: sa.Table, session_id: str, keep: int) -> None:
    """Delete the session's rows in ``table`` beyond the newest ``keep`` (ties broken by id)."""
    newest = (
        sa.select(table.c.id)
        .where(table.c.session_id == session_id)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(keep)
    )
    connection.execute(sa.delete(table).where(table.c.session_id == session_id, table.c.id.not_in(newest)))
