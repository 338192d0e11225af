"""``moodtape train``: a one-epoch run through the CLI, and a clear message without PyTorch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from fer_faces import synthetic_face
from moodtape.cli import cli
from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError


def test_without_torch_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Hide PyTorch: `import torch` now fails as it does where the train extra is not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in ("moodtape.training.trainer", "moodtape.training.augment", "moodtape.training.network"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    # Installed from the package index (a checkout is told its own command: test_train36_install_hint.py).
    monkeypatch.setattr("moodtape.cli.train._editable_checkout", lambda: None)
    result = CliRunner().invoke(cli, ["train", str(tmp_path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == "moodtape: error: training needs PyTorch (torch is missing): pip install 'moodtape[train]'"


@pytest.mark.slow
def test_one_epoch_trains_and_exports(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    data = tmp_path / "fer"
    rng = np.random.default_rng(1)
    for split, count in (("train", 5), ("publictest", 2)):
        for label, name in enumerate(EMOTIONS):
            (data / split / name).mkdir(parents=True)
            for i in range(count):
                cv2.imwrite(str(data / split / name / f"{i}.png"), synthetic_face(label, rng))
    out = tmp_path / "run"
    args = ["train", str(data), "--out", str(out), "--epochs", "1", "--width", "8", "--batch-size", "16"]
    result = CliRunner().invoke(cli, [*args, "--threads", "1", "--precision", "fp32", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # progress and messages go to stderr
    assert "epoch   1/1" in result.stderr
    assert f"exported {out / 'emotion.onnx'}" in result.stderr
    report = json.loads((out / "calibration.json").read_text(), parse_constant=reject_non_json)
    assert report["parity_max_abs_diff"] <= 1e-4
    # So few, so briefly trained faces are all below the uncertainty threshold: no accuracy to report.
    assert report["uncertain_share"] == 1.0
    assert report["accuracy_when_certain"] is None

    # The same run exported again as a one-view model, somewhere else.
    result = CliRunner().invoke(cli, ["export", str(data), str(out), "--out", str(tmp_path / "plain"), "--no-flip"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "plain" / "calibration.json").read_text())["passes"] == ["0:face"]

    # And with named passes, one of them zoomed.
    zoomed = ["export", str(data), str(out), "--out", str(tmp_path / "zoomed"), "--passes", "0:face,0:mirror@1.05"]
    result = CliRunner().invoke(cli, zoomed)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "zoomed" / "calibration.json").read_text())["passes"] == ["0:face", "0:mirror@1.05"]
    result = CliRunner().invoke(cli, ["export", str(data), str(out), "--passes", "0:face,1:face"])
    assert isinstance(result.exception, DataError) and "there is only network 0" in str(result.exception)
    result = CliRunner().invoke(cli, ["export", str(data), str(out), "--passes", ""])
    assert isinstance(result.exception, DataError) and "cannot read the pass ''" in str(result.exception)


def test_export_of_a_folder_without_a_checkpoint_is_a_model_error(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from moodtape.errors import ModelError

    result = CliRunner().invoke(cli, ["export", str(tmp_path), str(tmp_path)])
    assert isinstance(result.exception, ModelError)  # the entry point prints it as one line, exit 1
    assert "best.pt not found" in str(result.exception)


def reject_non_json(constant: str) -> None:
    raise AssertionError(f"calibration.json holds {constant}, which is not JSON")


def test_missing_dataset_raises_a_dataset_error(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from moodtape.errors import DatasetError

    result = CliRunner().invoke(cli, ["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")])
    assert isinstance(result.exception, DatasetError)
    assert "train/ folder" in str(result.exception)
