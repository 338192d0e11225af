"""A table of moments every instance must agree on, and the first of them: when this deployment
began issuing session cookies with an issue time (store/deployment_facts.py).

Cookies of the earlier format (no issue time) are accepted for 180 days from that moment, so the
moment is the one this migration runs at: the first start of a release that issues the new format,
recorded once in the database that every instance shares.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from moodtape.store import deployment_facts

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "deployment_facts",
        sa.Column("fact", sa.String(64), primary_key=True),
        sa.Column("since", sa.Float, nullable=False),
    )
    # The module's clock, read when the migration runs (tests date it through the module).
    op.bulk_insert(table, [{"fact": "session_cookie_issue_times", "since": deployment_facts.now()}])


def downgrade() -> None:
    op.drop_table("deployment_facts")
