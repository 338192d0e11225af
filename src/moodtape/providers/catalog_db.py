"""The catalog's SQLite schema, its identity rule, and loading the data files shipped in the package.

One schema serves three databases: the built-in catalog (rebuilt in memory from
``providers/data/*.csv`` each time a :class:`~moodtape.providers.catalog.Catalog` opens), the
user's additions (``catalog.db`` under the data folder) and any catalog file given with
``--catalog``. Keeping them identical lets one ``UNION ALL`` read them all.

The SQL is plain SQLite-and-PostgreSQL-compatible DDL apart from ``INTEGER PRIMARY KEY``.
"""

from __future__ import annotations

import csv
import functools
import io
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from moodtape.errors import CatalogError
from moodtape.identity import track_key, video_key

SCHEMA_VERSION = "1"

#: Columns of the ``tracks`` table that hold a track's data (all but ``id``), in insert order.
TRACK_COLUMNS: tuple[str, ...] = (
    "key",
    "title",
    "artist",
    "valence",
    "energy",
    "origin",
    "estimated",
    "spotify_id",
    "deezer_id",
    "youtube_id",
    "genre",
    "decade",
    "language",
    "danceability",
    "acousticness",
    "instrumentalness",
    "loudness",
    "tempo",
)
VIDEO_COLUMNS: tuple[str, ...] = ("key", "title", "channel", "category", "valence", "energy", "origin", "youtube_id")

