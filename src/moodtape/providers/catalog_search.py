"""Searching the catalog: nearest items on the (valence, energy) plane, and rows → items.

:class:`SearchIndex` is a snapshot of a catalog's small databases (the built-in one, a few
hundred imports) as numpy arrays plus ready-made :class:`Track` / :class:`Video` objects, so a
query touches no SQL and allocates little. A large database (a whole library export of a million
tracks) is not held: :func:`mood_candidates` asks its ``(valence, energy)`` index for a box
around each target, widened until it surely holds the target's nearest, so a search reads a few
hundred rows of it whatever its size, and only the tracks chosen become :class:`Track` objects.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from moodtape.types import Track, Video

#: How many genre filters of a queried database each process keeps read (the last ones used).
GENRE_FILTERS_KEPT = 8

_FEATURES = ("danceability", "acousticness", "instrumentalness", "loudness", "tempo")


def normalise_label(text: str) -> str:
    """``"Hip-Hop"`` → ``" hip hop "``: padded so a whole-word match is a substring test."""
    return " " + " ".join(text.casefold().replace("-", " ").replace("_", " ").split()) + " "


def wanted_labels(genres: tuple[str, ...]) -> tuple[str, ...]:
    """A genre filter as normalised labels, sorted and without repeats (empty: no filter)."""
    return tuple(sorted({normalise_label(g) for g in genres if g.strip()}))


def _matches(labels: tuple[str, ...], wanted: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    return np.array([any(w in label for w in wanted) for label in labels], dtype=bool)


def nearest(
    points: npt.NDArray[np.float64],
    allowed: npt.NDArray[np.intp],
    targets: tuple[tuple[float, float], ...],
    limit: int,
) -> list[int]:
    """Up to ``limit`` indices from ``allowed``: each target's nearest in turn, without repeats.

    ``points`` holds only the allowed items' coordinates, shape (len(allowed), 2). Round-robin over
    the targets (every target's 1st nearest, then every 2nd…) so each slot of the list gets
    candidates near it. Same input, same output: ties are broken deterministically.
    """
    if allowed.size == 0:
        return []
    target_array = np.asarray(targets, dtype=np.float64)
    dv = points[:, 0][None, :] - target_array[:, 0][:, None]
    de = points[:, 1][None, :] - target_array[:, 1][:, None]
    distances = dv * dv + de * de  # (targets, items)
    depth = min(limit, allowed.size)
    if depth < allowed.size:
        nearest = np.argpartition(distances, depth - 1, axis=1)[:, :depth]
    else:
        nearest = np.broadcast_to(np.arange(allowed.size), distances.shape)
    order = np.lexsort((nearest, np.take_along_axis(distances, nearest, axis=1)), axis=1)
    ranked = np.take_along_axis(nearest, order, axis=1)
    flat = ranked.T.ravel()
    _, first = np.unique(flat, return_index=True)
    ordered = flat[np.sort(first)][:limit]
    return [int(allowed[i]) for i in ordered]


@dataclass(frozen=True)
class QueriedTracks:
    """A database whose tracks are searched through its mood index instead of held in memory."""

    database: str
    count: int


def _box_rows(
    connection: sqlite3.Connection, database: str, target: tuple[float, float], radius: float
) -> npt.NDArray[np.float64]:
    """(id, valence, energy) of the tracks in the square of half-side ``radius`` around ``target``.

    Reads only the ``tracks_mood`` index, which holds valence, energy and the row id.
    """
    v, e = target
    sql = f"SELECT id, valence, energy FROM {database}.tracks WHERE valence BETWEEN ? AND ? AND energy BETWEEN ? AND ?"
    rows = connection.execute(sql, (v - radius, v + radius, e - radius, e + radius)).fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def _covers_the_plane(target: tuple[float, float], radius: float) -> bool:
    """Whether the box around ``target`` holds the whole unit square (or never can: a NaN target)."""
    v, e = target
    if not (math.isfinite(v) and math.isfinite(e)):
        return True
    return v - radius <= 0.0 and v + radius >= 1.0 and e - radius <= 0.0 and e + radius >= 1.0


def _distances(rows: npt.NDArray[np.float64], target: tuple[float, float]) -> npt.NDArray[np.float64]:
    return (rows[:, 1] - target[0]) ** 2 + (rows[:, 2] - target[1]) ** 2


def _union_by_id(chosen: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    rows = np.concatenate(chosen) if chosen else np.empty((0, 3))
    _, first = np.unique(rows[:, 0], return_index=True)  # sorted by id
    return rows[first]


def mood_candidates(
    connection: sqlite3.Connection, queried: QueriedTracks, targets: tuple[tuple[float, float], ...], depth: int
) -> npt.NDArray[np.float64]:
    """(id, valence, energy) rows of ``queried``, sorted by id, holding each target's ``depth`` nearest.

    Per target, the box starts where ``depth`` tracks spread evenly would fit twice over and
    doubles until the circle inside it holds ``depth`` tracks (no track outside the box can then
    be nearer than those) or it covers the whole plane.
    """
    if depth <= 0 or queried.count == 0:
        return np.empty((0, 3))
    start = math.sqrt(2 * depth / (math.pi * queried.count))
    chosen = []
    for target in targets:
        radius = start
        while True:
            rows = _box_rows(connection, queried.database, target, radius)
            distances = _distances(rows, target)
            # A hair inside the circle, so float rounding at the box's edge cannot matter.
            inside = np.count_nonzero(distances <= radius * radius * (1 - 1e-9))
            if inside >= depth or _covers_the_plane(target, radius):
                break
            radius *= 2
        chosen.append(rows[np.lexsort((rows[:, 0], distances))[:depth]])
    return _union_by_id(chosen)


def nearest_rows(
    rows: npt.NDArray[np.float64], targets: tuple[tuple[float, float], ...], depth: int
) -> npt.NDArray[np.float64]:
    """The (id, valence, energy) ``rows`` among each target's ``depth`` nearest, sorted by id.

    One target at a time, so a filter that allows most of a million tracks needs memory for one
    row of distances, not one per target.
    """
    chosen = []
    for target in targets:
        distances = _distances(rows, target)
        if depth < len(rows):
            kept = np.argpartition(distances, depth - 1)[:depth]
            chosen.append(rows[kept])
        else:
            chosen.append(rows)
    return _union_by_id(chosen)


def genre_rows(connection: sqlite3.Connection, database: str, wanted: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """(id, valence, energy) of the tracks of ``database`` whose genre holds one of ``wanted`` (normalised).

    Two passes over the table in SQLite (its distinct genres, then their tracks), none in Python:
    a catalog has far fewer genres than tracks.
    """
    values = connection.execute(f"SELECT DISTINCT genre FROM {database}.tracks WHERE genre IS NOT NULL")
    genres = [genre for (genre,) in values if any(w in normalise_label(genre) for w in wanted)]
    sql = f"SELECT id, valence, energy FROM {database}.tracks WHERE genre IN (SELECT value FROM json_each(?))"
    rows = connection.execute(sql, (json.dumps(genres),)).fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def fetch_tracks(connection: sqlite3.Connection, database: str, ids: Iterable[int], columns: str) -> dict[int, Track]:
    """The tracks of ``database`` with these row ids, by id (``columns``: the track columns, listed)."""
    sql = f"SELECT id, {columns} FROM {database}.tracks WHERE id IN (SELECT value FROM json_each(?))"
    return {row["id"]: row_to_track(row) for row in connection.execute(sql, (json.dumps(list(ids)),))}


@dataclass
class SearchIndex:
    """Everything a search needs, built from the database in one pass."""

    tracks: tuple[Track, ...]
    track_points: npt.NDArray[np.float64]
    track_genres: tuple[str, ...]
    videos: tuple[Video, ...]
    video_points: npt.NDArray[np.float64]
    video_categories: tuple[str, ...]
    #: Databases too large to hold, searched through their mood index (after the held tracks).
    queried: tuple[QueriedTracks, ...] = ()
    #: (database, genre filter) → (id, valence, energy) of its tracks there, the
    #: :data:`GENRE_FILTERS_KEPT` filters used last (see :meth:`genre_rows_of`).
    queried_genres: OrderedDict[tuple[str, tuple[str, ...]], npt.NDArray[np.float64]] = field(
        default_factory=OrderedDict
    )
    #: :meth:`digest`, once :meth:`Catalog.digest` made it.
    made_digest: str | None = None
    #: Genre filter → (allowed track indices, their points); filled on first use of each filter.
    subsets: dict[tuple[str, ...], tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = field(default_factory=dict)

    def allowed_tracks(self, genres: tuple[str, ...]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        wanted = wanted_labels(genres)
        if wanted not in self.subsets:
            everything = np.arange(len(self.tracks))
            allowed = np.flatnonzero(_matches(self.track_genres, wanted)) if wanted else everything
            self.subsets[wanted] = (allowed, self.track_points[allowed])
        return self.subsets[wanted]

    def genre_rows_of(
        self, database: str, wanted: tuple[str, ...], read: Callable[[], npt.NDArray[np.float64]]
    ) -> npt.NDArray[np.float64]:
        """The rows ``read()`` gives for this filter of a queried database, kept for the next search.

        Each is 24 bytes per matching track (up to 24 MB for a million); a page can ask for any mix
        of genres, so only the filters used last are kept, not one per combination ever asked.
        """
        key = (database, wanted)
        if key in self.queried_genres:
            self.queried_genres.move_to_end(key)
        else:
            self.queried_genres[key] = read()
            while len(self.queried_genres) > GENRE_FILTERS_KEPT:
                self.queried_genres.popitem(last=False)
        return self.queried_genres[key]

    def allowed_videos(self, genres: tuple[str, ...]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        wanted = tuple(normalise_label(g) for g in genres if g.strip())
        mask = _matches(self.video_categories, wanted)
        # Music genres ("rock") say nothing about which mood video fits; only category names filter.
        allowed = np.flatnonzero(mask) if mask.any() else np.arange(len(self.videos))
        return allowed, self.video_points[allowed]

    def digest(self, tracks: Iterable[Track]) -> str:
        """A digest of every track and video, in order: what instances behind a balancer compare.

        ``tracks`` is every track in order (the held ones, then those of the queried databases,
        read as they are hashed). :meth:`Catalog.digest` keeps it in :attr:`made_digest` (about 20 ms
        for the built-in catalog's 3,600 items, too much for every readiness poll); an index is
        built again when the catalog's items change, and so is this.
        """
        return items_digest(itertools.chain(tracks, self.videos))


#: Raise it when :func:`items_digest` changes how it hashes: a digest stored in a user database by
#: the moodtape before must not be taken for the new one (see :func:`digest_context`).
DIGEST_FORMAT = 1


def items_digest(items: Iterable[Track | Video]) -> str:
    """A digest of ``items`` in their order (16 hex digits).

    Every field of every item counts (its ``repr``: titles, mood coordinates, links), as does the
    order, which breaks ties in the ranking: two catalogs give the same digest only for the same
    items in the same order. The ``repr`` of these dataclasses of strings, numbers and a small dict
    is the same in every process. Changing this needs a new :data:`DIGEST_FORMAT`.
    """
    digest = hashlib.sha256()
    for item in items:
        digest.update(repr(item).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def digest_context(index: SearchIndex, databases: Sequence[str]) -> str:
    """What a catalog's digest depends on besides its queried databases' tracks (16 hex digits).

    A user database keeps its digest under this (:func:`~moodtape.providers.catalog_db.store_digest`),
    so a process reads it only where it would make the same value: the same held tracks (the
    built-in ones, which another release may change) and videos, the databases hashed in the same
    order, the same :data:`DIGEST_FORMAT`, and the same ``repr`` of a track read from a row with
    every column set (a field added to :class:`Track`, or read otherwise, changes it even with no
    built-in tracks). Hashing the held items costs milliseconds (about 20 for the built-in ones).
    """
    queried = [part.database for part in index.queried]
    order = [db for db in databases if db not in queried] + queried
    digest = hashlib.sha256(f"{DIGEST_FORMAT}\n{','.join(order)}\n{_track_probe()}\n".encode())
    for item in itertools.chain(index.tracks, ["videos"], index.videos):
        digest.update(repr(item).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def _track_probe() -> str:
    """The ``repr`` of the track that a ``tracks`` row with every column set becomes."""
    values: dict[str, object] = {"title": "Title", "artist": "Artist", "origin": "import", "estimated": 1}
    values.update(spotify_id="0" * 22, deezer_id="1", youtube_id="2", genre="Genre", decade=1990, language="en")
    values.update({name: 0.5 for name in ("valence", "energy", *_FEATURES)})
    connection = sqlite3.connect(":memory:")
    try:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT " + ", ".join(f"? AS {name}" for name in values), tuple(values.values()))
        return repr(row_to_track(row.fetchone()))
    finally:
        connection.close()


def points_of(items: Iterable[Track | Video]) -> npt.NDArray[np.float64]:
    return np.array([(i.valence, i.energy) for i in items], dtype=np.float64).reshape(-1, 2)


def row_to_track(row: sqlite3.Row) -> Track:
    features: dict[str, Any] = {name: row[name] for name in _FEATURES}
    return Track(
        title=row["title"],
        artist=row["artist"],
        valence=row["valence"],
        energy=row["energy"],
        source="catalog",
        spotify_id=row["spotify_id"],
        youtube_id=row["youtube_id"],
        deezer_id=row["deezer_id"],
        genre=row["genre"],
        decade=row["decade"],
        language=row["language"],
        estimated=bool(row["estimated"]),
        extra={"origin": row["origin"]},
        **features,
    )


def row_to_video(row: sqlite3.Row) -> Video:
    return Video(
        title=row["title"],
        channel=row["channel"],
        valence=row["valence"],
        energy=row["energy"],
        category=row["category"],
        source="catalog",
        youtube_id=row["youtube_id"],
        # Shipped videos carry hand-estimated mood coordinates.
        estimated=row["origin"] == "curated",
    )
