"""``catalog import`` with hostile files: huge cells, long text, files in other encodings.

Before: a cell longer than the csv module's field limit (131,072 characters) ended the import
with a ``_csv.Error`` traceback; a 5,000-character "title" went into the catalog and every list
and export; a Latin-1 file was refused without saying where or why. Reading on after such a cell
imported rows from inside it (a quoted cell holds lines), so the reading now stops there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.errors import CatalogError
from moodtape.providers.catalog import Catalog
from moodtape.providers.catalog_import import MAX_TEXT, read_track_csv

HEADER = "name,artist,valence,energy,genre\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_a_cell_past_the_csv_field_limit_stops_the_reading_there(tmp_path: Path) -> None:
    huge = "x" * 200_000
    text = f"{HEADER}Before,A,0.5,0.5,rock\n{huge},A,0.5,0.5,rock\nAfter,B,0.4,0.6,rock\n"
    parsed = read_track_csv(write(tmp_path / "in.csv", text))
    assert [line for line, _ in parsed.rows] == [2]
    assert [(p.line, p.reason.endswith("rows from line 3 on not read")) for p in parsed.problems] == [(3, True)]


def test_rows_inside_a_huge_quoted_cell_are_never_imported(tmp_path: Path) -> None:
    """Before, the reader went on from inside the rejected cell: "Injected / FromCell" went in."""
    cell = '"' + "x" * 200_000 + '\nInjected,FromCell,0.9,0.9,\n"'
    text = f"{HEADER}Before,A,0.5,0.5,\n{cell},A,0.5,0.5,\nAfter,B,0.4,0.6,\n"
    catalog = Catalog(tmp_path / "data", include_builtin=False)
    report = catalog.import_csv(write(tmp_path / "in.csv", text))
    assert [t.title for t in catalog.all_tracks()] == ["Before"]
    assert report.added == 1
    assert [p.line for p in report.skipped] == [3]


def test_a_huge_header_cell_is_refused_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", f"{'h' * 200_000},artist,valence,energy\nSong,A,0.5,0.5\n")
    with pytest.raises(CatalogError, match=r"header row \(line 1\) is unreadable"):
        read_track_csv(path)


def test_the_cli_reports_a_huge_cell_instead_of_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", f"{HEADER}Kept,B,0.4,0.6,\n{'y' * 200_000},A,0.5,0.5,\nLost,C,0.4,0.6,\n")
    result = CliRunner().invoke(
        cli, ["catalog", "import", str(path)], env={"MOODTAPE_DATA_DIR": str(tmp_path / "data")}
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "added 1 track(s)" in result.output
    assert "line 3: unreadable row" in result.output
    assert "rows from line 3 on not read" in result.output


@pytest.mark.parametrize("column", ["title", "artist", "genre"])
def test_text_longer_than_max_text_skips_the_row(tmp_path: Path, column: str) -> None:
    cells = {"title": "Song", "artist": "Band", "genre": "rock"}
    cells[column] = "z" * (MAX_TEXT + 1)
    at_limit = "w" * MAX_TEXT
    text = f"{HEADER}{cells['title']},{cells['artist']},0.5,0.5,{cells['genre']}\n{at_limit},Band,0.5,0.5,rock\n"
    catalog = Catalog(tmp_path / "data", include_builtin=False)
    report = catalog.import_csv(write(tmp_path / "in.csv", text))
    assert report.added == 1
    assert [(p.line, f"{column} is {MAX_TEXT + 1:,} characters long" in p.reason) for p in report.skipped] == [
        (2, True)
    ]
    assert [t.title for t in catalog.all_tracks()] == [at_limit]


def test_a_latin1_file_is_refused_naming_its_first_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", f"{HEADER}Plain,A,0.5,0.5,\nPlain 2,B,0.5,0.5,\nCafé,C,0.5,0.5,\n", "latin-1")
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(line 4 is not; Latin-1"):
        read_track_csv(path)


def test_a_utf16_file_is_refused_saying_it_is_utf16(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", f"{HEADER}Café,A,0.5,0.5,\n", "utf-16")
    with pytest.raises(CatalogError, match=r"is UTF-16 text, not UTF-8"):
        read_track_csv(path)


def test_the_bad_line_of_a_file_with_a_utf8_bom_is_counted_right(tmp_path: Path) -> None:
    """Before, the BOM's 3 bytes shifted the count: the bad byte on line 3 was reported on line 2."""
    data = b"\xef\xbb\xbf" + b"title,artist,valence,energy\nOk,A,0.5,0.5\n\xe9,B,0.5,0.5\n"
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    with pytest.raises(CatalogError, match=r"line 3 is not"):
        read_track_csv(path)


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_a_utf32_file_is_refused_saying_it_is_utf32(tmp_path: Path, encoding: str) -> None:
    """Before, UTF-32 LE (whose BOM starts with UTF-16 LE's) was called UTF-16."""
    path = write(tmp_path / "in.csv", f"\ufeff{HEADER}Café,A,0.5,0.5,\n", encoding)
    with pytest.raises(CatalogError, match=r"is UTF-32 text, not UTF-8"):
        read_track_csv(path)
