"""The catalog's digest is made once, at import, and kept in the user database.

Before: every server process hashed every track of the user database for ``/readyz`` (14–22 s for
a million tracks), after start and after each import, and nothing was kept. Now the import stores
the digest in ``meta`` in its own transaction, triggers on ``tracks`` delete it in any later
writer's transaction, and a process reads it. Each stored value is checked against the old
computation: :func:`items_digest` over every track and video, in order. ``HELD_TRACKS_LIMIT`` is
lowered where a few hundred tracks must count as large (read through the mood index).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodtape.errors import CatalogError
from moodtape.providers import catalog as catalog_module
from moodtape.providers import catalog_search
from moodtape.providers.catalog import USER_DB_NAME, Catalog
from moodtape.providers.catalog_db import DIGEST_PREFIX, DIGEST_TRIGGERS
from moodtape.types import Track

SIZES = pytest.mark.parametrize("large", [False, True], ids=["held", "large"])
BUILTIN = pytest.mark.parametrize("builtin", [True, False], ids=["built-in+user", "user-only"])


def write_csv(path: Path, count: int, *, first: int = 0) -> Path:
    lines = ["name,artist,valence,energy,genre,tempo"]
    for i in range(first, first + count):
        lines.append(
            f"Song {i},Artist {i},{(i * 37 % 1000) / 1000:.3f},{(i * 61 % 1000) / 1000:.3f},rock,{90 + i % 50}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def old_digest(catalog: Catalog) -> str:
    """The digest as moodtape computed it before: every track, then every video, hashed in order."""
    return catalog_search.items_digest(itertools.chain(catalog.all_tracks(), catalog.all_videos()))


def kept(folder: Path) -> list[str]:
    """The digests ``catalog.db`` in ``folder`` keeps, read as another program would."""
    uri = (folder / USER_DB_NAME).as_uri() + ("" if os.access(folder, os.W_OK) else "?immutable=1")  # no -shm there
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = connection.execute("SELECT value FROM meta WHERE name LIKE ? ORDER BY name", (DIGEST_PREFIX + "%",))
        return [value for (value,) in rows]


def as_an_older_moodtape_left_it(folder: Path) -> None:
    """No stored digest and no triggers: what every moodtape before this one wrote."""
    with contextlib.closing(sqlite3.connect(folder / USER_DB_NAME)) as connection:
        for name in DIGEST_TRIGGERS:
            connection.execute(f"DROP TRIGGER IF EXISTS {name}")
        connection.execute("DELETE FROM meta WHERE name LIKE ?", (DIGEST_PREFIX + "%",))
        connection.commit()
    assert kept(folder) == []


def imported(folder: Path, csv: Path, *, builtin: bool = False) -> Path:
    with Catalog(folder, include_builtin=builtin) as catalog:
        assert catalog.import_csv(csv).added > 0
    return folder


def never_hash(*_: Any) -> str:
    raise AssertionError("every track was hashed again")


@pytest.fixture
def make_large(monkeypatch: pytest.MonkeyPatch) -> Any:
    def lower(large: bool) -> None:
        if large:
            monkeypatch.setattr(catalog_module, "HELD_TRACKS_LIMIT", 50)

    return lower


@SIZES
@BUILTIN
def test_an_import_stores_the_digest_the_old_computation_gives(
    tmp_path: Path, make_large: Any, large: bool, builtin: bool
) -> None:
    make_large(large)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300), builtin=builtin)
    catalog = Catalog(folder, include_builtin=builtin)
    assert bool(catalog._current_index().queried) is large
    assert kept(folder) == [old_digest(catalog)]
    assert catalog.digest() == old_digest(catalog)


def test_an_import_of_only_built_in_tracks_stores_the_built_in_catalogs_digest(tmp_path: Path) -> None:
    """Nothing added: the user database holds no track, and the digest is the built-in catalog's alone."""
    builtin = Catalog.builtin()
    known = builtin.all_tracks()[:3]
    rows = "".join(f"{t.title},{t.artist},{t.valence},{t.energy}\n" for t in known)
    (tmp_path / "known.csv").write_text("name,artist,valence,energy\n" + rows, encoding="utf-8")
    folder = tmp_path / "data"
    with Catalog(folder) as catalog:
        assert catalog.import_csv(tmp_path / "known.csv").added == 0
    assert kept(folder) == [old_digest(builtin)] == [builtin.digest()]


