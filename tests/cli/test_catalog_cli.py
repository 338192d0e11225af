"""``moodtape catalog import`` and ``moodtape catalog stats`` through click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from moodtape.cli import cli

Invoke = Callable[..., Result]

GOOD_CSV = "track_name,artists,track_id,valence,energy,tempo\nSong,Band,4uLU6hMCjMI75M1A2tKUQC,0.9,0.1,90\n"


@pytest.fixture
def run(tmp_path: Path) -> Invoke:
    """``run(args)`` → the click Result, with MOODTAPE_DATA_DIR in ``tmp_path/data``."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["catalog", *args], env={"MOODTAPE_DATA_DIR": str(tmp_path / "data")})

    return invoke


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_adds_tracks_and_says_where(run: Invoke, tmp_path: Path) -> None:
    result = run("import", write(tmp_path / "in.csv", GOOD_CSV))
    assert result.exit_code == 0, result.output
    assert f"added 1 track(s) from {tmp_path / 'in.csv'} to {tmp_path / 'data' / 'catalog.db'}" in result.output
    assert (tmp_path / "data" / "catalog.db").is_file()


def test_import_lists_skipped_rows_with_line_numbers(run: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", GOOD_CSV + "Bad,Band,,x,0.5,90\n")
    result = run("import", path)
    assert result.exit_code == 0
    assert "skipped 1 row(s):\n  line 3: valence must be a number, got 'x'" in result.output


def test_import_json_holds_only_json(run: Invoke, tmp_path: Path) -> None:
    result = run("import", write(tmp_path / "in.csv", GOOD_CSV + ",,,0.5,0.5,\n"), "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["added"] == 1
    assert payload["skipped"] == [{"line": 3, "reason": "a track needs a title and an artist"}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("name,artist,valence,energy\nA,B,9,0.5\n", "no valid rows"),
        ("song,singer\nA,B\n", "lacks required column"),
    ],
)
def test_import_errors_are_one_line_and_exit_1(run: Invoke, tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "in.csv"
    if content is not None:
        write(path, content)
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("moodtape: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_stats_describes_the_builtin_catalog_and_additions(run: Invoke, tmp_path: Path) -> None:
    run("import", write(tmp_path / "in.csv", GOOD_CSV))
    result = run("stats")
    assert result.exit_code == 0, result.output
    assert "tracks: 3,419 (deezer-mood 3,200 · curated 218 · import 1)" in result.stdout
    assert "videos: 219 (music 134" in result.stdout
    assert "mood-plane coverage (10×10 cells occupied): tracks " in result.stdout


def test_stats_json_and_plot(run: Invoke, tmp_path: Path) -> None:
    plot = tmp_path / "cover.png"
    result = run("stats", "--json", "--plot", str(plot))
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["tracks"] >= 3000 and stats["videos"] >= 150
    assert 0.0 < stats["track_coverage"] <= 1.0
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"wrote {plot}" in result.stderr


def test_stats_of_a_catalog_file(run: Invoke, tmp_path: Path) -> None:
    result = run("stats", "--catalog", write(tmp_path / "in.csv", GOOD_CSV), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tracks_by_origin"] == {"import": 1}


def test_stats_of_an_empty_catalog_file_is_an_error(run: Invoke, tmp_path: Path) -> None:
    result = run("stats", "--catalog", write(tmp_path / "in.csv", "name,artist,valence,energy\n"))
    assert result.exit_code == 1
    assert result.stderr == f"moodtape: error: {tmp_path / 'in.csv'} holds no valid tracks\n"