_UNIT = "BETWEEN 0 AND 1"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {{db}}.meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {{db}}.tracks (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    artist TEXT NOT NULL,
    valence REAL NOT NULL CHECK (valence {_UNIT}),
    energy REAL NOT NULL CHECK (energy {_UNIT}),
    origin TEXT NOT NULL,
    estimated INTEGER NOT NULL DEFAULT 0,
    spotify_id TEXT UNIQUE,
    deezer_id TEXT,
    youtube_id TEXT,
    genre TEXT,
    decade INTEGER,
    language TEXT,
    danceability REAL CHECK (danceability {_UNIT}),
    acousticness REAL CHECK (acousticness {_UNIT}),
    instrumentalness REAL CHECK (instrumentalness {_UNIT}),
    loudness REAL CHECK (loudness {_UNIT}),
    tempo REAL CHECK (tempo {_UNIT})
);
CREATE INDEX IF NOT EXISTS {{db}}.tracks_mood ON tracks (valence, energy);
CREATE TABLE IF NOT EXISTS {{db}}.videos (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    valence REAL NOT NULL CHECK (valence {_UNIT}),
    energy REAL NOT NULL CHECK (energy {_UNIT}),
    origin TEXT NOT NULL,
    youtube_id TEXT
);
INSERT OR IGNORE INTO {{db}}.meta (name, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
"""

#: The tables and index :data:`SCHEMA` creates: a database holding them all needs no write to open.
SCHEMA_NAMES = frozenset({"meta", "tracks", "tracks_mood", "videos"})

#: ``meta`` names of stored catalog digests start with this; the rest says what else the digest
#: depends on (:func:`moodtape.providers.catalog_search.digest_context`).
DIGEST_PREFIX = "items_digest:"
#: One per kind of write to ``tracks``, each deleting every stored digest in the writer's transaction.
DIGEST_TRIGGERS: tuple[str, ...] = tuple(f"tracks_{event}_clears_digest" for event in ("insert", "update", "delete"))
# A range on the primary key, not LIKE: the triggers run once per row written (about 1 µs each).
_CLEAR_DIGESTS = f"DELETE FROM {{meta}} WHERE name >= '{DIGEST_PREFIX}' AND name < '{DIGEST_PREFIX[:-1]};'"


def item_key(creator: str, title: str) -> str:
    """The catalog's identity for a track: :func:`moodtape.identity.track_key`, the rule every part uses."""
    return track_key(creator, title)


def create_schema(connection: sqlite3.Connection, database: str = "main") -> None:
    """Create the tables in ``database`` (``main`` or an attached name) if they are missing."""
    connection.executescript(SCHEMA.format(db=database))


# --- the stored digest ------------------------------------------------------------------------


def create_digest_triggers(connection: sqlite3.Connection, database: str) -> None:
    """Make every write to ``database``'s tracks delete its stored digests, in the same transaction.

    In the database, not in our code, so that no writer can leave a stale digest behind: an older
    moodtape importing into it (which knows nothing of digests), the ``sqlite3`` shell, a future
    writer. Called in the transaction that stores a digest, so a stored digest always has them.
    Statements, not ``executescript``, which would commit the caller's transaction first.
    """
    clear = _CLEAR_DIGESTS.format(meta="meta")  # a trigger's statements name its own database's tables bare
    for name in DIGEST_TRIGGERS:
        event = name.split("_")[1].upper()
        connection.execute(f"CREATE TRIGGER IF NOT EXISTS {database}.{name} AFTER {event} ON tracks BEGIN {clear}; END")


def _has_digest_triggers(connection: sqlite3.Connection, database: str) -> bool:
    names = ", ".join(f"'{name}'" for name in DIGEST_TRIGGERS)
    sql = f"SELECT COUNT(*) FROM {database}.sqlite_master WHERE type = 'trigger' AND tbl_name = 'tracks' AND name IN "
    sql += f"({names})"
    return int(connection.execute(sql).fetchone()[0]) == len(DIGEST_TRIGGERS)


def stored_digest(connection: sqlite3.Connection, database: str, context: str) -> str | None:
    """The digest ``database`` keeps for ``context``; None if it keeps none, or lacks a trigger (a
    digest without them could be stale)."""
    row = connection.execute(f"SELECT value FROM {database}.meta WHERE name = ?", (DIGEST_PREFIX + context,)).fetchone()
    return None if row is None or not _has_digest_triggers(connection, database) else str(row[0])


def store_digest(connection: sqlite3.Connection, database: str, context: str, digest: str) -> None:
    """Keep ``digest`` for ``context`` in ``database``, with its triggers.

    The caller owns the transaction: the one that read the tracks hashed, or one holding the write
    lock with no commit since they were read. Where a trigger is missing (removed by hand), any
    digest kept is dropped first: a write may have gone by unseen.
    """
    if not _has_digest_triggers(connection, database):
        connection.execute(_CLEAR_DIGESTS.format(meta=f"{database}.meta"))
        create_digest_triggers(connection, database)
    connection.execute(
        f"INSERT OR REPLACE INTO {database}.meta (name, value) VALUES (?, ?)", (DIGEST_PREFIX + context, digest)
    )


# --- the built-in data files -------------------------------------------------------------------

#: Built-in files and the origin label their rows get.
BUILTIN_TRACK_FILES: tuple[tuple[str, str], ...] = (("tracks.csv", "deezer-mood"), ("curated_tracks.csv", "curated"))
BUILTIN_VIDEO_FILE = "videos.csv"


@dataclass(frozen=True)
class BuiltinData:
    """The shipped rows, ready for ``executemany`` in :data:`TRACK_COLUMNS` / :data:`VIDEO_COLUMNS` order."""

    tracks: tuple[tuple[object, ...], ...]
    videos: tuple[tuple[object, ...], ...]


def _read_package_csv(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("moodtape.providers").joinpath("data", name).read_text(encoding="utf-8")
    yield from csv.DictReader(io.StringIO(text))


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None


def _optional_text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def builtin_track_row(record: Mapping[str, str], origin: str) -> tuple[object, ...]:
    """One shipped CSV record as a ``tracks`` row.

    Curated rows are hand estimates (``estimated = 1``); Deezer rows come from listeners' tags.
    """
    values: dict[str, object] = {
        "key": item_key(record["artist"], record["title"]),
        "title": record["title"].strip(),
        "artist": record["artist"].strip(),
        "valence": float(record["valence"]),
        "energy": float(record["energy"]),
        "origin": origin,
        "estimated": int(origin == "curated"),
        "spotify_id": None,
        "deezer_id": _optional_text(record.get("deezer_id")),
        "youtube_id": None,
        "genre": _optional_text(record.get("genre")),
        "decade": int(record["decade"]) if record.get("decade") else None,
        "language": _optional_text(record.get("language")),
    }
    for feature in ("danceability", "acousticness", "instrumentalness", "loudness", "tempo"):
        values[feature] = _optional_float(record.get(feature))
    return tuple(values[column] for column in TRACK_COLUMNS)


def _video_row(record: Mapping[str, str]) -> tuple[object, ...]:
    values: dict[str, object] = {
        "key": video_key(record["channel"], record["title"]),
        "title": record["title"].strip(),
        "channel": record["channel"].strip(),
        "category": record["category"].strip(),
        "valence": float(record["valence"]),
        "energy": float(record["energy"]),
        "origin": "curated",
        "youtube_id": None,
    }
    return tuple(values[column] for column in VIDEO_COLUMNS)


@functools.cache
def builtin_data() -> BuiltinData:
    """Parse the shipped CSV files once per process (they never change while it runs)."""
    try:
        tracks = tuple(
            builtin_track_row(record, origin)
            for name, origin in BUILTIN_TRACK_FILES
            for record in _read_package_csv(name)
        )
        videos = tuple(_video_row(record) for record in _read_package_csv(BUILTIN_VIDEO_FILE))
    except (OSError, KeyError, ValueError, sqlite3.Error) as exc:
        raise CatalogError(f"the built-in catalog data is damaged ({exc}); reinstall moodtape") from exc
    return BuiltinData(tracks=tracks, videos=videos)


def insert_tracks(connection: sqlite3.Connection, rows: Iterable[tuple[object, ...]], database: str = "main") -> None:
    """Insert ``tracks`` rows (in :data:`TRACK_COLUMNS` order); the caller owns the transaction."""
    placeholders = ", ".join("?" for _ in TRACK_COLUMNS)
    connection.executemany(f"INSERT INTO {database}.tracks ({', '.join(TRACK_COLUMNS)}) VALUES ({placeholders})", rows)


def insert_videos(connection: sqlite3.Connection, rows: Iterable[tuple[object, ...]], database: str = "main") -> None:
    """Insert ``videos`` rows (in :data:`VIDEO_COLUMNS` order); the caller owns the transaction."""
    placeholders = ", ".join("?" for _ in VIDEO_COLUMNS)
    connection.executemany(f"INSERT INTO {database}.videos ({', '.join(VIDEO_COLUMNS)}) VALUES ({placeholders})", rows)
