"""The store: the only state moodtape keeps between requests, behind one URL setting.

``MOODTAPE_DATABASE_URL`` names it: a SQLite file by default (``MOODTAPE_DATA_DIR/moodtape.db``),
PostgreSQL (``postgresql://user:password@host:5432/moodtape``, needs ``moodtape[postgres]``)
when several machines share it. The SQL is SQLAlchemy Core and the schema is versioned with
Alembic, so the same code runs on both; ``moodtape db upgrade`` (or the first use) migrates.

Modules: :mod:`~moodtape.store.schema` (tables), :mod:`~moodtape.store.database` (engine, pool,
transactions, retries, errors), :mod:`~moodtape.store.migrate` (Alembic from code),
:mod:`~moodtape.store.records` (values) and :mod:`~moodtape.store.queries` (the :class:`Store`).
"""

from __future__ import annotations

from pathlib import Path

from moodtape.config import Settings
from moodtape.store.queries import Store
from moodtape.store.records import ACTIONS, Feedback, SavedList, check_session_id, new_id

__all__ = [
    "ACTIONS",
    "Feedback",
    "SavedList",
    "Store",
    "check_session_id",
    "data_dir",
    "database_url",
    "new_id",
    "store_from_settings",
]


def data_dir(settings: Settings) -> Path:
    """``MOODTAPE_DATA_DIR``, or the platform's user data folder for moodtape."""
    configured = settings.get("MOODTAPE_DATA_DIR").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("moodtape", appauthor=False))


def database_url(settings: Settings) -> str:
    """The store's URL: ``MOODTAPE_DATABASE_URL``, or a SQLite file in the data folder."""
    url = settings.get("MOODTAPE_DATABASE_URL").strip()
    return url or f"sqlite:///{data_dir(settings) / 'moodtape.db'}"


def store_from_settings(settings: Settings | None = None) -> Store:
    """The store the settings name, with their retention period, per-session cap and per-client budget."""
    settings = settings or Settings.load()
    from moodtape.store.database import engine_url

    url = database_url(settings)
    engine_url(url)  # a malformed URL fails here, at start, not on the first request
    return Store(
        url,
        retention_days=settings.get_float("MOODTAPE_HISTORY_DAYS"),
        max_lists=settings.get_int("MOODTAPE_HISTORY_MAX_LISTS"),
        client_budget_bytes=round(settings.get_float("MOODTAPE_HISTORY_MB_PER_ADDRESS") * 1024 * 1024),
    )
