"""``moodtape calibrate`` with more photos for an emotion than calibration reads says what to type.

Measured before: ``calibrate neutral=folder/`` with 101 pictures ended with the API's hint "in
Python, for a generator or a camera's frames: itertools.islice(frames, 100)", nothing a command-line
user can act on. Now the error says how many photos were given and to name fewer (a smaller folder,
a pattern that matches fewer), before the model loads; the API keeps its Python hint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, run_moodtape

from moodtape.errors import DataError
from moodtape.vision.calibrate import MAX_IMAGES_PER_EMOTION, calibrate


def _folder_of(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "rest"
    folder.mkdir()
    for index in range(count):
        (folder / f"{index:03}.jpg").write_bytes(b"\xff\xd8\xff\xe0 never read")
    return folder


def test_too_many_photos_for_an_emotion_are_refused_in_command_line_words(tmp_path: Path) -> None:
    folder = _folder_of(tmp_path, MAX_IMAGES_PER_EMOTION + 1)
    out = tmp_path / "me.json"
    result = run_moodtape("calibrate", f"neutral={folder}", "--out", out)
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, "101 photos given for neutral", "a smaller folder", "a pattern")
    assert "islice" not in result.stderr and "Python" not in result.stderr
    assert not out.exists()


def test_the_api_keeps_its_python_hint() -> None:
    with pytest.raises(DataError, match=r"itertools\.islice\(frames, 100\)"):
        calibrate({"neutral": iter([b"never read"] * (MAX_IMAGES_PER_EMOTION + 1))})
