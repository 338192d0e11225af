"""The store's tables, declared once with SQLAlchemy Core so one definition serves SQLite and PostgreSQL.

The Alembic migrations in ``store/migrations/versions`` create and change these tables; this
module is what the queries are written against. Keep the two in step: a change here needs a new
migration (``tests/store/test_migrations.py`` compares the migrated schema with this one).

Portable choices: ids are made in Python (``uuid4().hex``), times are seconds since the epoch as
floats, and a list's items are one JSON document (SQLAlchemy's ``JSON``: ``TEXT`` on SQLite,
``json`` on PostgreSQL, which keeps any text ``jsonb`` would refuse, such as ``\\u0000``).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata: Final = sa.MetaData()

#: One row per session that chose whether history is kept; no row means "not chosen" (off).
sessions: Final = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("history", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
)

#: A list shown to a person, as one record: its items in order, as shown (corrections included).
lists: Final = sa.Table(
    "lists",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("strategy", sa.String(16), nullable=False),
    sa.Column("emotion", sa.String(16)),
    sa.Column("document", sa.JSON, nullable=False),
)

#: Like, skip or dislike on one item, naming the list and position it was on when known.
feedback: Final = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("artist", sa.Text, nullable=False),
    sa.Column("genre", sa.Text),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("list_id", sa.String(32)),
    sa.Column("position", sa.Integer),
)

#: "Not my mood": when this session's face reads as ``detected``, the person means ``corrected``.
mood_corrections: Final = sa.Table(
    "mood_corrections",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("detected", sa.String(16), nullable=False),
    sa.Column("corrected", sa.String(16), nullable=False),
)

#: A session's short-lived state shared by processes without Redis (store/short_lived.py): one JSON
#: document per (kind, session), ``session`` lists/undo or ``profile`` calibration sums, never a
#: pixel. ``revision`` makes updates compare-and-swap; rows past ``expires_at`` are dead and swept.
short_lived: Final = sa.Table(
    "short_lived",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("document", sa.Text, nullable=False),
)

#: History written per client address and day (store/write_budget.py), so that one address making
#: session after session cannot fill the store: ``client`` is a keyed digest of the address (never
#: the address), ``day`` the UTC day (days since the epoch), ``spent`` the bytes counted that day.
write_budget: Final = sa.Table(
    "write_budget",
    metadata,
    sa.Column("client", sa.String(64), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True, index=True),
    sa.Column("spent", sa.BigInteger, nullable=False),
)

#: Moments every instance of this deployment must agree on, each recorded once (store/deployment_facts.py):
#: ``fact`` names it, ``since`` is when it was first recorded (Unix seconds).
deployment_facts: Final = sa.Table(
    "deployment_facts",
    metadata,
    sa.Column("fact", sa.String(64), primary_key=True),
    sa.Column("since", sa.Float, nullable=False),
)

#: Tables that hold a session's data, in the order deletion visits them.
SESSION_TABLES: Final = (lists, feedback, mood_corrections, sessions)
