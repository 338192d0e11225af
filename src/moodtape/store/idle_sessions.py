"""PostgreSQL ends this process's pooled connections that sat idle a minute, so a burst gives its connections back.

Each process keeps a pool of up to 5 connections per pool, and without Redis two pools; SQLAlchemy
never closes one that stays idle. After a burst, the connections it opened stay open for good, and
they are what PostgreSQL's ``max_connections`` counts: measured with ``max_connections=10``, one
instance of ``serve --processes 4`` and one of a single process on one PostgreSQL, no Redis, the
burst over and 4 clients left, the single-process instance still answered 3 of 6 lists and 2 of 6
history reads with 503 "the database has no free connection", and even a superuser could not log in
to look: the other instance's idle connections held every slot.

So every connection asks the server to end it once idle (outside a transaction) for
:data:`IDLE_SESSION_S` (``idle_session_timeout``, PostgreSQL 14 and later; older servers are left as
before). A pooled connection the server ended fails the pool's check before it is lent
(``pool_pre_ping``) and is replaced at once: the request never sees it. The pools lend the most
recently returned connection first (``pool_use_lifo``, ``store/database.py``): lent in turn, light
steady traffic (a request every 0.15 s after a 5-wide burst, a 1 s bound) touched every pooled
connection within the bound, and all 5 stayed open. Set with ``set_config`` on
each new connection, not in the ``options`` startup parameter beside ``statement_timeout``: a
server before 14 refuses a connection that names a setting it does not know. Behind PgBouncer in
transaction pooling the setting stays on the server connection it lands on, for every client
PgBouncer lends it to after (docs/deployment.md, "PostgreSQL connections").
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: Seconds a pooled connection may sit idle before PostgreSQL ends it (a request after that pays
#: one new connection, a few milliseconds on a local network).
IDLE_SESSION_S: Final[float] = 60.0
#: The first PostgreSQL version with ``idle_session_timeout`` (as libpq reports versions).
_FIRST_VERSION: Final[int] = 140000


def end_idle_sessions(engine: Engine) -> None:
    """Have each new connection of ``engine`` (psycopg 3 on PostgreSQL) ended by the server once idle."""

    import psycopg
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        info = dbapi_connection.info
        if info.server_version < _FIRST_VERSION or info.transaction_status != TransactionStatus.IDLE:
            return
        milliseconds = str(round(IDLE_SESSION_S * 1000))
        autocommit = dbapi_connection.autocommit
        try:
            # Outside any transaction, so that the pool's rollback on return cannot undo it.
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SELECT set_config('idle_session_timeout', %s, false)", (milliseconds,))
        except psycopg.Error as error:  # a pooler in front that refuses it: serve on as before
            log.info("store: could not bound idle connections (%s)", error)
        finally:
            dbapi_connection.autocommit = autocommit


__all__ = ["IDLE_SESSION_S", "end_idle_sessions"]
