"""A large imported catalog: searched through its mood index, and readable while an import writes.

Before: the first search of every process read the whole user database into memory (a million
imported tracks: 18 s and 1.8 GB), and a search or an open during the last part of a large
import waited 5 s and failed with "database is locked". Here ``HELD_TRACKS_LIMIT`` is lowered so
a few hundred tracks count as large.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from moodtape.providers import catalog as catalog_module
from moodtape.providers import catalog_search
from moodtape.providers.base import Query
from moodtape.providers.catalog import USER_DB_NAME, Catalog
from moodtape.types import Track

GENRES = ("rock", "folk rock", "jazz", "hip-hop", "")
QUERIES = [
    Query(targets=((0.5, 0.5),), limit=5),
    Query(targets=((0.0, 0.0), (1.0, 1.0), (0.2, 0.9)), limit=20),
    Query(targets=tuple((i / 19, 1 - i / 19) for i in range(20)), limit=100),
    Query(targets=((0.95, 0.05),), limit=1000),  # more than the catalog holds
    Query(targets=((0.3, 0.7), (0.6, 0.2)), genres=("rock",), limit=15),
    Query(targets=((0.9, 0.9),), genres=("Hip Hop", "jazz"), limit=40),
    Query(targets=((0.5, 0.5),), genres=("polka",), limit=10),
]


def import_random_tracks(folder: Path, count: int, *, corner: bool = False, seed: int = 33) -> None:
    """``count`` tracks at random points (all in the calm, negative corner with ``corner``)."""
    rng = random.Random(seed)
    scale = 0.2 if corner else 1.0
    lines = ["name,artist,valence,energy,genre"]
    for i in range(count):
        lines.append(f"Song {i},Artist {i},{rng.random() * scale:.9f},{rng.random() * scale:.9f},{rng.choice(GENRES)}")
    path = folder.parent / f"{folder.name}-tracks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Catalog(folder, include_builtin=False) as catalog:
        catalog.import_csv(path)


def titles(catalog: Catalog, query: Query) -> list[str]:
    return [t.title for t in catalog.tracks(query)]


@pytest.mark.parametrize("corner", [False, True])
def test_a_queried_catalog_answers_as_a_held_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corner: bool) -> None:
    import_random_tracks(tmp_path / "data", 400, corner=corner)
    held = Catalog(tmp_path / "data", include_builtin=False)
    expected = [titles(held, query) for query in QUERIES]
    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    queried = Catalog(tmp_path / "data", include_builtin=False)
    assert queried._current_index().queried and not held._current_index().queried
    assert [titles(queried, query) for query in QUERIES] == expected
    assert queried.track_count == held.track_count == 400
    assert queried.all_tracks() == held.all_tracks()
    assert queried.digest() == held.digest()


def test_built_in_and_queried_tracks_are_ranked_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import_random_tracks(tmp_path / "data", 300)
    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    catalog = Catalog(tmp_path / "data")
    assert catalog._current_index().queried
    everything = catalog.all_tracks()
    assert catalog.track_count == len(everything) == len(Catalog.builtin().all_tracks()) + 300
    origins = set()
    for target in ((0.1, 0.1), (0.5, 0.5), (0.9, 0.2), (0.02, 0.98)):
        found = catalog.tracks(Query(targets=(target,), limit=30))
        distances = [(t.valence - target[0]) ** 2 + (t.energy - target[1]) ** 2 for t in found]
        best = sorted((t.valence - target[0]) ** 2 + (t.energy - target[1]) ** 2 for t in everything)[:30]
        assert distances == best
        origins |= {t.extra["origin"] for t in found}
    assert "import" in origins and "deezer-mood" in origins


def test_a_search_reads_only_the_tracks_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, the first search turned every row of the user database into a Track, kept in memory."""
    import_random_tracks(tmp_path / "data", 300)
    made: list[str] = []
    real = catalog_search.row_to_track

    def counted(row: sqlite3.Row) -> Track:
        made.append(row["title"])
        return real(row)

    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    monkeypatch.setattr(catalog_module, "row_to_track", counted)
    monkeypatch.setattr(catalog_search, "row_to_track", counted)
    catalog = Catalog(tmp_path / "data", include_builtin=False)
    assert catalog._current_index().queried
    found = catalog.tracks(Query(targets=((0.2, 0.3), (0.8, 0.6)), limit=10))
    assert len(found) == 10
    assert sorted(made) == sorted(t.title for t in found)
    assert catalog.track_count == 300


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), 7.0])
def test_the_box_stops_growing_for_any_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: float) -> None:
    """A target off the plane (or NaN, which no comparison ever satisfies) must not widen the box forever."""
    import_random_tracks(tmp_path / "data", 100, corner=True)
    asked: list[float] = []
    real = catalog_search._box_rows

    def counted(connection: sqlite3.Connection, database: str, target: tuple[float, float], radius: float) -> object:
        asked.append(radius)
        assert len(asked) < 100, "the box kept growing"
        return real(connection, database, target, radius)

    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    monkeypatch.setattr(catalog_search, "_box_rows", counted)
    catalog = Catalog(tmp_path / "data", include_builtin=False)
    found = catalog.tracks(Query(targets=((odd, 0.5), (0.1, 0.1)), limit=5))
    assert len(found) == 5
    assert asked  # the queried path ran


@pytest.mark.parametrize(("count", "queried"), [(50, False), (51, True)])
def test_a_catalog_is_queried_only_above_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, queried: bool
) -> None:
    import_random_tracks(tmp_path / "data", count)
    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    catalog = Catalog(tmp_path / "data", include_builtin=False)
    assert bool(catalog._current_index().queried) is queried
    assert catalog.track_count == count
    assert len(catalog.tracks(Query(targets=((0.5, 0.5),), limit=count + 5))) == count


def test_a_search_during_an_import_sees_the_catalog_as_it_was(tmp_path: Path) -> None:
    """Another process writing the user database must not lock searches (or opening it) out.

    An import big enough to spill its pages into the file holds an exclusive lock to its end (a
    million tracks: the last 20 s); ``BEGIN EXCLUSIVE`` does the same here at once.
    """
    import_random_tracks(tmp_path / "data", 20)
    running = Catalog(tmp_path / "data", include_builtin=False)
    assert running.track_count == 20
    writer = sqlite3.connect(tmp_path / "data" / USER_DB_NAME, isolation_level=None, timeout=0.1)
    try:
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute(
            "INSERT INTO tracks (key, title, artist, valence, energy, origin) VALUES (?, ?, ?, ?, ?, ?)",
            ("new", "New", "N", 0.5, 0.5, "import"),
        )
        opened = Catalog(tmp_path / "data", include_builtin=False)  # a worker starting meanwhile
        for catalog in (running, opened):
            assert "New" not in titles(catalog, Query(targets=((0.5, 0.5),), limit=50))
            assert catalog.track_count == 20
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert titles(running, Query(targets=((0.5, 0.5),), limit=1)) == ["New"]
    assert running.track_count == opened.track_count == 21
