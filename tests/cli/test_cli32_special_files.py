"""``moodtape analyze`` on what is no picture file: an empty name, and standard input without end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.vision.image_sources import max_file_bytes


def test_an_empty_name_is_not_the_current_folder(astronaut_jpeg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``moodtape analyze "$PHOTO" me.jpg`` with PHOTO unset read every picture in the current folder."""
    monkeypatch.chdir(astronaut_jpeg.parent)
    result = CliRunner().invoke(cli, ["analyze", "", str(astronaut_jpeg), "--json"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == ["", str(astronaut_jpeg)]
    assert "empty path" in lines[0]["error"]
    assert lines[1]["faces"]
    assert result.exit_code == 1


def test_standard_input_is_read_only_as_far_as_a_picture_goes(tmp_path: Path) -> None:
    """``moodtape analyze - < /dev/zero`` read until memory ran out; a sparse file stands in for it."""
    endless = tmp_path / "zeros"
    with endless.open("wb") as file:
        file.truncate(max_file_bytes(1) + 1)
    with endless.open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-c", "from moodtape.cli import main; main()", "analyze", "-", "--json"],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "MOODTAPE_MAX_PIXELS": "1"},
        )
    assert result.returncode == 1
    line = json.loads(result.stdout)
    assert line["image"] == "<stdin>"
    assert "<stdin>: over 67 MB" in line["error"]
    assert "is it a picture" in line["error"]
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell closes standard input")
def test_standard_input_closed_is_a_clear_error() -> None:
    """``moodtape analyze - <&-``: Python has no ``sys.stdin`` then, and the command ended in a traceback."""
    script = 'exec "$0" -c "from moodtape.cli import main; main()" analyze - --json <&-'
    result = subprocess.run(["sh", "-c", script, sys.executable], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    line = json.loads(result.stdout)
    assert line["image"] == "<stdin>"
    assert "standard input is closed" in line["error"]
    assert "Traceback" not in result.stderr
