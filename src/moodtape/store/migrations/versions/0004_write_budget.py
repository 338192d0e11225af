"""A table counting the history each client address writes per day, so that an address starting
session after session cannot fill the store (store/write_budget.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_budget",
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("spent", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_write_budget_day", "write_budget", ["day"])


def downgrade() -> None:
    op.drop_index("ix_write_budget_day", "write_budget")
    op.drop_table("write_budget")
