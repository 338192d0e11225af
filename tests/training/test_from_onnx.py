"""Recovering the bundled model's networks: they reproduce its outputs and can be fine-tuned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

torch = pytest.importorskip("torch")

from moodtape.errors import DatasetError, ModelError  # noqa: E402
from moodtape.training.from_onnx import networks_from_onnx, restore_batch_norms, verify  # noqa: E402
from moodtape.training.trainer import TrainConfig, Trainer  # noqa: E402
from moodtape.vision import models  # noqa: E402

BUNDLED = Path(models.__file__).parent / models.BUNDLED_MODEL


@pytest.fixture(scope="module")
def faces(astronaut_conditions: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return astronaut_conditions


def test_recovered_networks_reproduce_the_bundled_model(faces: npt.NDArray[np.float32]) -> None:
    networks = networks_from_onnx(BUNDLED)
    assert len(networks) == 2 and all(network.width == 32 for network in networks)
    result = verify(BUNDLED, faces)
    # They differ only by the int8 rounding of activations that the float networks skip.
    assert result["top_label_agreement"] >= 14 / 15
    assert result["max_abs_logit_diff"] < 1.0


def test_restoring_batch_norms_keeps_the_function(faces: npt.NDArray[np.float32]) -> None:
    network = networks_from_onnx(BUNDLED)[0]
    images = torch.from_numpy(faces)
    with torch.no_grad():
        before = network(images)
        restore_batch_norms(network, images)
        after = network.eval()(images)
        # In training mode (dropout aside) the batch-norms normalise by these same faces'
        # statistics, which they were just given: the same logits again.
        network.features.train()
        batch_mode = network(images)
    assert torch.allclose(before, after, atol=1e-4)
    assert torch.allclose(before, batch_mode, atol=1e-3)


def test_a_model_without_int8_networks_is_refused(tmp_path: Path) -> None:
    import onnx

    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["face"], ["logits"])],
        "empty",
        [onnx.helper.make_tensor_value_info("face", onnx.TensorProto.FLOAT, [1, 1, 48, 48])],
        [onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, 1, 48, 48])],
    )
    path = tmp_path / "plain.onnx"
    onnx.save(onnx.helper.make_model(graph), path)
    with pytest.raises(ModelError, match="moodtape export"):
        networks_from_onnx(path)


def _config(data: Path, out: Path, init: str) -> TrainConfig:
    return TrainConfig(
        data=str(data), out=str(out), epochs=1, batch_size=16, threads=1, precision="fp32", device="cpu", init=init
    )


@pytest.fixture
def data(make_face_folder: Callable[..., Path], tmp_path: Path) -> Path:
    make_face_folder("fer/train", per_class=2)
    make_face_folder("fer/publictest", per_class=1)
    return tmp_path / "fer"


def test_trainer_starts_from_the_bundled_network(data: Path, tmp_path: Path, faces: npt.NDArray[np.float32]) -> None:
    trainer = Trainer(_config(data, tmp_path / "run", f"{BUNDLED}#1"), log=lambda _: None)
    reference = networks_from_onnx(BUNDLED)[1]
    with torch.no_grad():
        expected = reference(torch.from_numpy(faces))
        got = trainer.model.eval()(torch.from_numpy(faces))
    assert torch.allclose(expected, got, atol=1e-4)


@pytest.mark.parametrize("init", ["emotion.onnx", "emotion.onnx#x", f"{BUNDLED}#2"])
def test_a_bad_init_names_the_fix(data: Path, tmp_path: Path, init: str) -> None:
    with pytest.raises(DatasetError, match=r"PATH#N|out of range"):
        Trainer(_config(data, tmp_path / "run", init), log=lambda _: None)


def test_recovered_networks_are_saved_as_runs_that_export_reads(tmp_path: Path) -> None:
    from moodtape.training.export import load_network
    from moodtape.training.from_onnx import save_runs

    folders = save_runs(BUNDLED, tmp_path / "v1")
    assert folders == [tmp_path / "v1-0", tmp_path / "v1-1"]
    recovered = networks_from_onnx(BUNDLED)
    face = torch.rand(2, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    for folder, network, epoch in zip(folders, recovered, (65, 100), strict=True):
        loaded, saved_epoch = load_network(folder)
        assert saved_epoch == epoch  # from the file's moodtape.trained_epochs
        with torch.no_grad():
            assert torch.allclose(loaded(face), network(face), atol=1e-4)


@pytest.mark.parametrize(
    ("epochs", "expected"), [(None, [0, 0]), ("65", "names 1 trained epochs"), ("a,b", "not a list")]
)
def test_saved_runs_take_their_epochs_from_the_file_or_say_what_is_wrong(
    tmp_path: Path, epochs: str | None, expected: list[int] | str
) -> None:
    import onnx

    from moodtape.training.export import load_network
    from moodtape.training.from_onnx import save_runs

    model = onnx.load(BUNDLED)
    kept = {p.key: p.value for p in model.metadata_props if p.key != "moodtape.trained_epochs"}
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, kept if epochs is None else {**kept, "moodtape.trained_epochs": epochs})
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    if isinstance(expected, str):
        with pytest.raises(ModelError, match=expected):
            save_runs(path, tmp_path / "runs")
    else:
        folders = save_runs(path, tmp_path / "runs/")  # a trailing slash still names the folders runs-N
        assert folders == [tmp_path / "runs-0", tmp_path / "runs-1"]
        assert [load_network(folder)[1] for folder in folders] == expected
