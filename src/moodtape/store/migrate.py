"""Alembic, driven from code: the migration scripts ship inside the package, no ``alembic.ini`` needed.

``moodtape db upgrade`` and the store's first use both call :func:`upgrade`; ``moodtape db
current`` reports :func:`current_revision`. Each migration lives in ``store/migrations/versions``.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from moodtape.errors import StoreSetupError

log = logging.getLogger(__name__)

MIGRATIONS: Final[Path] = Path(__file__).with_name("migrations")
#: Where Alembic records the schema's version (its default name).
VERSION_TABLE: Final[str] = "alembic_version"


class SchemaMismatchError(StoreSetupError):
    """The database's schema is at a version this instance's code does not run on, while instances
    of another moodtape version do: the trouble is this instance's own, so ``/readyz`` says not ready
    here and the balancer sends its share to them.
    """


class SchemaTooNewError(SchemaMismatchError):
    """The database's schema is at a version this moodtape does not know: a newer one migrated it.

    Unlike an outage, this belongs to this instance (a rolling upgrade, a rollback): instances of the
    newer version use the same database without trouble, so ``/readyz`` says not ready here.
    """


class SchemaMovedBackError(SchemaMismatchError):
    """The database's schema went back to an older version this moodtape knows while a process of it
    ran: restored from a backup to roll an upgrade back.

    The running process does not migrate it forward again (that would undo the rollback under
    traffic), nor use it (its code needs the newer tables): it says not ready until it is restarted
    (which migrates) or stopped, or the schema is at its version again.
    """


def _config(connection: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


#: Alembic's ``context`` and ``op`` are module globals that each upgrade installs and removes: two
#: upgrades at once in one process (the history store and the short-lived state's database, each set
#: up on first use by a request thread) removed each other's, and one failed ("setting the schema up
#: failed", ``KeyError: 'script'``). One upgrade at a time per process; each is short.
_ALEMBIC_GLOBALS: Final = threading.Lock()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run every migration up to ``revision`` on ``connection`` (inside the caller's transaction).

    Raises:
        SchemaTooNewError: the database is at a schema version this moodtape does not know.
    """
    from alembic import command

    current = current_revision(connection)
    if current is not None and current not in known_revisions():
        raise _too_new(current)  # Alembic's own answer is a traceback ("Can't locate revision")
    with _ALEMBIC_GLOBALS:
        command.upgrade(_config(connection), revision)  # type: ignore[arg-type]
    after = current_revision(connection)
    if after != current:  # Alembic's own lines (a dozen, at INFO) are kept out of the log: web/logs.py
        log.info("store schema upgraded from %s to %s", current or "an empty database", after)


def current_revision(connection: Connection) -> str | None:
    """The schema version the database is at, or None for an empty database.

    A plain ``SELECT``, not Alembic's ``MigrationContext``: a running process reads it every few
    seconds, and each context writes two INFO lines to the log.

    Raises:
        StoreSetupError: the version table holds several rows (moodtape's history has one line);
            Alembic's own answer to that is an error every request would turn into a 500.
    """
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise StoreSetupError(
            f"the database's {VERSION_TABLE} table records {len(rows)} schema versions ({', '.join(sorted(rows))}), "
            "where moodtape keeps one: delete every row but the version its tables are at, then run "
            "`moodtape db upgrade`"
        )
    return rows[0] if rows else None


def mismatch(current: str | None) -> SchemaMismatchError | None:
    """Why a process set up earlier must not use a schema now at ``current``, or None: it is at the
    newest version this moodtape knows. Nothing is migrated here: see :class:`SchemaMovedBackError`."""
    head = head_revision()
    if current == head:
        return None
    if current is not None and current not in known_revisions():
        return _too_new(current)
    where = f"was moved back to version {current}" if current else "has no moodtape schema now (emptied or replaced)"
    return SchemaMovedBackError(
        f"the database's schema {where} while this instance ran (restored from a backup?), and this moodtape "
        f"needs version {head}; a running instance does not migrate it under traffic. Restart this instance to "
        "migrate it forward again, or stop it and run the moodtape version that matches the database"
    )


def _too_new(current: str) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"the database's schema is at version {current}, which this moodtape does not know (its newest is "
        f"{head_revision()}): a newer moodtape migrated it. Run that version again, or restore the "
        "database from before the upgrade"
    )


@functools.lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every schema version this moodtape knows (the scripts ship with it: read once)."""
    from alembic.script import ScriptDirectory

    return frozenset(script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions())


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest schema version this moodtape knows (the scripts ship with it: read once)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head
