"""``moodtape calibrate`` with the slips people make: a photo that cannot be read, one photo for two emotions."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import assert_one_line_error, run_moodtape


def test_a_photo_that_cannot_be_read_is_named_once(tmp_path: Path) -> None:
    broken = tmp_path / "me.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    result = run_moodtape("calibrate", f"neutral={broken}", "--out", tmp_path / "me.json")
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, str(broken))
    assert result.stderr.count(str(broken)) == 1, result.stderr
    assert not (tmp_path / "me.json").exists()


def test_one_photo_for_two_emotions_is_refused(tmp_path: Path, astronaut_jpeg: Path) -> None:
    out = tmp_path / "me.json"
    result = run_moodtape("calibrate", f"neutral={astronaut_jpeg}", f"happy={astronaut_jpeg}", "--out", out)
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, str(astronaut_jpeg), "given as neutral and as happy")
    assert not out.exists()
