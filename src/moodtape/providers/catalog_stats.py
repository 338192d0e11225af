"""What is in a catalog: counts, coverage of the mood plane, and a plot of it.

Coverage is the share of cells of a ``grid × grid`` partition of the (valence, energy) unit square
that hold at least one item: 100 % means every corner of the mood plane has something to offer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from moodtape.errors import CatalogError
from moodtape.providers.catalog import Catalog
from moodtape.types import Track, Video

DEFAULT_GRID = 10
_NONE = "(none)"


@dataclass(frozen=True)
class CatalogStats:
    """Counts and coverage; every ``by_*`` mapping is sorted by count, largest first."""

    tracks: int
    videos: int
    tracks_with_deezer_id: int
    tracks_by_origin: dict[str, int]
    tracks_by_genre: dict[str, int]
    tracks_by_decade: dict[str, int]
    tracks_by_language: dict[str, int]
    videos_by_category: dict[str, int]
    grid: int
    track_coverage: float
    video_coverage: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def coverage(items: Iterable[Track | Video], grid: int = DEFAULT_GRID) -> float:
    """Share (0–1) of the ``grid × grid`` cells of the unit square holding at least one item."""
    points = np.array([(i.valence, i.energy) for i in items], dtype=np.float64).reshape(-1, 2)
    if points.size == 0:
        return 0.0
    cells = np.minimum((points * grid).astype(int), grid - 1)
    return len({(int(x), int(y)) for x, y in cells}) / grid**2


def _counted(values: Iterable[object]) -> dict[str, int]:
    counts = Counter(_NONE if v is None or v == "" else str(v) for v in values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def catalog_stats(catalog: Catalog, grid: int = DEFAULT_GRID) -> CatalogStats:
    """Summarise ``catalog``.

    Raises:
        CatalogError: the catalog holds nothing.
    """
    return _summary(catalog.all_tracks(), catalog.all_videos(), grid)


def _summary(tracks: tuple[Track, ...], videos: tuple[Video, ...], grid: int) -> CatalogStats:
    """:func:`catalog_stats` of items already read (a large imported catalog is read once, not per use)."""
    if not tracks and not videos:
        raise CatalogError("the catalog is empty: import tracks with `moodtape catalog import FILE.csv`")
    return CatalogStats(
        tracks=len(tracks),
        videos=len(videos),
        tracks_with_deezer_id=sum(t.deezer_id is not None for t in tracks),
        tracks_by_origin=_counted(t.extra.get("origin") for t in tracks),
        tracks_by_genre=_counted(t.genre for t in tracks),
        tracks_by_decade=_counted(f"{t.decade}s" if t.decade is not None else None for t in tracks),
        tracks_by_language=_counted(t.language for t in tracks),
        videos_by_category=_counted(v.category for v in videos),
        grid=grid,
        track_coverage=coverage(tracks, grid),
        video_coverage=coverage(videos, grid),
    )


def plot_coverage(catalog: Catalog, path: Path, grid: int = DEFAULT_GRID) -> Path:
    """Write a PNG of the catalog over the mood plane: tracks (hexbin + curated/imported dots), videos.

    Uses matplotlib's Agg canvas directly, so no display and no global pyplot state is touched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tracks, videos = catalog.all_tracks(), catalog.all_videos()
    stats = _summary(tracks, videos, grid)
    figure = Figure(figsize=(12, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)

    measured = [t for t in tracks if t.extra.get("origin") == "deezer-mood"]
    if measured:
        hexes = left.hexbin(
            [t.valence for t in measured],
            [t.energy for t in measured],
            gridsize=24,
            extent=(0, 1, 0, 1),
            mincnt=1,
            cmap="Blues",
        )
        figure.colorbar(hexes, ax=left, label="Deezer Mood tracks per hexagon")
    for origin, colour in (("curated", "tab:orange"), ("import", "tab:red")):
        group = [t for t in tracks if t.extra.get("origin") == origin]
        if group:
            left.scatter(
                [t.valence for t in group], [t.energy for t in group], s=12, c=colour, label=f"{origin} ({len(group)})"
            )
    others = [t for t in tracks if t.extra.get("origin") not in ("deezer-mood", "curated", "import")]
    if others:
        left.scatter([t.valence for t in others], [t.energy for t in others], s=8, c="tab:green", label="other")
    left.set_title(f"{stats.tracks} tracks — {stats.track_coverage:.0%} of the {grid}×{grid} cells occupied")

    categories = list(stats.videos_by_category)
    colours = [f"C{i % 10}" for i in range(len(categories))]
    for category, colour in zip(categories, colours, strict=True):
        clips = [v for v in videos if v.category == category]
        right.scatter([v.valence for v in clips], [v.energy for v in clips], s=18, c=colour, label=category)
    right.set_title(f"{stats.videos} videos — {stats.video_coverage:.0%} of the cells occupied")

    for axes in (left, right):
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_aspect("equal")
        axes.set_xticks(np.linspace(0, 1, grid + 1), minor=True)
        axes.set_yticks(np.linspace(0, 1, grid + 1), minor=True)
        axes.grid(which="minor", color="0.85", linewidth=0.5)
        axes.set_xlabel("valence (0 negative → 1 positive)")
        axes.set_ylabel("energy / arousal (0 calm → 1 intense)")
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper left", fontsize=8, framealpha=0.85)

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
