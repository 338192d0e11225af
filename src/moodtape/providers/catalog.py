"""The built-in catalog: the provider that is always there, with no keys and no network.

A :class:`Catalog` is one SQLite connection. Its ``main`` database is in memory and holds the data
shipped in the package (``providers/data/*.csv``: 3,200 tracks from the Deezer Mood Detection
Dataset, hand-curated songs and videos); the user's additions live in ``catalog.db`` under the
data folder, attached as ``user``. Rebuilding the built-in part in memory costs ~40 ms per
process and can never go stale after an upgrade, which a cached file could.

Searches run on an in-memory index (numpy arrays of the (valence, energy) points plus ready-made
:class:`Track` and :class:`Video` objects) built on first use and rebuilt when the user database
changes, even from another process (``PRAGMA data_version``). A query with 20 targets over the
~3,400 tracks takes well under a millisecond. A database of more than :data:`HELD_TRACKS_LIMIT`
tracks (a whole library export) is not held: each search asks its mood index for the few hundred
tracks near the targets (:func:`~moodtape.providers.catalog_search.mood_candidates`), so the
first search of a process with a million imported tracks no longer reads them all (20–33 s
and 1.8 GB before). The user database is in WAL mode, so a search never waits for an import.
The catalog's digest (``/readyz``) is made by the import and kept in the user database, with
triggers that delete it at any later write to its tracks (see :meth:`Catalog.digest`).

Typical use::

    catalog = Catalog()                      # built-in + MOODTAPE_DATA_DIR/catalog.db
    catalog = Catalog(tmp_path)              # built-in + tmp_path/catalog.db (tests)
    catalog = Catalog.from_file("mine.csv")  # only that CSV (or catalog .db), nothing else
    tracks = catalog.tracks(Query(targets=((0.2, 0.3), (0.4, 0.4))))
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from moodtape.config import Settings
from moodtape.errors import CatalogError
from moodtape.identity import video_key
from moodtape.providers.base import Query
from moodtape.providers.catalog_db import (
    SCHEMA_NAMES,
    TRACK_COLUMNS,
    VIDEO_COLUMNS,
    builtin_data,
    create_schema,
    insert_tracks,
    insert_videos,
    item_key,
    store_digest,
    stored_digest,
)
from moodtape.providers.catalog_import import ParsedCsv, RowProblem, read_track_csv
from moodtape.providers.catalog_search import (
    QueriedTracks,
    SearchIndex,
    digest_context,
    fetch_tracks,
    genre_rows,
    mood_candidates,
    nearest,
    nearest_rows,
    normalise_label,
    points_of,
    row_to_track,
    row_to_video,
    wanted_labels,
)
from moodtape.types import Track, Video

#: File name of the user's additions inside the data folder.
USER_DB_NAME = "catalog.db"
#: How long a statement waits for another connection's lock, in ms (``sqlite3.connect``'s default).
_BUSY_TIMEOUT_MS = 5000
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: A database with more tracks than this is searched through its mood index, not held in memory:
#: holding costs about 0.5 KiB and 13 µs per track once per process, a query ~1 ms per target.
HELD_TRACKS_LIMIT = 50_000


def resolve_data_dir(settings: Settings | None = None) -> Path:
    """The user data folder: ``MOODTAPE_DATA_DIR``, else the platform's (same rule as the store)."""
    from moodtape.store import data_dir

    return data_dir(settings if settings is not None else Settings.load())


@dataclass(frozen=True)
class ImportReport:
    """What :meth:`Catalog.import_csv` did: how many tracks went in, and each skipped row with why."""

    path: Path
    added: int
    skipped: tuple[RowProblem, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "added": self.added,
            "skipped": [{"line": p.line, "reason": p.reason} for p in self.skipped],
        }


