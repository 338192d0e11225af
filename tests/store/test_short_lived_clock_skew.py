"""Machines whose clocks disagree still agree on when a session's short-lived state expires.

Several machines that run ``serve --processes N`` against one PostgreSQL and no Redis keep each
session's lists and calibration in the ``short_lived`` table. A row's ``expires_at`` was set and
compared by each machine's own clock: measured with one machine 2 h ahead (a clock off by more than
the hour a session's lists live), a session written on the other was gone there (its export and undo
answered 404 "no such list"), and that machine's sweep deleted every live row of the others. Now the
table is timed by the database's clock (store/short_lived.py), as the turn marks already were: read
by each statement itself (a write that read it first took one more round trip), and as the time the
statement began, which the index on ``expires_at`` can be searched by (``clock_timestamp()`` cannot).
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from moodtape.session_state import SessionState
from moodtape.state.in_store import StoreSessionMemory
from moodtape.store import short_lived as short_lived_module
from moodtape.store.database import Database
from moodtape.store.schema import short_lived
from moodtape.store.short_lived import ShortLived
from skewed_machine import last_line

#: Run as a machine whose clock is ``AHEAD_S`` ahead: reads the session, sweeps, and says what it saw.
_MACHINE_AHEAD = textwrap.dedent(
    """
    import json, sys, time
    real = time.time
    time.time = lambda: real() + float(sys.argv[2])
    from moodtape.state.in_store import StoreSessionMemory
    from moodtape.store.database import Database
    memory = StoreSessionMemory(Database(sys.argv[1]))
    seen = memory.get("s1").to_json()
    swept = memory.documents.sweep()
    print(json.dumps({"seen": seen, "swept": swept}))
    """
)
AHEAD_S = 7200.0


def _on_a_machine_ahead(url: str) -> dict[str, object]:
    said: dict[str, object] = json.loads(last_line(_MACHINE_AHEAD, url, AHEAD_S))
    return said


def test_a_machine_with_its_clock_ahead_sees_and_keeps_the_others_sessions(postgres: str) -> None:
    memory = StoreSessionMemory(Database(postgres))
    written = memory.update("s1", lambda state: state.with_correction("happy", "calm"))  # a "not my mood"
    assert written.to_json() != SessionState().to_json()
    said = _on_a_machine_ahead(postgres)
    assert said["seen"] == written.to_json()  # before: an empty session, the lists gone
    assert said["swept"] == 0  # before: 1, the live row deleted
    assert memory.documents.count() == 1
    assert memory.get("s1").to_json() == written.to_json()


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements ``database`` sends meanwhile."""
    sent: list[str] = []

    def note(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.split()[0])

    sa.event.listen(database.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", note)


def _sent_by(database: Database, work: Callable[[], object]) -> list[str]:
    with _statements(database) as sent:
        work()
    return sent


def test_a_write_reads_the_database_clock_in_its_own_statements(postgres: str) -> None:
    """Before: each began with a SELECT of the clock alone, one more round trip (+0.35–0.47 ms)."""
    database = Database(postgres)
    documents = ShortLived(database, "session", 3600.0)
    documents.put("s1", "{}")
    assert _sent_by(database, lambda: documents.update("s1", lambda document: document)) == ["SELECT", "UPDATE"]
    assert _sent_by(database, lambda: documents.touch("s1")) == ["UPDATE"]
    assert _sent_by(database, lambda: documents.delete("s1")) == ["SELECT", "DELETE"]
    assert _sent_by(database, documents.sweep) == ["DELETE"]


def test_the_sweep_finds_dead_rows_by_the_index(postgres: str) -> None:
    """A volatile clock (``clock_timestamp()``) kept the index out: a scan of every row each sweep."""
    database = Database(postgres)
    now = time.time()
    rows = [
        {"kind": "session", "session_id": f"s{n}", "revision": 1, "expires_at": now + 3600 - 7200 * (n % 100 == 0)}
        for n in range(20_000)
    ]
    database.write(lambda connection: connection.execute(sa.insert(short_lived).values(document="{}"), rows))
    database.write(lambda connection: connection.execute(sa.text("ANALYZE short_lived")))
    dead = sa.select(short_lived.c.session_id).where(short_lived.c.expires_at <= short_lived_module._POSTGRESQL_NOW)
    query = dead.limit(1000).compile(database.engine, compile_kwargs={"literal_binds": True})
    plan = database.read(lambda connection: connection.execute(sa.text(f"EXPLAIN {query}")).scalars().all())
    assert "Index" in "\n".join(plan), plan  # before: a Seq Scan
    assert ShortLived(database, "session", 3600.0).sweep() == 200
