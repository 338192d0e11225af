"""Indexes on the time columns the retention sweep deletes by, so it never scans whole tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])
    op.create_index("ix_mood_corrections_created_at", "mood_corrections", ["created_at"])
    op.create_index("ix_sessions_updated_at", "sessions", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_updated_at", "sessions")
    op.drop_index("ix_mood_corrections_created_at", "mood_corrections")
    op.drop_index("ix_feedback_created_at", "feedback")
