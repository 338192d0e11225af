"""A table for each session's short-lived state (lists on screen, undo, calibration sums), so that
several ``moodtape serve --processes`` workers share it without Redis.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "short_lived",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_short_lived_expires_at", "short_lived", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_short_lived_expires_at", "short_lived")
    op.drop_table("short_lived")
