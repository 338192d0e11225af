"""``moodtape calibrate`` with several bad photos at once, and ``--profile`` pointing at no profile."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from cli_helpers import assert_one_line_error, run_moodtape
from click.testing import CliRunner

from moodtape.cli import cli


def test_every_bad_photo_is_named_in_one_run(tmp_path: Path, astronaut_jpeg: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    wall = tmp_path / "mon mur.png"
    cv2.imwrite(str(wall), np.full((240, 320), 90, dtype=np.uint8))
    missing = tmp_path / "gone=away.jpg"  # "=" in the value: the first "=" ends the emotion
    out = tmp_path / "me.json"
    out.write_text("earlier profile\n")
    result = run_moodtape(
        "calibrate", f"neutral={astronaut_jpeg}", f"neutral={broken}", f"happy={wall}", f"sad={missing}", "--out", out
    )
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, "3 of 4 photos", str(broken), str(wall), str(missing), "nothing was written")
    problems = [line for line in result.stderr.splitlines() if line.startswith("moodtape: unusable: ")]
    assert len(problems) == 3, result.stderr
    assert "truncated or corrupt" in problems[0] and str(broken) in problems[0]
    assert "no face found" in problems[1] and str(wall) in problems[1]
    assert "not found" in problems[2] and str(missing) in problems[2]
    assert out.read_text() == "earlier profile\n"


def test_a_profile_of_megabytes_is_refused_by_its_size(tmp_path: Path, astronaut_jpeg: Path) -> None:
    made = tmp_path / "me.json"
    result = CliRunner().invoke(cli, ["calibrate", f"neutral={astronaut_jpeg}", "--out", str(made)])
    assert result.exit_code == 0, result.output
    padded = tmp_path / "padded.json"  # a valid profile edited by hand to 10 MB
    padded.write_text(json.dumps({**json.loads(made.read_text()), "notes": ["x" * 1000] * 10_000}))
    result = run_moodtape("analyze", astronaut_jpeg, "--profile", padded)
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, str(padded), "larger than 1 MB", "--profile")


def test_out_naming_a_photo_given_is_refused_and_the_photo_kept(tmp_path: Path, astronaut_jpeg: Path) -> None:
    photo = astronaut_jpeg.read_bytes()
    through_a_link = tmp_path / "link.jpg"
    through_a_link.symlink_to(astronaut_jpeg)
    for given in (astronaut_jpeg, through_a_link):
        result = CliRunner().invoke(cli, ["calibrate", f"neutral={given}", "--out", str(astronaut_jpeg)])
        assert result.exit_code != 0, result.output
        assert "one of the photos to calibrate from" in str(result.exception), result.output
        assert astronaut_jpeg.read_bytes() == photo


def test_out_named_like_a_picture_is_refused(tmp_path: Path, astronaut_jpeg: Path) -> None:
    out = tmp_path / "me.JPG"
    result = run_moodtape("calibrate", f"neutral={astronaut_jpeg}", "--out", out)
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, str(out), "named like a picture", "--out me.json")
    assert not out.exists()


def test_a_damaged_profile_is_named_by_its_path(tmp_path: Path, astronaut_jpeg: Path) -> None:
    """A profile that loads as JSON but fails its checks says which --profile file it was."""
    made = tmp_path / "me.json"
    result = CliRunner().invoke(cli, ["calibrate", f"neutral={astronaut_jpeg}", "--out", str(made)])
    assert result.exit_code == 0, result.output
    damaged = tmp_path / "edited by hand.json"
    damaged.write_text(json.dumps({**json.loads(made.read_text()), "baseline": [0.0, 1.0]}))
    result = run_moodtape("analyze", astronaut_jpeg, "--profile", damaged)
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr, str(damaged))
