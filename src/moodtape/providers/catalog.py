"""The built-in catalog: the provider that is always there, with no keys and no network.

A :class:`Catalog` is one SQLite connection. Its ``main`` database is in memory and holds the data
shipped in the package (``providers/data/*.csv``: 3,200 tracks from the Deezer Mood Detection
Dataset, hand-curated songs and videos); the user's additions live in ``catalog.db`` under the
data folder, attached as ``user``. Rebuilding the built-in part in memory costs ~40 ms per
process and can never go stale after an upgrade, which a cached file could.

Searches run on an in-memory index (numpy arrays of the (valence, energy) points plus ready-made
:class:`Track` and :class:`Video` objects) built on first use and rebuilt when the user database
changes, even from another process (``PRAGMA data_version``). A query with 20 targets over the
~3,400 tracks takes well under a millisecond.

Typical use::

    catalog = Catalog()                      # built-in + MOODTAPE_DATA_DIR/catalog.db
    catalog = Catalog(tmp_path)              # built-in + tmp_path/catalog.db (tests)
    catalog = Catalog.from_file("mine.csv")  # only that CSV (or catalog .db), nothing else
    tracks = catalog.tracks(Query(targets=((0.2, 0.3), (0.4, 0.4))))
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from moodtape.config import Settings
from moodtape.errors import CatalogError
from moodtape.identity import video_key
from moodtape.providers.base import Query
from moodtape.providers.catalog_db import (
    TRACK_COLUMNS,
    VIDEO_COLUMNS,
    builtin_data,
    create_schema,
    insert_tracks,
    insert_videos,
    item_key,
)
from moodtape.providers.catalog_import import ParsedCsv, RowProblem, read_track_csv
from moodtape.providers.catalog_search import (
    SearchIndex,
    nearest,
    normalise_label,
    points_of,
    row_to_track,
    row_to_video,
)
from moodtape.types import Track, Video

#: File name of the user's additions inside the data folder.
USER_DB_NAME = "catalog.db"
_SQLITE_MAGIC = b"SQLite format 3\x00"


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
        self._read_only = False
        self._databases = ["main"]
        #: Rows of a CSV given to :meth:`from_file` that were skipped, with their reasons.
        self.skipped: tuple[RowProblem, ...] = ()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so an import is one transaction.
        self._connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None, uri=True)
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
        allowed, points = index.allowed_tracks(query.genres)
        chosen = nearest(points, allowed, query.targets, query.limit)
        return [index.tracks[i] for i in chosen]

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
        """Every track, built-in first, then the user's (for stats, plots and evaluation)."""
        return self._current_index().tracks

    def all_videos(self) -> tuple[Video, ...]:
        """Every video."""
        return self._current_index().videos

    def digest(self) -> str:
        """A digest of every item, in order (16 hex digits), made again only when the items change:
        instances behind a balancer compare it (``/readyz``), as a list comes from the answering one's catalog."""
        return self._current_index().digest

    @property
    def track_count(self) -> int:
        return len(self.all_tracks())

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
        uri = path.resolve().as_uri() + ("?mode=ro" if read_only else "")
        try:
            self._connection.execute("ATTACH DATABASE ? AS user", (uri,))
            tables = {row[0] for row in self._connection.execute("SELECT name FROM user.sqlite_master")}
            if not read_only:
                create_schema(self._connection, "user")
            elif "tracks" not in tables:
                raise CatalogError(f"{path} is a SQLite file but not a moodtape catalog (it has no tracks table)")
            elif "videos" not in tables:
                raise CatalogError(f"{path} is not a complete moodtape catalog (it has no videos table)")
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open catalog database {path}: {exc}") from exc
        self._databases.append("user")
        self._index = None

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
                self._connection.execute("BEGIN")
                insert_tracks(self._connection, fresh, database)
                self._connection.execute("COMMIT")
            except BaseException as exc:
                self._connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise CatalogError(f"the import failed and nothing was added: {exc}") from exc
                raise
            finally:
                self._index = None
        return tuple(duplicates)

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

    def _select(self, table: str, columns: tuple[str, ...]) -> list[sqlite3.Row]:
        names = ", ".join(columns)
        union = " UNION ALL ".join(f"SELECT {names} FROM {db}.{table}" for db in self._databases)
        return list(self._connection.execute(union))

    def _build_index(self) -> SearchIndex:
        tracks = tuple(row_to_track(row) for row in self._select("tracks", TRACK_COLUMNS))
        videos = tuple(row_to_video(row) for row in self._select("videos", VIDEO_COLUMNS))
        return SearchIndex(
            tracks=tracks,
            track_points=points_of(tracks),
            track_genres=tuple(normalise_label(t.genre or "") for t in tracks),
            videos=videos,
            video_points=points_of(videos),
            video_categories=tuple(normalise_label(v.category) for v in videos),
        )


def _first_problems(problems: tuple[RowProblem, ...], shown: int = 3) -> str:
    if not problems:
        return ""
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return " — " + "; ".join(str(p) for p in problems[:shown]) + more
