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
    from moodtape.store.migrate import current_revision, head_revision
    from moodtape.store.short_lived import counts_by_kind

    store = store_from_settings()
    version = store.database.read(current_revision)
    report = {
        "database": _where(store),
        "schema": version,
        "newest_schema": head_revision(),
        "rows": store.row_count(),
        # Session lists and calibrations shared by `serve --processes N` without Redis.
        "short_lived_rows": counts_by_kind(store.database),
        "retention_days": store.retention_days,
        "max_lists_per_session": store.max_lists,
    }
    if as_json:
        echo_json(report)
        return
    for name, value in report.items():
        if isinstance(value, dict):
            value = ", ".join(f"{kind} {count}" for kind, count in value.items()) or "none"
        click.echo(f"{name.replace('_', ' ')}: {value}")


def _where(store: object) -> str:
    """The database URL without its password."""
    from moodtape.store import Store

    assert isinstance(store, Store)
    return store.database.url.render_as_string(hide_password=True)