@SIZES
def test_a_process_reads_the_stored_digest_without_hashing_the_tracks(
    tmp_path: Path, make_large: Any, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    make_large(large)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300), builtin=True)
    expected = old_digest(Catalog(folder))
    monkeypatch.setattr(Catalog, "_make_digest", never_hash)
    monkeypatch.setattr(catalog_search, "items_digest", never_hash)
    assert Catalog(folder).digest() == expected


@SIZES
def test_a_database_from_an_older_moodtape_gets_its_digest_made_once_and_stored(
    tmp_path: Path, make_large: Any, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    make_large(large)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300), builtin=True)
    as_an_older_moodtape_left_it(folder)
    first = Catalog(folder)
    assert first.digest() == old_digest(first)
    assert kept(folder) == [old_digest(first)]
    with contextlib.closing(sqlite3.connect(folder / USER_DB_NAME)) as connection:
        triggers = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == set(DIGEST_TRIGGERS)
    monkeypatch.setattr(Catalog, "_make_digest", never_hash)
    assert Catalog(folder).digest() == first.digest()  # the next process reads it


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_only_catalog_file_reads_a_stored_digest_and_makes_a_missing_one_without_writing(
    tmp_path: Path, make_large: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_large(True)
    stored = imported(tmp_path / "stored", write_csv(tmp_path / "a.csv", 300))
    older = imported(tmp_path / "older", write_csv(tmp_path / "b.csv", 300))
    as_an_older_moodtape_left_it(older)
    before = file_digest(older / USER_DB_NAME)
    made = Catalog.from_file(older / USER_DB_NAME)  # attached mode=ro
    assert made.digest() == old_digest(made)
    made.close()
    assert kept(older) == [] and file_digest(older / USER_DB_NAME) == before
    expected = old_digest(Catalog(stored, include_builtin=False))
    monkeypatch.setattr(Catalog, "_make_digest", never_hash)
    assert Catalog.from_file(stored / USER_DB_NAME).digest() == expected


@pytest.fixture
def read_only_folders(tmp_path: Path, make_large: Any) -> Iterator[tuple[Path, Path]]:
    if os.geteuid() == 0:
        pytest.skip("root can write any folder: chmod makes none read-only")
    make_large(True)
    stored = imported(tmp_path / "stored", write_csv(tmp_path / "a.csv", 300))
    older = imported(tmp_path / "older", write_csv(tmp_path / "b.csv", 300))
    as_an_older_moodtape_left_it(older)
    for folder in (stored, older):
        folder.chmod(0o555)
    try:
        yield stored, older
    finally:
        for folder in (stored, older):
            folder.chmod(0o755)


def test_a_catalog_in_a_folder_that_cannot_be_written_reads_or_makes_its_digest(
    read_only_folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    stored, older = read_only_folders
    before = file_digest(older / USER_DB_NAME)
    made = Catalog(older, include_builtin=False)
    assert made.digest() == old_digest(made)
    made.close()
    assert kept(older) == [] and file_digest(older / USER_DB_NAME) == before
    expected = old_digest(Catalog(stored, include_builtin=False))
    monkeypatch.setattr(Catalog, "_make_digest", never_hash)
    assert Catalog(stored, include_builtin=False).digest() == expected


WRITES = {
    "insert": "INSERT INTO tracks (key, title, artist, valence, energy, origin) VALUES ('k', 'A', 'B', 0.5, 0.5, 'x')",
    "update": "UPDATE tracks SET valence = 0.999 WHERE title = 'Song 7'",
    "delete": "DELETE FROM tracks WHERE title = 'Song 7'",
}


@SIZES
@pytest.mark.parametrize("write", list(WRITES))
def test_any_write_to_the_tracks_drops_the_stored_digest_in_its_own_transaction(
    tmp_path: Path, make_large: Any, large: bool, write: str
) -> None:
    """As an older moodtape's import, or the sqlite3 shell, would write: knowing nothing of digests."""
    make_large(large)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300))
    server = Catalog(folder, include_builtin=False)
    before = server.digest()
    assert kept(folder) == [before]
    connection = sqlite3.connect(folder / USER_DB_NAME, isolation_level=None)
    connection.execute("BEGIN")
    connection.execute(WRITES[write])
    assert connection.execute("SELECT COUNT(*) FROM meta WHERE name LIKE 'items_digest:%'").fetchone() == (0,)
    connection.execute("ROLLBACK")
    assert kept(folder) == [before]  # undone with the write
    connection.execute(WRITES[write])
    connection.close()
    assert kept(folder) == []
    assert server.digest() == old_digest(server) != before  # the running process sees the change
    assert kept(folder) == [server.digest()]


