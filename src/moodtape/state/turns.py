"""Each session's list-making turn mark, shared by processes and instances.

The same interface as :class:`moodtape.web.session_turns.LocalTurnMarks` (whose module says what the
mark is for): in Redis under ``moodtape:turn:<id>``, or in the store's ``short_lived`` table (kind
``turn``) when several processes share no Redis. A mark is a request's random token, nothing of the
list, kept apart from the session's lists so that taking and dropping it rewrites nothing else.

Each keeper times the mark by its own clock, never the instance's: Redis expires the key (``SET NX
PX``), the table compares ``expires_at`` with the database's time. Instances whose clocks disagree
(one 5 s ahead) therefore still agree on when a mark lapses; with the instance's clock, the one
ahead took over every fresh mark at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.state.connection import PREFIX, redis_errors
from moodtape.store.database import Database, dialect_insert
from moodtape.store.records import check_session_id
from moodtape.store.schema import short_lived

if TYPE_CHECKING:
    import redis

#: Delete KEYS[1] if it still holds ARGV[1] (the holder's token): compare and delete in one step.
_RELEASE: Final[str] = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: The table's kind for turn marks.
KIND: Final[str] = "turn"


class RedisTurnMarks:
    """:class:`~moodtape.web.session_turns.TurnMarks` in Redis: a key holding the token, which Redis
    itself expires after the hold."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def _key(session_id: str) -> str:
        return f"{PREFIX}turn:{session_id}"

    def claim(self, session_id: str, token: str, hold_s: float) -> bool:
        with redis_errors(self._client):
            taken = self._client.set(self._key(session_id), token, nx=True, px=_ms(hold_s))
            return bool(taken) or self.holder(session_id) == token

    def holder(self, session_id: str) -> str | None:
        with redis_errors(self._client):
            raw: Any = self._client.get(self._key(session_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    def release(self, session_id: str, token: str) -> None:
        with redis_errors(self._client):
            self._client.eval(_RELEASE, 1, self._key(session_id), token)


class StoreTurnMarks:
    """:class:`~moodtape.web.session_turns.TurnMarks` in the store's ``short_lived`` table: one row
    per session holding the token, live until its ``expires_at`` by the database's clock.

    Taking the turn is a read (no write lock while another request holds it), then one ``INSERT …
    ON CONFLICT DO UPDATE … WHERE`` the mark has lapsed (atomic on both databases); dropping it
    deletes the row if it is still this token's. A row left by a process
    that died lapses after the hold and goes with the table's next sweep (``store/short_lived.py``).
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, session_id: str, token: str, hold_s: float) -> bool:
        key = _key(session_id)

        def other_holds(connection: Connection) -> bool:
            mark = sa.select(short_lived.c.document).where(key, _live(_database_time(connection), hold_s))
            return connection.execute(mark).scalar() not in (None, token)

        if self.database.read(other_holds):
            return False

        def take(connection: Connection) -> bool:
            now = _database_time(connection)
            row = {"kind": KIND, "session_id": session_id, "revision": 1, "document": token}
            insert = dialect_insert(connection)(short_lived).values(**row, expires_at=now + hold_s)
            upsert = insert.on_conflict_do_update(
                index_elements=[short_lived.c.kind, short_lived.c.session_id],
                set_={
                    "document": insert.excluded.document,
                    "expires_at": insert.excluded.expires_at,
                    "revision": short_lived.c.revision + 1,
                },
                where=sa.or_(~_live(now, hold_s), short_lived.c.document == token),
            ).returning(short_lived.c.document)
            return connection.execute(upsert).scalar() == token

        taken: bool = self.database.write(take)
        return taken

    def holder(self, session_id: str) -> str | None:
        """The token of a row that has not expired (one from before a clock step back included)."""
        key = _key(session_id)

        def read(connection: Connection) -> str | None:
            now = _database_time(connection)
            found = connection.execute(sa.select(short_lived.c.document).where(key, _live(now, None))).scalar()
            return None if found is None else str(found)

        holder: str | None = self.database.read(read)
        return holder

    def release(self, session_id: str, token: str) -> None:
        gone = sa.delete(short_lived).where(_key(session_id), short_lived.c.document == token)
        self.database.write(lambda connection: connection.execute(gone))


def _key(session_id: str) -> sa.ColumnElement[bool]:
    check_session_id(session_id)
    return sa.and_(short_lived.c.kind == KIND, short_lived.c.session_id == session_id)


def _live(now: sa.ColumnElement[float], hold_s: float | None) -> sa.ColumnElement[bool]:
    """Whether a row's mark still holds the turn at the database's ``now``. A mark that would hold
    longer than ``hold_s`` from now was taken before the database's clock stepped back: it has lapsed,
    or a dead holder's row would hold every request for the length of the step."""
    alive = short_lived.c.expires_at > now
    return alive if hold_s is None else sa.and_(alive, short_lived.c.expires_at <= now + hold_s)


def _database_time(connection: Connection) -> sa.ColumnElement[float]:
    """The database's clock in seconds since the epoch, as SQL: one clock for every instance."""
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.extract("epoch", sa.func.clock_timestamp()), sa.Float)
    return (sa.func.julianday("now") - 2440587.5) * 86400.0  # SQLite: this machine's, shared by its processes


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
