"""``moodtape evaluate``: scores on a generated dataset, as text or JSON, plus the confusion-matrix PNG."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest
from cli_helpers import assert_one_line_error, run_moodtape
from click.testing import CliRunner

from moodtape.cli import cli
from moodtape.emotions import EMOTIONS


@pytest.fixture
def faces(make_face_folder: Callable[..., Path]) -> Path:
    return make_face_folder(per_class=2)


def test_json_scores_and_plot(faces: Path, tmp_path: Path) -> None:
    plot = tmp_path / "plots" / "cm.png"
    result = CliRunner().invoke(cli, ["evaluate", str(faces), "--json", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()  # stdout holds only the JSON
    scores = json.loads(line)
    assert {"n", "accuracy", "per_class"} <= set(scores)
    assert scores["n"] == 14  # every image counts: no detection
    assert 0 <= scores["accuracy"] <= 1
    assert list(scores["per_class"]) == list(EMOTIONS)
    for label_scores in scores["per_class"].values():
        assert set(label_scores) == {"precision", "recall", "f1", "support"}
        # precision is null (undefined) for a class the model never predicted
        assert all(label_scores[k] is None or 0 <= label_scores[k] <= 1 for k in ("precision", "recall", "f1"))
        assert label_scores["support"] == 2
    correct = sum(s["recall"] * s["support"] for s in scores["per_class"].values())
    assert correct / scores["n"] == pytest.approx(scores["accuracy"], abs=1e-5)
    image = cv2.imread(str(plot))
    assert image is not None and image.shape[0] > 100
    assert f"wrote {plot}" in result.stderr


def test_text_report(faces: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", str(faces), "--plot", str(tmp_path / "cm.png")])
    assert result.exit_code == 0, result.output
    assert "n = 14" in result.stdout
    assert "confusion matrix" in result.stdout
    assert all(label in result.stdout for label in EMOTIONS)


def test_csv_split(tmp_path: Path) -> None:
    pixels = " ".join(["128"] * 2304)
    csv = tmp_path / "fer2013.csv"
    csv.write_text(f"emotion,pixels,Usage\n3,{pixels},Training\n4,{pixels},PublicTest\n6,{pixels},PublicTest\n")
    plot = tmp_path / "cm.png"
    for split, n in (("publictest", 2), ("train", 1), ("all", 3)):
        result = CliRunner().invoke(cli, ["evaluate", str(csv), "--split", split, "--json", "--plot", str(plot)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["n"] == n


@pytest.mark.slow
def test_missing_dataset_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run_moodtape("evaluate", tmp_path / "nowhere", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "dataset not found", "nowhere")
    assert not (tmp_path / "confusion-matrix.png").exists()
