"""Folders without pictures, and ``-`` named twice: each refused in words that say what happened."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import assert_one_line_error, run_moodtape
from click.testing import CliRunner

from moodtape.cli import cli


def test_a_folder_without_pictures_is_named_as_such_and_the_batch_goes_on(tmp_path: Path, astronaut_jpeg: Path) -> None:
    """It was "is a folder, not an image", though the help says an IMAGE may be a folder."""
    photos = tmp_path / "photos"
    (photos / "older").mkdir(parents=True)  # pictures one level down are not read
    (photos / "older" / "me.jpg").write_bytes(astronaut_jpeg.read_bytes())
    (photos / "notes.txt").write_text("holiday")
    result = CliRunner().invoke(cli, ["analyze", "--json", str(photos), str(astronaut_jpeg)])
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["image"] == str(photos)
    assert "a folder with no picture directly in it" in first["error"]
    assert ".jpg" in first["error"] and "not sub-folders" in first["error"]
    assert second["image"] == str(astronaut_jpeg) and second["faces"][0]["emotion"] == "happy"


def test_calibrate_names_a_folder_without_pictures_before_reading_any_photo(
    tmp_path: Path, astronaut_jpeg: Path
) -> None:
    rest = tmp_path / "rest"
    rest.mkdir()
    out = tmp_path / "me.json"
    result = run_moodtape("calibrate", f"neutral={astronaut_jpeg}", f"happy={rest}", "--out", out)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, str(rest), "a folder with no picture directly in it")
    assert not out.exists()


def test_standard_input_named_twice_is_refused_before_any_picture(astronaut_jpeg_bytes: bytes) -> None:
    """The second ``-`` read nothing, and the picture was reported as "<stdin>: empty file"."""
    result = CliRunner().invoke(cli, ["analyze", "--json", "-", "-"], input=astronaut_jpeg_bytes)
    assert result.exit_code == 2
    assert "standard input" in result.stderr and "once" in result.stderr
    assert result.stdout == ""


def test_recommend_still_says_a_folder_is_not_an_image(tmp_path: Path) -> None:
    """``recommend --image`` takes one picture, never a folder: its message stays what it was."""
    result = run_moodtape("recommend", "--image", tmp_path)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, str(tmp_path), "is a folder, not an image")


def test_an_unreadable_file_is_named_and_the_batch_goes_on(
    tmp_path: Path, astronaut_jpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Click's readability check refused the whole command (exit 2) and no picture was analyzed.

    The file is made unreadable by patching, as tests may run as root, whom ``chmod 0`` does not stop.
    """
    locked = tmp_path / "locked.jpg"
    locked.write_bytes(astronaut_jpeg.read_bytes())
    real_access, real_open = os.access, Path.open

    def access(path: object, mode: int, *args: object, **kwargs: object) -> bool:
        return False if os.fspath(path) == str(locked) else real_access(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    def open_file(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(Path, "open", open_file)
    result = CliRunner().invoke(cli, ["analyze", "--json", str(locked), str(astronaut_jpeg)])
    assert result.exit_code == 1, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"image": str(locked), "error": f"{locked}: cannot read (Permission denied)"}
    assert second["faces"][0]["emotion"] == "happy"
