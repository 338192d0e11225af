"""``moodtape convert`` through the real entry point: a working conversion, and for every bad
input a one-line error, a non-zero exit and no output file (not even a partial one)."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from moodtape.cli import main
from moodtape.vision.classifier import META_LABELS, META_PRESET, load_classifier

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
TUTORIAL = FIXTURES / "tutorial_k3.h5"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["moodtape", "convert", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_converts_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "tutorial.onnx"

    code, out, err = run(monkeypatch, capsys, str(TUTORIAL), str(target))

    assert code == 0
    assert out == ""
    assert "converted tutorial_k3.h5" in err and " ms" in err
    assert "11 layers" in err and "input 48×48×1" in err and "7 outputs" in err
    reference = np.load(FIXTURES / "tutorial_k3.npz")
    x = reference["inputs"].astype(np.float32) * np.float32(reference["scale"])
    session = ort.InferenceSession(target.read_bytes(), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.abs(got - reference["outputs"]).max() <= 1e-4
    assert not onnx.load(target).metadata_props  # nothing guessed into the file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tutorial.onnx"]


def test_stores_preset_and_labels_that_loading_then_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "m.onnx"
    order = "neutral,happy,sad,surprise,fear,disgust,angry"

    code, _, err = run(monkeypatch, capsys, str(TUTORIAL), str(target), "--preset", "fer-library", "--labels", order)

    assert code == 0, err
    props = {p.key: p.value for p in onnx.load(target).metadata_props}
    assert props[META_PRESET] == "fer-library"
    assert json.loads(props[META_LABELS]) == order.split(",")
    # A 48×48 model would be guessed as fer-tutorial; the stored preset wins.
    classifier = load_classifier(target, threads=1)
    assert classifier.preset.name == "fer-library"
    assert classifier.preset.labels == tuple(order.split(","))


def test_replaces_an_existing_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    code, _, _ = run(monkeypatch, capsys, str(TUTORIAL), str(target))
    assert code == 0
    onnx.checker.check_model(onnx.load(target))


def _not_hdf5(folder: Path) -> Path:
    path = folder / "fer.h5"
    path.write_text("hello")
    return path


def _keras_zip(folder: Path) -> Path:
    path = folder / "fer.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return path


def _weights_only(folder: Path) -> Path:
    path = folder / "weights.h5"
    shutil.copyfile(TUTORIAL, path)
    with h5py.File(path, "r+") as file:
        del file.attrs["model_config"]
    return path


def _truncated(folder: Path) -> Path:
    path = folder / "cut.h5"
    path.write_bytes(TUTORIAL.read_bytes()[:40_000])
    return path


def _missing_weights(folder: Path) -> Path:
    path = folder / "missing.h5"
    shutil.copyfile(TUTORIAL, path)
    with h5py.File(path, "r+") as file:
        del file["model_weights/dense_1"]
    return path


def _vector_input(folder: Path) -> Path:
    path = folder / "vector.h5"
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "v",
            "layers": [
                {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 2304]}},
                {"class_name": "Dense", "config": {"name": "out", "units": 7}},
            ],
        },
    }
    with h5py.File(path, "w") as file:
        file.attrs["model_config"] = json.dumps(config)
        file.create_group("model_weights")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_not_hdf5, "fer.h5 is not an HDF5 file"),
        (_keras_zip, 'keras.models.load_model("fer.keras").save("fer.h5")'),
        (
            _weights_only,
            'no model config (a weights-only file); moodtape needs the whole model: save it with model.save("fer.h5")',
        ),
        (_truncated, "damaged or truncated"),
        (_missing_weights, "layer 'dense_1': weight 'kernel' is missing"),
        (_vector_input, "has shape [None, 2304], not an image"),
    ],
)
def test_bad_input_fails_cleanly_and_leaves_no_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    message: str,
) -> None:
    source = make(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "model.onnx"

    code, out, err = run(monkeypatch, capsys, str(source), str(target))

    assert code == 1
    assert out == ""
    assert err.startswith("moodtape: error: ") and err.count("\n") == 1
    assert message in err
    assert list(out_dir.iterdir()) == []


def test_a_failed_conversion_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous")
    code, _, _ = run(monkeypatch, capsys, str(_truncated(tmp_path)), str(target))
    assert code == 1
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.h5", "model.onnx"]


def test_labels_must_match_the_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "m.onnx"
    code, _, err = run(monkeypatch, capsys, str(TUTORIAL), str(target), "--labels", "happy,sad")
    assert code == 1
    assert "7 outputs but --labels names 2" in err
    assert not target.exists()


@pytest.mark.parametrize(("option", "value"), [("--labels", "happy,joy"), ("--preset", "nope")])
def test_bad_options_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    target = tmp_path / "m.onnx"
    code, _, err = run(monkeypatch, capsys, str(TUTORIAL), str(target), option, value)
    assert code == 2
    assert option in err
    assert not target.exists()


def test_a_missing_output_folder_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(monkeypatch, capsys, str(TUTORIAL), str(tmp_path / "nowhere" / "m.onnx"))
    assert code == 1
    assert "does not exist" in err
