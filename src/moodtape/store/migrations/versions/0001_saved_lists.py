"""Sessions with a history choice, lists stored as one record each, feedback naming list and item.

Databases made by moodtape 0.1 (before Alembic) already hold ``feedback``, ``mood_corrections``
and a per-item ``history`` table; this migration keeps their rows: feedback gains ``list_id``
and ``position`` (null for old rows), and each old list (the history rows of one session that
share a timestamp) becomes one ``lists`` record with its items in order.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("history", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "lists",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("emotion", sa.String(16)),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_index("ix_lists_session_id", "lists", ["session_id"])
    op.create_index("ix_lists_created_at", "lists", ["created_at"])
    _set_aside(existing, "feedback", "feedback_session")
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("artist", sa.Text, nullable=False),
        sa.Column("genre", sa.Text),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("list_id", sa.String(32)),
        sa.Column("position", sa.Integer),
    )
    _copy_back(existing, "feedback", "id, session_id, created_at, item_key, artist, genre, action")
    op.create_index("ix_feedback_session_id", "feedback", ["session_id"])
    _set_aside(existing, "mood_corrections", "corrections_session")
    op.create_table(
        "mood_corrections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("detected", sa.String(16), nullable=False),
        sa.Column("corrected", sa.String(16), nullable=False),
    )
    _copy_back(existing, "mood_corrections", "id, session_id, created_at, detected, corrected")
    op.create_index("ix_mood_corrections_session_id", "mood_corrections", ["session_id"])
    if "history" in existing:
        _convert_history()
        op.drop_table("history")


def _set_aside(existing: set[str], table: str, index: str) -> None:
    """A moodtape 0.1 table is renamed so the new one can be made with the declared column types."""
    if table in existing:
        op.drop_index(index, table)
        op.rename_table(table, f"{table}_v01")


def _copy_back(existing: set[str], table: str, columns: str) -> None:
    if table in existing:
        op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table}_v01")
        op.drop_table(f"{table}_v01")


def _convert_history() -> None:
    """moodtape 0.1's per-item rows → one record per list (rows of a session sharing a timestamp)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT session_id, created_at, position, item_key, kind, title, artist, genre, source, emotion, "
            "strategy FROM history ORDER BY session_id, created_at, position"
        )
    ).mappings()
    lists = sa.table(
        "lists",
        sa.column("id", sa.String),
        sa.column("session_id", sa.String),
        sa.column("created_at", sa.Float),
        sa.column("kind", sa.String),
        sa.column("strategy", sa.String),
        sa.column("emotion", sa.String),
        sa.column("document", sa.JSON),
    )
    records: list[dict[str, Any]] = []
    for (session_id, created_at), group in groupby(rows, key=lambda r: (r["session_id"], r["created_at"])):
        items = list(group)
        first = items[0]
        records.append(
            {
                "id": uuid.uuid4().hex,
                "session_id": session_id,
                "created_at": created_at,
                "kind": first["kind"],
                "strategy": first["strategy"],
                "emotion": first["emotion"],
                "document": {
                    "mood": {"valence": None, "arousal": None, "emotion": first["emotion"], "source": "history"},
                    "items": [
                        {
                            "key": r["item_key"],
                            "title": r["title"],
                            "artist": r["artist"],
                            "genre": r["genre"],
                            "source": r["source"],
                            "kind": "track" if r["kind"] == "tracks" else "video",
                        }
                        for r in items
                    ],
                },
            }
        )
    if records:
        op.bulk_insert(lists, records)


def downgrade() -> None:
    op.drop_table("mood_corrections")
    op.drop_table("feedback")
    op.drop_table("lists")
    op.drop_table("sessions")