class Catalog:
    """Tracks and videos from SQLite, searched by nearness on the (valence, energy) plane.

    Implements :class:`moodtape.providers.base.Provider` (``name = "catalog"``). Safe to share
    between threads: one lock guards the connection and the index.

    Args:
        data_dir: folder holding the user's additions (``catalog.db``); None means
            :func:`resolve_data_dir` (``MOODTAPE_DATA_DIR`` or the platform's folder). Nothing is
            written there until :meth:`import_csv` is called.
        include_builtin: load the data shipped in the package (default True).
    """

    name = "catalog"

    def __init__(self, data_dir: Path | None = None, *, include_builtin: bool = True) -> None:
        folder = resolve_data_dir() if data_dir is None else Path(data_dir)
        self._open(include_builtin=include_builtin)
        self._user_path: Path | None = folder / USER_DB_NAME
        if self._user_path.is_file():
            self._attach(self._user_path, read_only=False)

    def _open(self, *, include_builtin: bool) -> None:
        self._lock = threading.RLock()
        self._index: SearchIndex | None = None
        self._user_version: int | None = None
        self._user_path = None
        #: How the user database was attached, read-only (a digest reads it on a connection of its own).
        self._user_uri: str | None = None
        #: Whether the user database was attached for writing (a digest made here may be stored in it).
        self._user_writable = False
        self._read_only = False
        self._databases = ["main"]
        #: Rows of a CSV given to :meth:`from_file` that were skipped, with their reasons.
        self.skipped: tuple[RowProblem, ...] = ()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so an import is one transaction.
        self._connection = sqlite3.connect(
            ":memory:", timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None, uri=True
        )
        self._connection.row_factory = sqlite3.Row
        create_schema(self._connection)
        if include_builtin:
            data = builtin_data()
            try:
                self._connection.execute("BEGIN")
                insert_tracks(self._connection, data.tracks)
                insert_videos(self._connection, data.videos)
                self._connection.execute("COMMIT")
            except sqlite3.Error as exc:
                raise CatalogError(f"the built-in catalog data is damaged ({exc}); reinstall moodtape") from exc

    # --- other ways to build one ----------------------------------------------------------------

    @classmethod
    def builtin(cls) -> Catalog:
        """Only the shipped data: no user folder is read (benchmarks, tests, ``MOODTAPE_OFFLINE``)."""
        catalog = cls.__new__(cls)
        catalog._open(include_builtin=True)
        return catalog

    @classmethod
    def from_file(cls, path: Path | str) -> Catalog:
        """A read-only catalog holding only ``path``: a CSV as :meth:`import_csv` accepts, or a catalog ``.db``.

        This backs ``moodtape recommend --catalog FILE``. Bad CSV rows are skipped (see
        :attr:`skipped`); duplicates keep the first.

        Raises:
            CatalogError: the file is missing, unreadable, not a catalog, or has no valid tracks.
        """
        path = Path(path)
        if not path.is_file():
            raise CatalogError(f"no such catalog file: {path}")
        catalog = cls.__new__(cls)
        catalog._open(include_builtin=False)
        catalog._read_only = True
        with path.open("rb") as handle:
            is_database = handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
        if is_database:
            catalog._attach(path, read_only=True)
        else:
            parsed = read_track_csv(path)
            catalog.skipped = tuple(parsed.problems) + catalog._insert(parsed, "main")
        if catalog.track_count == 0 and catalog.video_count == 0:
            raise CatalogError(f"{path} holds no valid tracks{_first_problems(catalog.skipped)}")
        return catalog

    @classmethod
    def from_items(cls, tracks: Iterable[Track] = (), videos: Iterable[Video] = ()) -> Catalog:
        """A catalog of exactly these items, in memory (test fixtures, other helpers' tests).

        Items with the same artist and title (channel and title for videos) keep the first.
        """
        catalog = cls.__new__(cls)
        catalog._open(include_builtin=False)
        track_rows: dict[str, tuple[object, ...]] = {}
        for t in tracks:
            row = {c: getattr(t, c, None) for c in TRACK_COLUMNS}
            row.update(key=item_key(t.artist, t.title), origin=t.extra.get("origin", t.source), estimated=t.estimated)
            track_rows.setdefault(str(row["key"]), tuple(row[c] for c in TRACK_COLUMNS))
        video_rows: dict[str, tuple[object, ...]] = {}
        for v in videos:
            vrow = {c: getattr(v, c, None) for c in VIDEO_COLUMNS}
            vrow.update(key=video_key(v.channel, v.title), origin=v.source)
            video_rows.setdefault(str(vrow["key"]), tuple(vrow[c] for c in VIDEO_COLUMNS))
        with catalog._lock:
            catalog._connection.execute("BEGIN")
            insert_tracks(catalog._connection, track_rows.values())
            insert_videos(catalog._connection, video_rows.values())
            catalog._connection.execute("COMMIT")
        return catalog

    # --- the Provider protocol ------------------------------------------------------------------

    def tracks(self, query: Query) -> list[Track]:
        """Up to ``query.limit`` tracks nearest the query's targets, round-robin over the targets.

        ``query.genres`` keeps only tracks whose genre contains one of them as whole words
        (``"rock"`` matches ``"folk rock"``, ``"hip-hop"`` matches ``"hip hop"``); most Deezer tracks
        have no genre, so a genre filter narrows the list to curated and imported tracks.
        """
        index = self._current_index()
        if not index.queried:  # outside the lock, as before: searches of a held catalog run side by side
            allowed, points = index.allowed_tracks(query.genres)
            return [index.tracks[i] for i in nearest(points, allowed, query.targets, query.limit)]
        with self._lock:  # the connection is shared
            index = self._current_index()
            allowed, points = index.allowed_tracks(query.genres)
            candidates = [self._queried_candidates(index, part, query) for part in index.queried]
            everything = np.concatenate([points, *(rows[:, 1:] for rows in candidates)])
            chosen = nearest(everything, np.arange(len(everything)), query.targets, query.limit)
            return self._chosen_tracks(index, allowed, candidates, chosen)

    def videos(self, query: Query) -> list[Video]:
        """Up to ``query.limit`` videos nearest the targets.

        ``query.genres`` filters by video category (``music``, ``comedy``, ``nature``, ``relaxation``,
        ``meditation``, ``breathing``, ``motivation``, ``workout``, ``animals``) when one of them
        names a category; music genres are ignored here.
        """
        index = self._current_index()
        allowed, points = index.allowed_videos(query.genres)
        chosen = nearest(points, allowed, query.targets, query.limit)
        return [index.videos[i] for i in chosen]

    # --- whole-catalog views --------------------------------------------------------------------

    def all_tracks(self) -> tuple[Track, ...]:
        """Every track, built-in first, then the user's (for stats, plots and evaluation).

        This reads a large imported catalog whole, as the first search did before (20–33 s and
        1.8 GB for a million tracks); searches never call it.
        """
        with self._lock:
            index = self._current_index()
            if not index.queried:
                return index.tracks
            return tuple(self._every_track(index, self._connection))

    def all_videos(self) -> tuple[Video, ...]:
        """Every video."""
        return self._current_index().videos

    def digest(self) -> str:
        """A digest of every item, in order (16 hex digits), made again only when the items change:
        instances behind a balancer compare it (``/readyz``), as a list comes from the answering one's catalog.

        A user database keeps its digest (made by :meth:`import_csv`), so a process reads it in
        milliseconds instead of hashing every track (15–22 s for a million, in every worker, after
        start and after each import). One imported by an older moodtape has none: it is made here
        as before, and stored where the database can be written.
        """
        while True:
            index = self._current_index()
            if index.made_digest is not None:
                return index.made_digest
            context = digest_context(index, self._databases) if "user" in self._databases else None
            made = None if context is None else self._stored_digest(context)
            stored = made is not None
            if made is None:
                made = self._make_digest(index)
            with self._lock:
                if self._current_index() is index:  # no import committed meanwhile: ``made`` is of ``index``
                    index.made_digest = made
                    if context is not None and not stored:
                        self._keep_digest(index, context, made)
                    return made

    def _stored_digest(self, context: str) -> str | None:
        """The digest the user database keeps for ``context``; None without one (or without ``meta``)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            return stored_digest(self._connection, "user", context)
        return None

    def _keep_digest(self, index: SearchIndex, context: str, digest: str) -> None:
        """Store ``digest`` (of ``index``, just made) in a writable user database, for the other processes.

        Only if no import committed since ``index`` was read, checked while holding the write lock.
        Never waits for that lock (an import in another process may hold it for a minute, and the
        catalog's lock is held here): a busy, read-only or full database just stays without one.
        """
        if not self._user_writable or self._read_only:
            return
        connection = self._connection
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            connection.execute("BEGIN IMMEDIATE")
            if self._current_index() is index:
                store_digest(connection, "user", context, digest)
            connection.execute("COMMIT")
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        finally:
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    def _make_digest(self, index: SearchIndex) -> str:
        """The digest of ``index``'s catalog, read without the lock where it can be; only where the
        user database keeps none for this process (one imported by an older moodtape, a read-only
        copy of it), or there is none.

        Hashing a million imported tracks takes about 20 s (4 s for 300,000); holding the lock
        meanwhile made every search wait that long, right after a worker started and after each
        import. A user database is read on a connection of its own: one SELECT in WAL mode is one
        snapshot, and :meth:`digest` keeps the value only if no import committed meanwhile.
        """
        if not index.queried:  # held whole: nothing to read
            return index.digest(index.tracks)
        if self._user_uri is None or any(part.database != "user" for part in index.queried):
            with self._lock:  # a large CSV given to from_file: in memory, on no other connection
                return index.digest(self._every_track(index, self._connection))
        reader = sqlite3.connect(":memory:", isolation_level=None, uri=True)
        try:
            reader.row_factory = sqlite3.Row
            reader.execute("ATTACH DATABASE ? AS user", (self._user_uri,))
            return index.digest(self._every_track(index, reader))
        finally:
            reader.close()

    @property
    def track_count(self) -> int:
        index = self._current_index()
        return len(index.tracks) + sum(part.count for part in index.queried)

    @property
    def video_count(self) -> int:
        return len(self.all_videos())

    @property
    def user_path(self) -> Path | None:
        """Where :meth:`import_csv` writes; None for a read-only catalog."""
        return None if self._read_only else self._user_path

    # --- adding tracks --------------------------------------------------------------------------

    def import_csv(self, path: Path | str) -> ImportReport:
        """Add the good rows of a Spotify-features CSV to the user's catalog, in one transaction.

        Bad rows and duplicates (same Spotify ID, or same artist and title as a track already in
        the catalog or earlier in the file) are skipped and reported with their line numbers. If
        the write fails part-way, nothing is added.

        Raises:
            CatalogError: the file cannot be read or has no valid rows, the catalog is read-only,
                or the database refused the write (nothing was added).
        """
        path = Path(path)
        if self._read_only or self._user_path is None:
            raise CatalogError("this catalog is read-only; import into the default catalog instead")
        parsed = read_track_csv(path)
        if not parsed.rows:
            raise CatalogError(f"no valid rows in {path}{_first_problems(tuple(parsed.problems))}")
        with self._lock:
            if "user" not in self._databases:
                self._user_path.parent.mkdir(parents=True, exist_ok=True)
                self._attach(self._user_path, read_only=False)
            duplicates = self._insert(parsed, "user")
        problems = tuple(sorted((*parsed.problems, *duplicates), key=lambda p: p.line))
        return ImportReport(path=path, added=len(parsed.rows) - len(duplicates), skipped=problems)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog(databases={self._databases!r}, user_path={self._user_path!r})"

    # --- internals ------------------------------------------------------------------------------

    def _attach(self, path: Path, *, read_only: bool) -> None:
        """Attach ``path`` as ``user``; in a folder this process cannot write, read it as it is.

        A WAL-mode database needs its ``-shm`` file beside it, which a read-only folder or mount
        cannot get: there SQLite answers "unable to open database file". Then it is opened
        ``mode=ro`` (enough when ``-wal`` and ``-shm`` are there) and, failing that,
        ``immutable=1``, only when no ``-wal`` holds commits that this would skip.
        """
        plain = path.resolve().as_uri()
        attempts = [plain + ("?mode=ro" if read_only else "")]
        if not os.access(path.parent, os.W_OK):
            attempts += [plain + "?mode=ro"] + ([plain + "?mode=ro&immutable=1"] if _no_pending_wal(path) else [])
        failure: sqlite3.DatabaseError | None = None
        for uri in dict.fromkeys(attempts):
            try:
                self._attach_uri(path, uri, writable="mode=ro" not in uri)
                break
            except sqlite3.DatabaseError as exc:
                failure = exc
                with contextlib.suppress(sqlite3.Error):
                    self._connection.execute("DETACH DATABASE user")
        else:
            raise CatalogError(f"cannot open catalog database {path}: {failure}") from failure
        self._databases.append("user")
        self._index = None

    def _attach_uri(self, path: Path, uri: str, *, writable: bool) -> None:
        self._connection.execute("ATTACH DATABASE ? AS user", (uri,))
        tables = {row[0] for row in self._connection.execute("SELECT name FROM user.sqlite_master")}
        if writable:
            _use_wal(self._connection)
            if not tables >= SCHEMA_NAMES:  # a write: it would wait for an import in another process
                create_schema(self._connection, "user")
            self._user_writable = True
        elif "tracks" not in tables:
            raise CatalogError(f"{path} is a SQLite file but not a moodtape catalog (it has no tracks table)")
        elif "videos" not in tables:
            raise CatalogError(f"{path} is not a complete moodtape catalog (it has no videos table)")
        self._user_uri = uri if "mode=ro" in uri else uri + "?mode=ro"

    def _insert(self, parsed: ParsedCsv, database: str) -> tuple[RowProblem, ...]:
        """Insert ``parsed.rows`` into ``database`` in one transaction; return the duplicates skipped."""
        key_at, id_at = TRACK_COLUMNS.index("key"), TRACK_COLUMNS.index("spotify_id")
        seen_keys, seen_ids = self._existing_keys()
        first_line: dict[str, int] = {}
        fresh: list[tuple[object, ...]] = []
        duplicates: list[RowProblem] = []
        for line, row in parsed.rows:
            key, spotify_id = str(row[key_at]), row[id_at]
            if key in seen_keys or (spotify_id is not None and spotify_id in seen_ids):
                where = f"line {first_line[key]}" if key in first_line else "the catalog"
                duplicates.append(RowProblem(line, f"duplicate: {row[2]} - {row[1]} is already in {where}"))
                continue
            seen_keys.add(key)
            first_line[key] = line
            if spotify_id is not None:
                seen_ids.add(str(spotify_id))
            fresh.append(row)
        with self._lock:
            try:
                # The user database's write lock first: its digest is read and hashed before anything
                # is written when every row was a duplicate, and a deferred transaction whose reads
                # saw another connection commit meanwhile is refused its write ("database is locked",
                # at once, without the busy timeout's wait).
                self._connection.execute("BEGIN IMMEDIATE" if database == "user" else "BEGIN")
                insert_tracks(self._connection, fresh, database)
                if database == "user":
                    self._store_import_digest()
                self._connection.execute("COMMIT")
                if database == "user":
                    _shrink_wal(self._connection)
            except BaseException as exc:
                self._connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise CatalogError(f"the import failed and nothing was added: {exc}") from exc
                raise
            finally:
                self._index = None
        return tuple(duplicates)

    def _store_import_digest(self) -> None:
        """Make the catalog's digest in the import's transaction, once, and store it with the tracks.

        Every process then reads it (:meth:`digest`) instead of hashing every track again; the
        triggers :func:`store_digest` adds have deleted any digest stored before, in this same
        transaction, as each row went in. Kept for what this process holds besides the user's
        tracks (:func:`digest_context`), which a server of the same release holds too.
        """
        index = self._build_index()  # of the catalog as this transaction leaves it
        context = digest_context(index, self._databases)
        if stored_digest(self._connection, "user", context) is None:  # nothing added: it may still be right
            store_digest(self._connection, "user", context, index.digest(self._every_track(index, self._connection)))

    def _existing_keys(self) -> tuple[set[str], set[str]]:
        with self._lock:
            keys: set[str] = set()
            ids: set[str] = set()
            for db in self._databases:
                for key, spotify_id in self._connection.execute(f"SELECT key, spotify_id FROM {db}.tracks"):
                    keys.add(key)
                    if spotify_id:
                        ids.add(spotify_id)
            return keys, ids

    def _current_index(self) -> SearchIndex:
        with self._lock:
            version = None
            if "user" in self._databases:
                version = int(self._connection.execute("PRAGMA user.data_version").fetchone()[0])
            if self._index is None or version != self._user_version:
                self._index = self._build_index()
                self._user_version = version
            return self._index

    def _select(self, table: str, columns: tuple[str, ...], databases: list[str]) -> list[sqlite3.Row]:
        names = ", ".join(columns)
        union = " UNION ALL ".join(f"SELECT {names} FROM {db}.{table}" for db in databases)
        return list(self._connection.execute(union)) if union else []

    def _build_index(self) -> SearchIndex:
        counts = {
            db: int(self._connection.execute(f"SELECT COUNT(*) FROM {db}.tracks").fetchone()[0])
            for db in self._databases
        }
        held = [db for db in self._databases if counts[db] <= HELD_TRACKS_LIMIT]
        # Held tracks come first: they are ranked ahead of the queried ones when distances tie, as
        # the built-in ones (in ``main``, attached first) always were ahead of the user's.
        queried = tuple(QueriedTracks(db, counts[db]) for db in self._databases if db not in held)
        tracks = tuple(row_to_track(row) for row in self._select("tracks", TRACK_COLUMNS, held))
        videos = tuple(row_to_video(row) for row in self._select("videos", VIDEO_COLUMNS, self._databases))
        return SearchIndex(
            tracks=tracks,
            track_points=points_of(tracks),
            track_genres=tuple(normalise_label(t.genre or "") for t in tracks),
            videos=videos,
            video_points=points_of(videos),
            video_categories=tuple(normalise_label(v.category) for v in videos),
            queried=queried,
        )

    @staticmethod
    def _every_track(index: SearchIndex, connection: sqlite3.Connection) -> Iterator[Track]:
        """The held tracks, then every track of each queried database (on ``connection``), read as they are used."""
        yield from index.tracks
        names = ", ".join(TRACK_COLUMNS)
        for part in index.queried:
            for row in connection.execute(f"SELECT {names} FROM {part.database}.tracks ORDER BY id"):
                yield row_to_track(row)

    def _queried_candidates(self, index: SearchIndex, part: QueriedTracks, query: Query) -> npt.NDArray[np.float64]:
        """(id, valence, energy) rows of ``part`` among each target's nearest that pass the genre filter."""
        wanted = wanted_labels(query.genres)
        if not wanted:
            return mood_candidates(self._connection, part, query.targets, query.limit)
        rows = index.genre_rows_of(part.database, wanted, lambda: genre_rows(self._connection, part.database, wanted))
        return nearest_rows(rows, query.targets, query.limit)

    def _chosen_tracks(
        self,
        index: SearchIndex,
        allowed: npt.NDArray[np.intp],
        candidates: list[npt.NDArray[np.float64]],
        chosen: list[int],
    ) -> list[Track]:
        """Positions in (held allowed tracks, then each part's candidates) → tracks, reading only the chosen rows."""
        starts = np.cumsum([len(allowed), *(len(rows) for rows in candidates)])  # of each part's rows
        wanted_ids: list[list[int]] = [[] for _ in candidates]
        where: list[tuple[int, int]] = []  # (queried part, row id), or (-1, index in index.tracks)
        for position in chosen:
            part = int(np.searchsorted(starts, position, side="right")) - 1
            if part < 0:
                where.append((-1, int(allowed[position])))
                continue
            row_id = int(candidates[part][position - starts[part], 0])
            wanted_ids[part].append(row_id)
            where.append((part, row_id))
        names = ", ".join(TRACK_COLUMNS)
        fetched = [
            fetch_tracks(self._connection, queried.database, ids, names)
            for queried, ids in zip(index.queried, wanted_ids, strict=True)
        ]
        return [index.tracks[key] if part < 0 else fetched[part][key] for part, key in where]


def _shrink_wal(connection: sqlite3.Connection) -> None:
    """Copy an import's pages from ``catalog.db-wal`` into the database and empty the ``-wal`` file.

    SQLite empties it only when the last connection closes: with a server running, it stayed as
    large as the import (28 MB after 200,000 tracks). This waits up to the connection's timeout
    for searches in progress to finish; if one is still reading then, the file is emptied at the
    next import instead.
    """
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA user.wal_checkpoint(TRUNCATE)").fetchall()


def _no_pending_wal(path: Path) -> bool:
    """Whether ``path`` has no ``-wal`` file holding commits (``immutable=1`` would not read them)."""
    wal = path.with_name(path.name + "-wal")
    return not wal.exists() or wal.stat().st_size == 0


def _use_wal(connection: sqlite3.Connection) -> None:
    """Put the user database in WAL mode, so searches in other processes read the catalog as it
    was while an import writes, instead of failing with "database is locked".

    In the default rollback-journal mode a large import spills its pages into the file part-way and
    locks every reader out until it commits: searches during the last 20 s or more of a million-track
    import each waited 5 s and failed. The mode is kept in the file, so this changes it once; if another
    connection holds a lock right then, the file stays as it was until the next open.
    """
    with contextlib.suppress(sqlite3.OperationalError):
        connection.execute("PRAGMA user.journal_mode=WAL")


def _first_problems(problems: tuple[RowProblem, ...], shown: int = 3) -> str:
    if not problems:
        return ""
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return " — " + "; ".join(str(p) for p in problems[:shown]) + more
