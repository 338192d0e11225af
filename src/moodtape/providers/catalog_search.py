"""Searching the catalog: nearest items on the (valence, energy) plane, and rows → items.

:class:`SearchIndex` is a snapshot of a catalog's items as numpy arrays plus ready-made
:class:`Track` / :class:`Video` objects, so a query touches no SQL and allocates little.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from moodtape.types import Track, Video

_FEATURES = ("danceability", "acousticness", "instrumentalness", "loudness", "tempo")


def normalise_label(text: str) -> str:
    """``"Hip-Hop"`` → ``" hip hop "``: padded so a whole-word match is a substring test."""
    return " " + " ".join(text.casefold().replace("-", " ").replace("_", " ").split()) + " "


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


@dataclass
class SearchIndex:
    """Everything a search needs, built from the database in one pass."""

    tracks: tuple[Track, ...]
    track_points: npt.NDArray[np.float64]
    track_genres: tuple[str, ...]
    videos: tuple[Video, ...]
    video_points: npt.NDArray[np.float64]
    video_categories: tuple[str, ...]
    #: Genre filter → (allowed track indices, their points); filled on first use of each filter.
    subsets: dict[tuple[str, ...], tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]] = field(default_factory=dict)

    def allowed_tracks(self, genres: tuple[str, ...]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        wanted = tuple(sorted({normalise_label(g) for g in genres if g.strip()}))
        if wanted not in self.subsets:
            everything = np.arange(len(self.tracks))
            allowed = np.flatnonzero(_matches(self.track_genres, wanted)) if wanted else everything
            self.subsets[wanted] = (allowed, self.track_points[allowed])
        return self.subsets[wanted]

    def allowed_videos(self, genres: tuple[str, ...]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        wanted = tuple(normalise_label(g) for g in genres if g.strip())
        mask = _matches(self.video_categories, wanted)
        # Music genres ("rock") say nothing about which mood video fits; only category names filter.
        allowed = np.flatnonzero(mask) if mask.any() else np.arange(len(self.videos))
        return allowed, self.video_points[allowed]

    @cached_property
    def digest(self) -> str:
        """A digest of every track and video, in order: what instances behind a balancer compare.

        Made once per index (about 20 ms for the built-in catalog's 3,600 items, too much for every
        readiness poll); an index is built again when the catalog's items change, and so is this.
        """
        return items_digest((*self.tracks, *self.videos))


def items_digest(items: Iterable[Track | Video]) -> str:
    """A digest of ``items`` in their order (16 hex digits).

    Every field of every item counts (its ``repr``: titles, mood coordinates, links), as does the
    order, which breaks ties in the ranking: two catalogs give the same digest only for the same
    items in the same order. The ``repr`` of these dataclasses of strings, numbers and a small dict
    is the same in every process.
    """
    digest = hashlib.sha256()
    for item in items:
        digest.update(repr(item).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


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
