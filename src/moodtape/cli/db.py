"""``moodtape db``: the store's schema (``upgrade``) and what it holds (``status``)."""

from __future__ import annotations

import click

from moodtape.cli._common import echo_json, info


@click.group()
def db() -> None:
    """The store for history and feedback (MOODTAPE_DATABASE_URL: SQLite by default, or PostgreSQL)."""


@db.command()
def upgrade() -> None:
    """Bring the database schema to this version of moodtape (safe to repeat; serve does it too)."""
    from moodtape.store import store_from_settings
    from moodtape.store.migrate import head_revision

    store = store_from_settings()
    store.database.upgrade()
    info(f"{_where(store)}: schema at version {head_revision()}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
def status(as_json: bool) -> None:
    """Where the store is, its schema version, and how many rows it holds."""
    from moodtape.store import store_from_settings
    from moodtape.store.migrate import SchemaTooNewError, current_revision, head_revision, mismatch
    from moodtape.store.short_lived import counts_by_kind

    store = store_from_settings()
    # Read as it is: a first read() would migrate it, and a schema restored from a backup to roll back
    # an upgrade was then reported at the newest version, the rollback undone.
    version = store.database.inspect(current_revision)
    if isinstance(refusal := mismatch(version), SchemaTooNewError):
        raise refusal  # one line that says what to do: a newer moodtape migrated it
    current = version == head_revision()
    report = {
        "database": _where(store),
        "schema": version,
        "newest_schema": head_revision(),
        # Counted only at the newest schema: counting sets the database up, which migrates it.
        "rows": store.row_count() if current else None,
        # Session lists and calibrations shared by `serve --processes N` without Redis.
        "short_lived_rows": counts_by_kind(store.database) if current else None,
        "retention_days": store.retention_days,
        "max_lists_per_session": store.max_lists,
    }
    if as_json:
        echo_json(report)
    else:
        for name, value in report.items():
            if isinstance(value, dict):
                value = ", ".join(f"{kind} {count}" for kind, count in value.items()) or "none"
            click.echo(f"{name.replace('_', ' ')}: {'not counted' if value is None else value}")
    if not current:
        info(f"moodtape: note: the schema is not at version {head_revision()}; `moodtape db upgrade` migrates it")


def _where(store: object) -> str:
    """The database URL without its password."""
    from moodtape.store import Store

    assert isinstance(store, Store)
    return store.database.url.render_as_string(hide_password=True)
