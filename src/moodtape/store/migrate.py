"""Alembic, driven from code: the migration scripts ship inside the package, no ``alembic.ini`` needed.

``moodtape db upgrade`` and the store's first use both call :func:`upgrade`; ``moodtape db
current`` reports :func:`current_revision`. Each migration lives in ``store/migrations/versions``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlalchemy.engine import Connection

from moodtape.errors import StoreSetupError

MIGRATIONS: Final[Path] = Path(__file__).with_name("migrations")


class SchemaTooNewError(StoreSetupError):
    """The database's schema is at a version this moodtape does not know: a newer one migrated it.

    Unlike an outage, this belongs to this instance (a rolling upgrade, a rollback): instances of the
    newer version use the same database without trouble, so ``/readyz`` says not ready here.
    """


def _config(connection: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run every migration up to ``revision`` on ``connection`` (inside the caller's transaction).

    Raises:
        SchemaTooNewError: the database is at a schema version this moodtape does not know.
    """
    from alembic import command
    from alembic.script import ScriptDirectory

    current = current_revision(connection)
    known = {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if current is not None and current not in known:
        # Alembic's own answer is a traceback ("Can't locate revision"); this is what happened.
        raise SchemaTooNewError(
            f"the database's schema is at version {current}, which this moodtape does not know (its newest is "
            f"{head_revision()}): a newer moodtape migrated it. Run that version again, or restore the "
            "database from before the upgrade"
        )
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
