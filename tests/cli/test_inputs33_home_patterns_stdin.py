"""Folders and patterns under ``~``, a matched file called ``-``, and a Windows path taken as written:
what the command line expands before any picture is read."""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from tests.cli.cli_helpers import run_moodtape

from moodtape.cli._pictures import expand_patterns, refuse_unmatched_pattern
from moodtape.cli.calibrate import parse_examples
from moodtape.errors import ImageError


def _picture(path: Path, size: tuple[int, int] = (20, 20)) -> None:
    Image.new("RGB", size, (90, 90, 90)).save(path, format="PNG")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own (``$HOME``, so the commands run here see it too) with
    ``~/photos/`` holding two small pictures and one text file; the current folder is elsewhere."""
    folder = tmp_path / "home"
    (folder / "photos").mkdir(parents=True)
    for name in ("rest1.png", "rest2.png"):
        _picture(folder / "photos" / name)
    (folder / "photos" / "notes.txt").write_text("not a picture")
    monkeypatch.setenv("HOME", str(folder))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return folder


def _images(stdout: str) -> list[str]:
    return [line.split('"')[3] for line in stdout.splitlines()]


@pytest.mark.parametrize("given", ["~/photos/", "~/photos/rest*.png"], ids=["folder", "pattern"])
def test_analyze_reads_a_home_folder_or_pattern(home: Path, given: str) -> None:
    done = run_moodtape("analyze", given, "--json", "--detector", "haar", cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    assert _images(done.stdout) == [str(home / "photos" / "rest1.png"), str(home / "photos" / "rest2.png")]


@pytest.mark.parametrize("given", ["~/photos/", "~/photos/*.png"], ids=["folder", "pattern"])
def test_calibration_examples_read_a_home_folder_or_pattern(home: Path, given: str) -> None:
    assert parse_examples((f"neutral={given}",)) == {
        "neutral": [str(home / "photos" / "rest1.png"), str(home / "photos" / "rest2.png")]
    }


def test_a_home_pattern_that_matches_nothing_names_where_it_looked(home: Path) -> None:
    with pytest.raises(ImageError, match=f"{home / 'gone'}.*: no file matches this pattern"):
        parse_examples(("neutral=~/gone/*.png",))


def test_a_folder_called_tilde_here_is_read_before_the_home_folder(home: Path) -> None:
    (Path.cwd() / "~" / "photos").mkdir(parents=True)
    _picture(Path.cwd() / "~" / "photos" / "here.png")
    assert expand_patterns(("~/photos/*.png", "~/photos/")) == ("~/photos/here.png", "~/photos/")


def test_a_matched_file_called_dash_is_no_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _picture(tmp_path / "-")
    monkeypatch.chdir(tmp_path)
    assert expand_patterns(("?",)) == ("./-",)
    assert expand_patterns(("-",)) == ("-",)  # named as such, it still stands for standard input


def test_analyze_reads_standard_input_and_a_matched_file_called_dash(tmp_path: Path) -> None:
    _picture(tmp_path / "-", size=(30, 10))
    piped = BytesIO()
    Image.new("RGB", (12, 12)).save(piped, format="PNG")
    command = [sys.executable, "-c", "from moodtape.cli import main; main()"]
    done = subprocess.run(
        [*command, "analyze", "-", "[-]", "--json", "--detector", "haar"],
        input=piped.getvalue(),
        capture_output=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert _images(done.stdout.decode()) == ["<stdin>", "./-"]


@pytest.mark.parametrize("given", [r"\\?\C:\gone.jpg", r"\\?\UNC\server\share\gone.jpg"])
def test_a_windows_path_taken_as_written_is_no_pattern(given: str) -> None:
    assert expand_patterns((given,)) == (given,)
    refuse_unmatched_pattern(given)  # left to "file not found", not "no file matches this pattern"


def test_a_pattern_after_a_windows_prefix_is_still_one() -> None:
    with pytest.raises(ImageError, match="no file matches this pattern"):
        refuse_unmatched_pattern(r"\\?\C:\photos\*.jpg")
