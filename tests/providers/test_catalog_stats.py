"""Catalog statistics, coverage of the mood plane, and the coverage plot."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodtape.errors import CatalogError
from moodtape.providers.catalog import Catalog
from moodtape.providers.catalog_stats import catalog_stats, coverage, plot_coverage
from moodtape.types import Track, Video

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def track(title: str, valence: float, energy: float, **fields: object) -> Track:
    return Track(title=title, artist=f"by {title}", valence=valence, energy=energy, **fields)  # type: ignore[arg-type]


@pytest.fixture
def small() -> Catalog:
    return Catalog.from_items(
        [
            track("a", 0.05, 0.05, genre="jazz", decade=1950, language="en"),
            track("b", 0.06, 0.07, genre="jazz", decade=1960),
            track("c", 0.95, 0.95, genre="metal", language="de"),
            track("d", 1.0, 0.5),
        ],
        [Video(title="v", channel="c", valence=0.5, energy=0.5, category="comedy")],
    )


def test_coverage_counts_occupied_cells() -> None:
    assert coverage([]) == 0.0
    assert coverage([track("a", 0.0, 0.0), track("b", 0.01, 0.09)]) == pytest.approx(0.01)
    # 1.0 falls in the last cell, not outside the grid.
    assert coverage([track("a", 1.0, 1.0), track("b", 0.95, 0.95)], grid=10) == pytest.approx(0.01)
    everywhere = [track(f"{i}-{j}", (i + 0.5) / 4, (j + 0.5) / 4) for i in range(4) for j in range(4)]
    assert coverage(everywhere, grid=4) == 1.0


def test_stats_count_by_group(small: Catalog) -> None:
    stats = catalog_stats(small)
    assert (stats.tracks, stats.videos) == (4, 1)
    assert stats.tracks_by_genre == {"jazz": 2, "(none)": 1, "metal": 1}
    assert stats.tracks_by_decade == {"(none)": 2, "1950s": 1, "1960s": 1}
    assert stats.tracks_by_language == {"(none)": 2, "de": 1, "en": 1}
    assert stats.tracks_by_origin == {"catalog": 4}
    assert stats.videos_by_category == {"comedy": 1}
    assert stats.track_coverage == pytest.approx(3 / 100)
    assert stats.to_dict()["grid"] == 10


def test_the_builtin_catalog_covers_most_of_the_mood_plane() -> None:
    stats = catalog_stats(Catalog.builtin())
    assert stats.track_coverage >= 0.85
    assert stats.tracks_by_origin["deezer-mood"] == 3200


def test_an_empty_catalog_is_an_error() -> None:
    with pytest.raises(CatalogError, match="empty"):
        catalog_stats(Catalog.from_items())


def test_the_plot_is_a_real_png(tmp_path: Path, small: Catalog) -> None:
    out = plot_coverage(small, tmp_path / "deep" / "plot.png")
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 560)