@SIZES
def test_a_second_import_replaces_the_digest_a_running_process_then_reads(
    tmp_path: Path, make_large: Any, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    make_large(large)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300), builtin=True)
    Catalog(folder, include_builtin=False).digest()  # another context: stored beside the import's
    assert len(kept(folder)) == 2
    server = Catalog(folder)
    first = server.digest()
    imported(folder, write_csv(tmp_path / "b.csv", 20, first=5000), builtin=True)
    expected = old_digest(Catalog(folder))
    assert kept(folder) == [expected]  # the other context's digest went with the write
    monkeypatch.setattr(Catalog, "_make_digest", never_hash)
    assert server.digest() == expected != first


def test_a_failed_import_leaves_the_stored_digest_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 30), builtin=True)
    before = kept(folder)
    real = catalog_module.insert_tracks

    def half_then_fail(connection: sqlite3.Connection, rows: Any, database: str = "main") -> None:
        if database != "user":  # the built-in tracks, in memory
            return real(connection, rows, database)
        real(connection, list(rows)[:5], database)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(catalog_module, "insert_tracks", half_then_fail)
    with Catalog(folder) as catalog, pytest.raises(CatalogError, match="nothing was added"):
        catalog.import_csv(write_csv(tmp_path / "b.csv", 30, first=100))
    assert kept(folder) == before == [old_digest(Catalog(folder))]


def test_a_digest_made_while_an_import_commits_is_not_stored_as_the_new_catalogs(
    tmp_path: Path, make_large: Any
) -> None:
    make_large(True)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300))
    as_an_older_moodtape_left_it(folder)
    catalog = Catalog(folder, include_builtin=False)
    pre_import = old_digest(Catalog(folder, include_builtin=False))
    real = catalog._make_digest
    calls: list[int] = []

    def then_an_import(index: Any) -> str:
        """The tracks are hashed, then another process's import commits before the digest is stored."""
        made = real(index)
        if not calls:
            imported(folder, write_csv(tmp_path / "b.csv", 5, first=1000))
        calls.append(1)
        return made

    catalog._make_digest = then_an_import  # type: ignore[method-assign]
    made = catalog.digest()
    assert made == old_digest(Catalog(folder, include_builtin=False)) != pre_import
    assert kept(folder) == [made]


def test_a_stored_digest_serves_only_a_process_that_would_make_the_same(
    tmp_path: Path, make_large: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another built-in catalog (another release, or none), or tracks read otherwise, is another digest."""
    make_large(True)
    folder = imported(tmp_path / "data", write_csv(tmp_path / "a.csv", 300))
    without = kept(folder)
    with_builtin = Catalog(folder)
    assert with_builtin.digest() == old_digest(with_builtin) not in without
    assert len(kept(folder)) == 2
    real = catalog_search.row_to_track

    def read_otherwise(row: sqlite3.Row) -> Track:
        track = real(row)
        return dataclasses.replace(track, url=f"https://example.com/{track.title}")

    monkeypatch.setattr(catalog_search, "row_to_track", read_otherwise)
    monkeypatch.setattr(catalog_module, "row_to_track", read_otherwise)
    changed = Catalog(folder, include_builtin=False)  # no held track shows the change: the probe does
    assert changed.digest() == old_digest(changed) not in without
