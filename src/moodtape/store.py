"""Feedback and history per anonymous session, in SQLite by default.

The store is the only state moodtape keeps between requests, so more capacity is just more
processes pointing at the same store. Its location is one setting, ``MOODTAPE_DATABASE_URL``
(``sqlite:///path/to/moodtape.db``), defaulting to ``MOODTAPE_DATA_DIR/moodtape.db``.

Portability: the schema and queries use plain SQL only (``CREATE TABLE IF NOT EXISTS``, TEXT /
INTEGER / REAL columns, ids made in Python instead of AUTOINCREMENT or SERIAL, bound parameters),
so they run unchanged on PostgreSQL; the one driver-specific detail is the placeholder style
(``?`` for sqlite3, ``%s`` for psycopg), kept in :data:`PLACEHOLDER`.

Threads: one connection guarded by a lock, so a multi-threaded web server can share one store.
Session ids are opaque strings the browser or CLI makes up; nothing ties them to a person.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from moodtape.config import Settings
from moodtape.errors import DataError

#: The feedback a person can give on one item.
ACTIONS: Final[tuple[str, ...]] = ("like", "skip", "dislike")
PLACEHOLDER: Final[str] = "?"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SQLITE_PREFIX = "sqlite:///"

_SCHEMA: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS history (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL, position INTEGER NOT NULL,
        item_key TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, artist TEXT NOT NULL, genre TEXT,
        source TEXT NOT NULL, emotion TEXT, strategy TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS history_session ON history (session_id)",
    """CREATE TABLE IF NOT EXISTS feedback (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
        item_key TEXT NOT NULL, artist TEXT NOT NULL, genre TEXT, action TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS feedback_session ON feedback (session_id)",
    """CREATE TABLE IF NOT EXISTS mood_corrections (
        id TEXT PRIMARY KEY, session_id TEXT NOT NULL, created_at REAL NOT NULL,
        detected TEXT NOT NULL, corrected TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS corrections_session ON mood_corrections (session_id)",
)


@dataclass(frozen=True)
class HistoryEntry:
    """One item that was recommended in a session (``created_at``: seconds since the epoch)."""

    item_key: str
    kind: str
    title: str
    artist: str
    source: str
    strategy: str
    position: int
    genre: str | None = None
    emotion: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True)
class Feedback:
    """A like, skip or dislike on one item; ``artist`` and ``genre`` drive the re-ranking."""

    item_key: str
    artist: str
    action: str
    genre: str | None = None
    created_at: float = 0.0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise DataError(f"unknown feedback {self.action!r}; choose one of: {', '.join(ACTIONS)}")


def check_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is 1–64 letters, digits, ``-`` or ``_``; else raise DataError."""
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise DataError("a session id must be 1–64 letters, digits, '-' or '_'")
    return session_id


def data_dir(settings: Settings) -> Path:
    """``MOODTAPE_DATA_DIR``, or the platform's user data folder for moodtape."""
    configured = settings.get("MOODTAPE_DATA_DIR").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("moodtape", appauthor=False))


def database_path(settings: Settings) -> str:
    """The SQLite file the store uses (or ``:memory:``), from the settings."""
    url = settings.get("MOODTAPE_DATABASE_URL").strip()
    if not url:
        return str(data_dir(settings) / "moodtape.db")
    if not url.startswith(_SQLITE_PREFIX) or len(url) == len(_SQLITE_PREFIX):
        raise DataError(
            "MOODTAPE_DATABASE_URL must look like sqlite:///path/to/moodtape.db (other databases are not wired up yet)"
        )
    return url[len(_SQLITE_PREFIX) :]


class Store:
    """History, feedback and mood corrections per session. Opens its database on first use."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._last_time = 0.0
        self._time_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Store:
        """The store named by ``MOODTAPE_DATABASE_URL`` / ``MOODTAPE_DATA_DIR``."""
        return cls(database_path(settings or Settings.load()))

    def __repr__(self) -> str:
        return f"Store({self._path!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            for statement in _SCHEMA:
                connection.execute(statement)
            self._connection = connection
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock: all of it is written, or none of it."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _now(self) -> float:
        """Seconds since the epoch, strictly increasing within this process so "latest" is well defined."""
        with self._time_lock:
            self._last_time = max(time.time(), self._last_time + 1e-6)
            return self._last_time

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connect().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection; the store reopens it if used again."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # --- history ---

    def add_history(self, session_id: str, entries: Iterable[HistoryEntry]) -> None:
        """Record a list that was shown, in one transaction."""
        check_session_id(session_id)
        now = self._now()
        rows = [
            (
                uuid.uuid4().hex,
                session_id,
                now,
                e.position,
                e.item_key,
                e.kind,
                e.title,
                e.artist,
                e.genre,
                e.source,
                e.emotion,
                e.strategy,
            )
            for e in entries
        ]
        with self._transaction() as connection:
            connection.executemany(
                "INSERT INTO history (id, session_id, created_at, position, item_key, kind, title, artist, genre, "
                "source, emotion, strategy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def history(self, session_id: str, limit: int = 500) -> list[HistoryEntry]:
        """The session's recommended items, newest list first, each list in playlist order."""
        check_session_id(session_id)
        rows = self._query(
            "SELECT item_key, kind, title, artist, source, strategy, position, genre, emotion, created_at "
            "FROM history WHERE session_id = ? ORDER BY created_at DESC, position ASC LIMIT ?",
            (session_id, limit),
        )
        return [HistoryEntry(*row) for row in rows]

    def seen_keys(self, session_id: str) -> frozenset[str]:
        """Keys of every item already recommended in the session."""
        check_session_id(session_id)
        rows = self._query("SELECT DISTINCT item_key FROM history WHERE session_id = ?", (session_id,))
        return frozenset(row[0] for row in rows)

    # --- feedback ---

    def add_feedback(self, session_id: str, feedback: Feedback) -> None:
        check_session_id(session_id)
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO feedback (id, session_id, created_at, item_key, artist, genre, action) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    session_id,
                    self._now(),
                    feedback.item_key,
                    feedback.artist,
                    feedback.genre,
                    feedback.action,
                ),
            )

    def feedback(self, session_id: str) -> list[Feedback]:
        """The session's feedback, oldest first."""
        check_session_id(session_id)
        rows = self._query(
            "SELECT item_key, artist, action, genre, created_at FROM feedback WHERE session_id = ? "
            "ORDER BY created_at ASC",
            (session_id,),
        )
        return [Feedback(*row) for row in rows]

    # --- "not my mood" ---

    def set_correction(self, session_id: str, detected: str, corrected: str) -> None:
        """Remember that when this session's face reads as ``detected``, the person means ``corrected``."""
        check_session_id(session_id)
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO mood_corrections (id, session_id, created_at, detected, corrected) VALUES (?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, session_id, self._now(), detected, corrected),
            )

    def correction(self, session_id: str, detected: str) -> str | None:
        """The latest correction for ``detected`` in the session, or None."""
        check_session_id(session_id)
        rows = self._query(
            "SELECT corrected FROM mood_corrections WHERE session_id = ? AND detected = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (session_id, detected),
        )
        return str(rows[0][0]) if rows else None

    # --- deletion ---

    def delete_session(self, session_id: str) -> int:
        """Delete everything stored for the session, in one transaction; returns how many rows went."""
        check_session_id(session_id)
        deleted = 0
        with self._transaction() as connection:
            for table in ("history", "feedback", "mood_corrections"):
                deleted += connection.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,)).rowcount
        return deleted
