"""A large catalog used by a running server: searches beside a digest, the -wal file, read-only folders.

Before: ``digest()`` (``/readyz`` with instances sharing Redis) held the catalog's lock while it
hashed every track, so a search waited for it (12.9 s on 300,000 tracks); searches of a small,
held catalog waited for each other; ``catalog.db-wal`` stayed as large as the last import while a
server ran (28 MB after 200,000 tracks); a catalog in WAL mode could not be opened from a folder
this process cannot write ("unable to open database file"); and each genre filter ever asked of
a large catalog stayed in memory. Here ``HELD_TRACKS_LIMIT`` is lowered so a few hundred tracks
count as large; threads wait on events, never on the clock, except a generous bound that keeps a
regression from hanging the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodtape.providers import catalog as catalog_module
from moodtape.providers import catalog_search
from moodtape.providers.base import Query
from moodtape.providers.catalog import USER_DB_NAME, Catalog

#: Long enough for any machine to finish a search of a few hundred tracks; only a regression waits this.
BOUND_S = 20.0
QUERY = Query(targets=((0.2, 0.3), (0.8, 0.6)), limit=10)


def write_csv(path: Path, count: int, *, first: int = 0) -> Path:
    lines = ["name,artist,valence,energy,genre"]
    genres = ("rock", "jazz", "pop", "folk", "")
    for i in range(first, first + count):
        lines.append(f"Song {i},Artist {i},{(i * 37 % 1000) / 1000:.3f},{(i * 61 % 1000) / 1000:.3f},{genres[i % 5]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder whose catalog.db (300 tracks) counts as large."""
    folder = tmp_path / "data"
    with Catalog(folder, include_builtin=False) as catalog:
        catalog.import_csv(write_csv(tmp_path / "tracks.csv", 300))
    monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)
    return folder


def run_in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    return thread, result


def test_a_search_runs_while_the_digest_is_made(large: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog(large, include_builtin=False)
    assert catalog._current_index().queried
    expected = [t.title for t in catalog.tracks(QUERY)]
    hashing, search_done = threading.Event(), threading.Event()
    digest_thread: list[threading.Thread] = []
    real = catalog_module.row_to_track

    def paused(row: Any) -> Any:
        if digest_thread and threading.current_thread() is digest_thread[0] and not hashing.is_set():
            hashing.set()  # the digest is reading its tracks: hold it there until the search is done
            search_done.wait(BOUND_S)
        return real(row)

    monkeypatch.setattr(catalog_module, "row_to_track", paused)
    thread, digest = run_in_thread(catalog.digest)
    digest_thread.append(thread)
    assert hashing.wait(BOUND_S)
    search, found = run_in_thread(lambda: [t.title for t in catalog.tracks(QUERY)])
    search.join(BOUND_S)
    finished = not search.is_alive()
    search_done.set()
    thread.join(BOUND_S)
    assert finished, "the search waited for the digest"
    assert found == [expected]
    assert digest == [Catalog(large, include_builtin=False).digest()]


def test_the_digest_is_of_the_catalog_after_an_import_made_meanwhile(large: Path, tmp_path: Path) -> None:
    """The digest is read apart from the index; an import committed in between must not be mixed in."""
    catalog = Catalog(large, include_builtin=False)
    real = catalog._make_digest
    imported: list[int] = []

    def import_first(index: Any) -> str:
        if not imported:
            with Catalog(large, include_builtin=False) as other:
                imported.append(other.import_csv(write_csv(tmp_path / "more.csv", 5, first=1000)).added)
        return real(index)

    catalog._make_digest = import_first  # type: ignore[method-assign]
    made = catalog.digest()
    assert imported == [5]
    assert catalog.track_count == 305
    assert made == Catalog(large, include_builtin=False).digest()


def test_searches_of_a_held_catalog_run_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.builtin()
    assert not catalog._current_index().queried
    inside, second_done = threading.Event(), threading.Event()
    real = catalog_module.nearest

    def paused(*args: Any) -> list[int]:
        if not inside.is_set():
            inside.set()  # the first search ranks: hold it until the second has answered
            second_done.wait(BOUND_S)
        return real(*args)

    monkeypatch.setattr(catalog_module, "nearest", paused)
    first, _ = run_in_thread(lambda: catalog.tracks(QUERY))
    assert inside.wait(BOUND_S)
    second, found = run_in_thread(lambda: catalog.tracks(QUERY))
    second.join(BOUND_S)
    finished = not second.is_alive()
    second_done.set()
    first.join(BOUND_S)
    assert finished, "the second search waited for the first"
    assert len(found[0]) == QUERY.limit


def test_an_import_leaves_no_large_wal_file_beside_a_running_server(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with Catalog(folder, include_builtin=False) as seed:
        seed.import_csv(write_csv(tmp_path / "seed.csv", 1))
    server = Catalog(folder, include_builtin=False)
    assert server.tracks(QUERY)
    with Catalog(folder, include_builtin=False) as importer:
        assert importer.import_csv(write_csv(tmp_path / "big.csv", 3000, first=10)).added == 3000
        wal = folder / f"{USER_DB_NAME}-wal"
        assert not wal.exists() or wal.stat().st_size == 0, f"-wal holds {wal.stat().st_size:,} bytes"
    assert server.track_count == 3001
    server.close()


@pytest.fixture
def read_only_folder(large: Path) -> Iterator[Path]:
    if os.geteuid() == 0:
        pytest.skip("root can write any folder: chmod makes none read-only")
    large.chmod(0o555)
    try:
        yield large
    finally:
        large.chmod(0o755)


def test_a_wal_catalog_opens_from_a_folder_that_cannot_be_written(read_only_folder: Path) -> None:
    assert not (read_only_folder / f"{USER_DB_NAME}-wal").exists()  # closed cleanly, as a copy or image holds it
    for catalog in (
        Catalog(read_only_folder, include_builtin=False),
        Catalog.from_file(read_only_folder / USER_DB_NAME),
    ):
        assert catalog.track_count == 300
        assert len(catalog.tracks(QUERY)) == QUERY.limit
        assert catalog.digest() == catalog.digest()


def test_a_large_catalog_keeps_only_the_genre_filters_used_last(large: Path) -> None:
    catalog = Catalog(large, include_builtin=False)
    held = Catalog.from_items(catalog.all_tracks())
    filters = [(genre,) for genre in ("rock", "jazz", "pop", "folk")] + [
        (f"genre {i}", "rock") for i in range(3 * catalog_search.GENRE_FILTERS_KEPT)
    ]
    for genres in [*filters, filters[0]]:  # the first again, read anew once dropped
        query = Query(targets=((0.4, 0.6), (0.9, 0.1)), genres=genres, limit=15)
        assert [t.title for t in catalog.tracks(query)] == [t.title for t in held.tracks(query)]
    kept = catalog._current_index().queried_genres
    assert len(kept) == catalog_search.GENRE_FILTERS_KEPT
    assert list(kept)[-1] == ("user", catalog_search.wanted_labels(filters[0]))
