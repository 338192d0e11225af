"""Alembic, driven from code: the migration scripts ship inside the package, no ``alembic.ini`` needed.

``moodtape db upgrade`` and the store's first use both call :func:`upgrade`; ``moodtape db
current`` reports :func:`current_revision`. Each migration lives in ``store/migrations/versions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy.engine import Connection

MIGRATIONS: Final[Path] = Path(__file__).with_name("migrations")


def _config(connection: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run every migration up to ``revision`` on ``connection`` (inside the caller's transaction)."""
    from alembic import command

    command.upgrade(_config(connection), revision)  # type: ignore[arg-type]


def current_revision(connection: Connection) -> str | None:
    """The schema version the database is at, or None for an empty database."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest schema version this moodtape knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head
