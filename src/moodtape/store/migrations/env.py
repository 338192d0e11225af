"""Alembic environment: runs on the connection :mod:`moodtape.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

from moodtape.store.schema import metadata

connection = context.config.attributes["connection"]
# render_as_batch: SQLite cannot ALTER most things, so Alembic copies the table instead.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
