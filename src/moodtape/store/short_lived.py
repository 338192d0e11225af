"""Short-lived documents per session in the store, so several processes share them without Redis.

``moodtape serve --processes N`` hands each connection to any of N processes; a session's lists
on screen (export, undo) and its calibration must therefore live where every process sees them.
With ``MOODTAPE_REDIS_URL`` that is Redis; without it, the ``short_lived`` table of the store
(SQLite in the data folder by default, which every process on the machine opens).

One row per (kind, session): a JSON document, a ``revision`` and an ``expires_at``. Two promises:

- **Atomic updates.** :meth:`ShortLived.update` reads, changes and writes back in one
  transaction that holds the row (``SELECT … FOR UPDATE`` on PostgreSQL, the file's write lock
  from ``BEGIN IMMEDIATE`` on SQLite), and the write is also a compare-and-swap on ``revision``
  (``UPDATE … WHERE revision = r``). A new row is ``INSERT … ON CONFLICT DO NOTHING``: when two
  processes create it at once, the loser reads again and reapplies its change, as Redis's
  ``WATCH``/``MULTI`` does.
- **Bounded size.** A row is dead once ``expires_at`` passes (reads ignore it at once) and writes
  delete dead rows :data:`SWEEP_BATCH` at a time, again on the next write while a full batch went,
  so deleting keeps pace with writing and no transaction grows with the table. With ``max_bytes``,
  the same sweep also deletes a kind's least recently written documents beyond that many bytes
  (a batch a transaction, each only if not written again meanwhile), as one process's memory
  would push them out: clients making many sessions within the hour cannot grow the file without
  a bound.

Time is the database's (PostgreSQL's ``statement_timestamp()``, read by each statement itself, no
round trip of its own; SQLite's file is only ever opened on one machine, whose clock its processes
share): several machines running ``serve --processes N`` against one PostgreSQL and no Redis share
this table, and timed by each machine's own clock, one 2 h ahead saw every session written
elsewhere as expired (its lists gone: export and undo 404) and its sweep deleted them for everyone.
The turn marks (``state/turns.py``) were already so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.errors import StoreUnavailableError
from moodtape.store.database import Database, dialect_insert
from moodtape.store.records import check_session_id
from moodtape.store.schema import short_lived

#: Dead rows one sweep deletes at most; a full batch makes the next write sweep again.
SWEEP_BATCH: Final[int] = 500
#: Seconds between sweeps in one process while there is no backlog.
SWEEP_EVERY_S: Final[float] = 60.0
#: Compare-and-swap attempts before giving up with a 503 (each loss means another writer won).
CAS_ATTEMPTS: Final[int] = 20

Change = Callable[[str | None], str]


class ShortLived:
    """Documents of one ``kind`` (``session``, ``profile``…) per session, forgotten ``idle_seconds``
    after their last write.

    Args:
        database: the store's database (shared by the processes).
        kind: which document this is; kinds never see each other's rows.
        idle_seconds: lifetime after each write.
        clock: seconds since the epoch; tests pass a fake. None (the default): the database's clock
            (see the module docstring).
        max_bytes: the most bytes of this kind's live documents kept (``0``: no bound).
    """

    def __init__(
        self,
        database: Database,
        kind: str,
        idle_seconds: float,
        clock: Callable[[], float] | None = None,
        max_bytes: int = 0,
    ) -> None:
        if idle_seconds <= 0:
            raise ValueError("idle_seconds must be positive")
        self.database = database
        self.kind = kind
        self.idle_seconds = idle_seconds
        self.max_bytes = max_bytes
        self._clock = clock
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _now(self, connection: Connection) -> float | sa.ColumnElement[float]:
        """Seconds since the epoch by the clock every process and machine sharing the table agrees on.

        On PostgreSQL its clock as SQL, for the statement to read itself: read apart first, it cost
        every write a round trip of its own. Else (SQLite, or a test's clock) a number, as always.
        """
        if self._clock is None and connection.dialect.name == "postgresql":
            return _POSTGRESQL_NOW
        return self._clock() if self._clock is not None else time.time()

    def _now_sql(self, connection: Connection) -> sa.ColumnElement[float]:
        """:meth:`_now` as SQL, for a statement to read in passing."""
        now = self._now(connection)
        return now if isinstance(now, sa.ColumnElement) else sa.literal(now, sa.Float)

    def _key(self, session_id: str) -> sa.ColumnElement[bool]:
        check_session_id(session_id)
        return sa.and_(short_lived.c.kind == self.kind, short_lived.c.session_id == session_id)

    def get(self, session_id: str, renew_after: float | None = None) -> str | None:
        """The session's document, or None when there is none or it expired.

        With ``renew_after``, a document last written or renewed more than that many seconds ago
        is kept another ``idle_seconds`` (see :meth:`touch`); reads in between write nothing.
        """
        key = self._key(session_id)

        def read(connection: Connection) -> Any:
            now = self._now_sql(connection)  # in the query itself: no round trip of its own
            alive = sa.select(short_lived.c.document, short_lived.c.expires_at, now.label("now"))
            return connection.execute(alive.where(key, short_lived.c.expires_at > now)).first()

        row = self.database.read(read)
        if row is None:
            return None
        if renew_after is not None and row.expires_at < row.now + self.idle_seconds - renew_after:
            self.touch(session_id, older_than=renew_after)
        return str(row.document)

    def update(self, session_id: str, change: Change) -> str:
        """Replace the document by ``change(document or None)`` atomically; returns the new document.

        ``change`` may run more than once (when another process wins a race), so it must only
        compute, like the function given to Redis's ``WATCH``.
        """
        key = self._key(session_id)

        def attempt(connection: Connection) -> str | None:
            now = self._now(connection)
            # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already locks): writers of one row
            # queue instead of all retrying, which under load starved some of them.
            row = connection.execute(
                sa.select(
                    short_lived.c.revision, short_lived.c.document, (short_lived.c.expires_at > now).label("alive")
                )
                .where(key)
                .with_for_update()
            ).first()
            alive = row is not None and bool(row.alive)
            new = change(str(row.document) if alive and row is not None else None)
            values = {"document": new, "expires_at": now + self.idle_seconds}
            if row is None:
                insert = dialect_insert(connection)(short_lived).values(
                    kind=self.kind, session_id=session_id, revision=1, **values
                )
                # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT.
                inserted = insert.on_conflict_do_nothing().returning(short_lived.c.revision)
                written = len(connection.execute(inserted).all())
            else:
                swap = (
                    sa.update(short_lived)
                    .where(key, short_lived.c.revision == row.revision)
                    .values(revision=row.revision + 1, **values)
                )
                written = connection.execute(swap).rowcount
            return new if written == 1 else None

        for _ in range(CAS_ATTEMPTS):
            done = self.database.write(attempt)
            if done is not None:
                self._sweep_if_due()
                return done
        raise StoreUnavailableError("the session's short-lived state is changing too fast; try again in a moment")

    def put(self, session_id: str, document: str) -> None:
        """Keep ``document`` for the session, replacing any."""
        self.update(session_id, lambda _old: document)

    def note(self, session_id: str, document: str) -> None:
        """Keep ``document`` for the session, replacing any, in one plain upsert: no sweep of dead
        rows and no turn of the request threads (:class:`~moodtape.store.database.StoreWaits`).

        For the readiness check's note of its settings (``web/ops.py``), which must answer within a
        second: :meth:`put` swept up to :data:`SWEEP_BATCH` dead rows of any kind first. A kind of
        a few rows, whose dead ones the sessions' writes sweep.
        """
        check_session_id(session_id)

        def upsert(connection: Connection) -> None:
            expires_at = self._now(connection) + self.idle_seconds
            insert = dialect_insert(connection)(short_lived).values(
                kind=self.kind, session_id=session_id, revision=1, document=document, expires_at=expires_at
            )
            replace = {"document": document, "expires_at": expires_at, "revision": short_lived.c.revision + 1}
            connection.execute(insert.on_conflict_do_update(index_elements=list(short_lived.primary_key), set_=replace))

        self.database.write(upsert, bounded=False)

    def live(self) -> list[str]:
        """Every live document of this kind, for a kind of few rows (the instances' notes of their
        settings, ``web/ops.py``), not for sessions."""

        def read(connection: Connection) -> list[str]:
            alive = sa.and_(short_lived.c.kind == self.kind, short_lived.c.expires_at > self._now_sql(connection))
            return [str(row[0]) for row in connection.execute(sa.select(short_lived.c.document).where(alive))]

        found: list[str] = self.database.read(read, bounded=False)
        return found

    def touch(self, session_id: str, older_than: float = 0.0) -> None:
        """Keep a live document another ``idle_seconds`` (a dead one stays dead).

        Only when its last write or touch is more than ``older_than`` seconds ago, so that a
        document read on every request is not also written on every request.
        """
        key = self._key(session_id)

        def renew(connection: Connection) -> None:
            now = self._now(connection)
            connection.execute(
                sa.update(short_lived)
                .where(key, short_lived.c.expires_at > now)
                .where(short_lived.c.expires_at < now + self.idle_seconds - older_than)
                .values(expires_at=now + self.idle_seconds)
            )

        self.database.write(renew)

    def delete(self, session_id: str) -> bool:
        """Forget the session's document; True when a live one was there."""
        key = self._key(session_id)

        def work(connection: Connection) -> bool:
            now = self._now(connection)
            found = connection.execute(sa.select((short_lived.c.expires_at > now).label("alive")).where(key)).first()
            connection.execute(sa.delete(short_lived).where(key))
            return found is not None and bool(found.alive)

        deleted: bool = self.database.write(work)
        return deleted

    def sweep(self) -> int:
        """Delete at most :data:`SWEEP_BATCH` dead rows (of any kind); returns how many went."""

        def work(connection: Connection) -> int:
            now = self._now(connection)
            dead = (
                sa.select(short_lived.c.kind, short_lived.c.session_id)
                .where(short_lived.c.expires_at <= now)
                .limit(SWEEP_BATCH)
            )
            pair = sa.tuple_(short_lived.c.kind, short_lived.c.session_id)
            gone = sa.delete(short_lived).where(pair.in_(dead), short_lived.c.expires_at <= now)
            return int(connection.execute(gone).rowcount)

        swept: int = self.database.write(work)
        self.trim()
        return swept

    def trim(self) -> int:
        """Delete this kind's least recently written documents beyond ``max_bytes``; how many went.

        A document written again between finding and deleting it (another process, on
        PostgreSQL) has a new ``revision`` and stays. Deleted :data:`SWEEP_BATCH` at a time, a
        transaction each, so no transaction grows with the table.
        """
        if not self.max_bytes:
            return 0
        this_kind = short_lived.c.kind == self.kind
        newer_first = (
            sa.select(
                short_lived.c.session_id,
                short_lived.c.revision,
                sa.func.sum(sa.func.length(short_lived.c.document))
                .over(order_by=(short_lived.c.expires_at.desc(), short_lived.c.session_id))
                .label("kept"),
            )
            .where(this_kind)
            .subquery()
        )
        beyond = sa.select(newer_first.c.session_id, newer_first.c.revision).where(newer_first.c.kept > self.max_bytes)
        over = [(row.session_id, row.revision) for row in self.database.read(lambda c: c.execute(beyond).all())]
        pair = sa.tuple_(short_lived.c.session_id, short_lived.c.revision)
        for start in range(0, len(over), SWEEP_BATCH):
            self._delete(sa.delete(short_lived).where(this_kind, pair.in_(over[start : start + SWEEP_BATCH])))
        return len(over)

    def _delete(self, statement: sa.Delete) -> None:
        self.database.write(lambda connection: connection.execute(statement))

    def _sweep_if_due(self) -> None:
        now = (self._clock or time.monotonic)()  # only when this process sweeps next: its own clock will do
        with self._sweep_lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + SWEEP_EVERY_S
        if self.sweep() == SWEEP_BATCH:  # a backlog: sweep again on the next write
            with self._sweep_lock:
                self._next_sweep = 0.0

    def count(self) -> int:
        """Rows of this kind, dead ones included (for tests and ``moodtape db status``)."""
        query = sa.select(sa.func.count()).select_from(short_lived).where(short_lived.c.kind == self.kind)
        total: int = self.database.read(lambda c: c.execute(query).scalar_one())
        return total


#: PostgreSQL's clock in seconds since the epoch, as SQL: when the statement began. Not
#: ``clock_timestamp()``: a volatile function is read again at every row and keeps the index on
#: ``expires_at`` out of the sweep (a scan of the whole table: 92 ms at 50,000 rows, not 0.7 ms).
_POSTGRESQL_NOW: Final = sa.cast(sa.extract("epoch", sa.func.statement_timestamp()), sa.Float)


def counts_by_kind(database: Database) -> dict[str, int]:
    """Rows of each kind, dead ones not yet swept included (``moodtape db status``)."""
    query = sa.select(short_lived.c.kind, sa.func.count()).group_by(short_lived.c.kind).order_by(short_lived.c.kind)
    rows = database.read(lambda c: c.execute(query).all())
    return {str(kind): int(count) for kind, count in rows}
