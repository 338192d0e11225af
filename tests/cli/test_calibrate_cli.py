"""``moodtape calibrate`` and the ``--profile`` option of ``analyze`` and ``recommend``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from cli_helpers import assert_one_line_error, run_moodtape
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.cli.calibrate import parse_examples
from moodtape.errors import DataError


@pytest.fixture
def profile_file(tmp_path: Path, astronaut_jpeg: Path) -> Path:
    """The astronaut's smile declared as her resting face."""
    out = tmp_path / "me.json"
    result = CliRunner().invoke(cli, ["calibrate", f"neutral={astronaut_jpeg}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_calibrate_writes_a_small_profile(profile_file: Path) -> None:
    data = json.loads(profile_file.read_text())
    assert data["examples"] == {"neutral": 1}
    assert len(profile_file.read_bytes()) < 8_000


def test_calibrate_reports_what_it_learned(
    tmp_path: Path, astronaut_jpeg: Path, astronaut_bgr: npt.NDArray[np.uint8]
) -> None:
    # Her smile covered, she reads as resting: a smile given as neutral would teach no expressions.
    covered = astronaut_bgr.copy()
    covered[127:166, 183:262] = np.median(astronaut_bgr[61:172, 167:278], axis=(0, 1)).astype(np.uint8)
    dimmed = tmp_path / "dim.png"
    cv2.imwrite(str(dimmed), (covered * 0.6).astype(np.uint8))
    out = tmp_path / "me.json"
    result = CliRunner().invoke(cli, ["calibrate", f"neutral={dimmed}", f"happy={astronaut_jpeg}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: baseline and expression prototypes from happy 1, neutral 1" in result.stderr
    assert set(json.loads(out.read_text())["prototypes"]) == {"neutral", "happy"}


def test_analyze_with_a_profile_reads_through_it(astronaut_jpeg: Path, profile_file: Path) -> None:
    plain = CliRunner().invoke(cli, ["analyze", "--json", str(astronaut_jpeg)])
    calibrated = CliRunner().invoke(cli, ["analyze", "--json", str(astronaut_jpeg), "--profile", str(profile_file)])
    assert calibrated.exit_code == 0, calibrated.output
    before = json.loads(plain.stdout)["faces"][0]["probabilities"]
    after = json.loads(calibrated.stdout)["faces"][0]["probabilities"]
    assert after["neutral"] > before["neutral"]


def test_recommend_with_a_profile(astronaut_jpeg: Path, profile_file: Path) -> None:
    result = CliRunner().invoke(
        cli, ["recommend", "--image", str(astronaut_jpeg), "--profile", str(profile_file), "--n", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3


def test_parse_examples_groups_repeated_emotions() -> None:
    assert parse_examples(("neutral=a.jpg", "Happy=b.jpg", "neutral=c.jpg")) == {
        "neutral": ["a.jpg", "c.jpg"],
        "happy": ["b.jpg"],
    }
    with pytest.raises(DataError, match=r"neutral=me\.jpg"):
        parse_examples(("me.jpg",))


def test_a_folder_of_photos_counts_each_photo(tmp_path: Path, astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    rest = tmp_path / "rest"
    rest.mkdir()
    for name, scale in (("1.png", 0.6), ("2.png", 0.7), ("notes.txt", None)):
        if scale is None:
            (rest / name).write_text("not a photo")
        else:
            cv2.imwrite(str(rest / name), (astronaut_bgr * scale).astype(np.uint8))
    assert parse_examples((f"neutral={rest}",)) == {"neutral": [str(rest / "1.png"), str(rest / "2.png")]}
    out = tmp_path / "me.json"
    result = CliRunner().invoke(cli, ["calibrate", f"neutral={rest}", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["examples"] == {"neutral": 2}


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["calibrate", "happy={image}", "--out", "{tmp}/p.json"], ["neutral photo"]),
        (["calibrate", "neutral={image}", "joy={image}", "--out", "{tmp}/p.json"], ["unknown emotion", "'joy'"]),
        (["calibrate", "neutral={blank}", "--out", "{tmp}/p.json"], ["no face found in", "blank.png"]),
        (["calibrate", "neutral={image}", "--out", "{tmp}/nowhere/p.json"], ["does not exist"]),
        (["calibrate", "me.jpg", "--out", "{tmp}/p.json"], ["EMOTION=IMAGE"]),
        (["analyze", "{image}", "--profile", "{tmp}/missing.json"], ["cannot read the profile", "moodtape calibrate"]),
        (["analyze", "{image}", "--profile", "{image}"], ["not valid JSON"]),
        (["analyze", "{image}", "--profile", "{foreign}"], ["different emotion model"]),
        (["recommend", "happy", "--profile", "{foreign}"], ["--profile reads the faces in --image"]),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, astronaut_jpeg: Path, profile_file: Path, args: list[str], fragments: list[str]
) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320), 90, dtype=np.uint8))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({**json.loads(profile_file.read_text()), "model_id": "0" * 64}))
    values = {"image": astronaut_jpeg, "blank": blank, "tmp": tmp_path, "foreign": foreign}
    result = run_moodtape(*(arg.format(**values) for arg in args))
    assert result.returncode != 0
    assert_one_line_error(result.stderr.replace("Error: ", "moodtape: error: "), *fragments)
