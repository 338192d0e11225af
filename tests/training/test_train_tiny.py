"""A tiny real training run: the loss falls, checkpoints resume, and the ONNX export matches PyTorch.

The dataset is generated (seven classes told apart by the height of a bright band), the network is
the real ``EmotionNet`` at width 8, and everything runs on one CPU thread in well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from fer_faces import synthetic_face

torch = pytest.importorskip("torch")

from moodtape.emotions import EMOTIONS  # noqa: E402
from moodtape.errors import DataError, DatasetError  # noqa: E402
from moodtape.training.datasets import load_dataset  # noqa: E402
from moodtape.training.distill import Teacher  # noqa: E402
from moodtape.training.export import PARITY_TOLERANCE, ViewEnsemble, export_run, export_runs, onnx_logits  # noqa: E402
from moodtape.training.trainer import EpochResult, TrainConfig, Trainer, lr_at, predict_logits  # noqa: E402
from moodtape.training.views import parse_passes, zoom_matrix  # noqa: E402
from moodtape.vision.classifier import load_classifier, read_metadata  # noqa: E402
from moodtape.vision.neutral_reference import measure_reference  # noqa: E402

pytestmark = pytest.mark.slow


class StopTrainingError(Exception):
    """Raised from the log callback to stop a run the way Ctrl-C would."""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fer")
    rng = np.random.default_rng(0)
    for split, per_class in (("train", 20), ("publictest", 6)):
        for label in range(7):
            folder = root / split / EMOTIONS[label]
            folder.mkdir(parents=True)
            for i in range(per_class):
                cv2.imwrite(str(folder / f"{i}.png"), synthetic_face(label, rng))
    return root


def tiny_config(data: Path, out: Path, **changes: object) -> TrainConfig:
    config = TrainConfig(
        data=str(data), out=str(out), epochs=3, batch_size=32, width=8, threads=1, precision="fp32", device="cpu"
    )
    return replace(config, **changes)


@pytest.fixture(scope="module")
def trained(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[EpochResult]]:
    out = tmp_path_factory.mktemp("run")
    results = Trainer(tiny_config(dataset, out), log=lambda _: None).run()
    return out, results


def test_loss_falls_and_checkpoints_are_written(trained: tuple[Path, list[EpochResult]]) -> None:
    out, results = trained
    assert [r.epoch for r in results] == [1, 2, 3]
    assert results[-1].train_loss < results[0].train_loss
    assert all(np.isfinite(r.val_loss) and 0 <= r.val_accuracy <= 1 for r in results)
    for name in ("last.pt", "best.pt", "metrics.jsonl"):
        assert (out / name).is_file()
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert lines[0]["train_loss"] == pytest.approx(results[0].train_loss)


def test_an_interrupted_run_resumes_where_it_stopped(dataset: Path, tmp_path: Path) -> None:
    def stop_after_epoch_two(message: str) -> None:
        if message.startswith("epoch   2/3"):
            raise StopTrainingError

    with pytest.raises(StopTrainingError):
        Trainer(tiny_config(dataset, tmp_path), log=stop_after_epoch_two).run()
    messages: list[str] = []
    resumed = Trainer(tiny_config(dataset, tmp_path), log=messages.append)
    assert resumed.epoch == 2
    assert any("resumed" in m and "after epoch 2" in m for m in messages)
    results = resumed.run()
    assert [r.epoch for r in results] == [3]
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]
    # A finished run resumes to nothing left to do.
    assert Trainer(tiny_config(dataset, tmp_path), log=lambda _: None).run() == []


def test_changed_settings_refuse_to_resume(trained: tuple[Path, list[EpochResult]], dataset: Path) -> None:
    out, _ = trained
    with pytest.raises(DatasetError, match=r"other settings \(epochs, lr\)") as caught:
        Trainer(tiny_config(dataset, out, epochs=4, lr=0.01), log=lambda _: None)
    assert "another --out folder" in str(caught.value)


def test_a_run_saved_before_the_stretch_setting_resumes_without_it(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    out, _ = trained
    state = torch.load(out / "last.pt", weights_only=False)
    del state["config"]["stretch"]
    old = tmp_path / "old"
    old.mkdir()
    torch.save({**state, "config": {**state["config"], "out": str(old)}}, old / "last.pt")
    with pytest.raises(DatasetError, match=r"other settings \(stretch\)"):
        Trainer(tiny_config(dataset, old), log=lambda _: None)
    resumed = Trainer(tiny_config(dataset, old, stretch=False), log=lambda _: None)
    assert resumed.epoch == 3


@pytest.mark.parametrize("augment", ["standard", "robust"])
def test_the_network_trains_and_is_chosen_on_faces_read_as_the_classifier_reads_them(
    dataset: Path, tmp_path: Path, augment: str
) -> None:
    from moodtape.training.datasets import load_dataset
    from moodtape.training.inputs import network_input

    trainer = Trainer(tiny_config(dataset, tmp_path / "run", augment=augment), log=lambda _: None)
    validation = load_dataset(dataset / "publictest")
    np.testing.assert_allclose(trainer.val_x.numpy(), network_input(validation.images), atol=1e-6)
    clean, degraded = trainer._augmented(trainer.train_x[:64], torch.Generator().manual_seed(0))
    for faces in (clean, degraded):
        flat = faces.reshape(len(faces), -1).numpy()
        # Each augmented face spans black to white, however augmentation lit it.
        assert np.percentile(flat, 1, axis=1).max() < 0.02 and np.percentile(flat, 99, axis=1).min() > 0.98
    plain = Trainer(tiny_config(dataset, tmp_path / "plain", augment=augment, stretch=False), log=lambda _: None)
    np.testing.assert_allclose(plain.val_x.numpy(), network_input(validation.images, stretch=False))


def test_export_reports_what_the_shipped_classifier_measures(
    trained: tuple[Path, list[EpochResult]], dataset: Path
) -> None:
    from moodtape.training.datasets import load_dataset

    out, _ = trained
    model_path = export_run(out, data=str(dataset))
    report = json.loads((out / "calibration.json").read_text())
    validation = load_dataset(dataset / "publictest")
    probabilities = load_classifier(model_path, threads=1).predict(list(validation.images))
    assert report["accuracy"] == pytest.approx(float((probabilities.argmax(1) == validation.labels).mean()))
    # The temperature was fitted on the faces the classifier reads: its calibrated NLL is the report's.
    chosen = probabilities[np.arange(len(validation.labels)), validation.labels]
    assert report["nll_after"] == pytest.approx(float(-np.log(chosen).mean()), rel=1e-3)


def test_missing_split_folder_is_a_dataset_error(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="validation/"):
        Trainer(tiny_config(dataset, tmp_path / "out", val_split="validation"), log=lambda _: None)


def test_export_matches_pytorch_and_loads(trained: tuple[Path, list[EpochResult]], dataset: Path) -> None:
    out, _ = trained
    model_path = export_run(out, data=str(dataset))
    assert model_path == out / "emotion.onnx"
    report = json.loads((out / "calibration.json").read_text())
    assert report["parity_max_abs_diff"] <= PARITY_TOLERANCE == 1e-4
    assert report["temperature"] > 0
    assert 0 <= report["ece_after"] <= 1 and 0 <= report["accuracy"] <= 1
    metadata = read_metadata(model_path.read_bytes())
    assert float(metadata["moodtape.temperature"]) == pytest.approx(report["temperature"], rel=1e-5)
    assert metadata["moodtape.trained_epochs"] == str(report["epochs"][0])
    assert metadata["moodtape.networks"] == "1" and report["passes"] == ["0:face", "0:mirror"]
    classifier = load_classifier(model_path, threads=1)
    assert classifier.preset.name == "moodtape"
    # The model carries how it reads a resting face, for personal calibration: measured again here
    # from the exported classifier's own reading of the validation faces.
    validation = load_dataset(dataset / "publictest")
    again = measure_reference(classifier.predict(list(validation.images)), np.asarray(validation.labels))
    assert classifier.neutral_reference == pytest.approx(again, abs=1e-4)
    probabilities = classifier.predict([np.full((48, 48), 90, dtype=np.uint8), np.zeros((60, 60), dtype=np.uint8)])
    assert probabilities.shape == (2, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # The embedding for personal calibration: both passes' penultimate features side by side.
    with_embedding, embedding = classifier.predict_with_embedding([np.full((48, 48), 90, dtype=np.uint8)])
    np.testing.assert_allclose(with_embedding, probabilities[:1], atol=1e-6)
    assert classifier.has_embedding and embedding is not None and embedding.shape[0] == 1
    assert embedding.shape[1] % 2 == 0 and embedding.shape[1] >= 2


def test_a_network_read_by_two_passes_is_recovered_once(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    from moodtape.training.export import load_network
    from moodtape.training.from_onnx import networks_from_onnx, verify

    run, _ = trained
    model_path = export_runs([run], data=str(dataset), out=tmp_path / "flip")  # face and mirror: one network twice
    # The quantizer gives each pass its own int32 bias (``bias`` and ``bias0``); one network comes back.
    (recovered,) = networks_from_onnx(model_path)
    original, _ = load_network(run)
    faces = torch.from_numpy(np.stack([synthetic_face(i % 7, np.random.default_rng(i)) for i in range(14)]))
    faces = (faces.float() / 255.0)[:, None]
    with torch.no_grad():
        assert torch.allclose(recovered(faces), original(faces), atol=0.05)  # int8 weight rounding only
    # verify reads the file's own passes (face and mirror; noise over a left-to-right ramp, so that
    # the mirror differs): only int8 rounding remains, less than between the file and the network on
    # the face alone. How much less depends on the CPU's int8 kernels: 0.41 of it on an AMD EPYC,
    # where plain noise came to 0.59 (hence the ramp, and 3/4 rather than 1/2).
    noise = torch.rand(14, 1, 48, 48, generator=torch.Generator().manual_seed(1))
    noise = 0.3 * noise + 0.7 * torch.linspace(0.0, 1.0, 48)
    checked = verify(model_path, noise.numpy())
    with torch.no_grad():
        face_only = (recovered(noise) - torch.from_numpy(onnx_logits(onnx.load(model_path), noise.numpy()))).abs()
    assert checked["max_abs_logit_diff"] < float(face_only.max()) * 3 / 4


def test_two_runs_export_as_an_ensemble_that_matches_pytorch(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    first, _ = trained
    second = tmp_path / "second"
    Trainer(tiny_config(dataset, second, seed=1), log=lambda _: None).run()
    model_path = export_runs([first, second], data=str(dataset), out=tmp_path / "ensemble")
    report = json.loads((tmp_path / "ensemble" / "calibration.json").read_text())
    assert report["parity_max_abs_diff"] <= PARITY_TOLERANCE
    assert report["passes"] == ["0:face", "1:mirror"]  # one view each: the cost of one flip-averaged network
    metadata = read_metadata(model_path.read_bytes())
    assert metadata["moodtape.networks"] == "2" and metadata["moodtape.trained_epochs"] == "3,3"
    assert metadata["moodtape.passes"] == "0:face,1:mirror" and metadata["moodtape.flip_averaged"] == "false"
    assert load_classifier(model_path, threads=1).predict([np.full((48, 48), 90, dtype=np.uint8)]).shape == (1, 7)


def test_zoomed_passes_export_with_float_resampling_and_an_unzoomed_embedding(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    run, _ = trained
    passes = parse_passes("0:mirror@1.1,0:face", networks=1)  # the zoomed pass first
    model_path = export_runs([run], data=str(dataset), out=tmp_path / "zoomed", passes=passes)
    report = json.loads((tmp_path / "zoomed" / "calibration.json").read_text())
    assert report["parity_max_abs_diff"] <= PARITY_TOLERANCE  # the MatMul resampling traced exactly
    assert report["passes"] == ["0:mirror@1.1", "0:face"] and not report["flip_averaged"]
    assert read_metadata(model_path.read_bytes())["moodtape.passes"] == "0:mirror@1.1,0:face"
    graph = onnx.load(model_path).graph
    matmuls = [node for node in graph.node if node.op_type == "MatMul"]
    initializers = {tensor.name for tensor in graph.initializer}
    # The zoom's rows and columns, read straight from float initializers (not dequantized int8).
    assert len(matmuls) == 2 and all(any(name in initializers for name in node.input) for node in matmuls)
    # The embedding is the plain face pass's features, wherever that pass sits in the graph.
    plain_path = export_runs([run], data=str(dataset), out=tmp_path / "plain", flip=False)
    faces = [synthetic_face(label, np.random.default_rng(label)) for label in range(7)]
    _, embedding = load_classifier(model_path, threads=1).predict_with_embedding(faces)
    _, plain = load_classifier(plain_path, threads=1).predict_with_embedding(faces)
    assert embedding is not None and plain is not None and embedding.shape == plain.shape == (7, 256)
    np.testing.assert_allclose(embedding, plain, atol=0.05 * float(np.abs(plain).max()))


def test_view_ensemble_averages_each_networks_view() -> None:
    class Fixed(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            # Left half minus right half: a mirror image negates it.
            return (x[..., :24].sum() - x[..., 24:].sum()).reshape(1, 1) * self.value

    face = torch.zeros(1, 1, 48, 48)
    face[..., :24] = 1.0  # bright left half
    left = float(face[..., :24].sum())
    assert float(ViewEnsemble([Fixed(1.0)])(face)) == pytest.approx(0.0)  # face and mirror cancel
    assert float(ViewEnsemble([Fixed(1.0)], flip=False)(face)) == pytest.approx(left)
    assert float(ViewEnsemble([Fixed(1.0), Fixed(3.0)])(face)) == pytest.approx((left - 3 * left) / 2)
    with pytest.raises(ValueError, match="at least one"):
        ViewEnsemble([])


def test_a_zoomed_pass_reads_the_resampled_face() -> None:
    class Sum(torch.nn.Module):  # type: ignore[misc]
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[..., 20:28, 20:28].sum().reshape(1, 1)  # the face's centre

    face = torch.rand(1, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    matrix = torch.from_numpy(zoom_matrix(48, 1.2))
    expected = float((matrix @ face[0, 0] @ matrix.T)[20:28, 20:28].sum())
    ensemble = ViewEnsemble([Sum()], passes=parse_passes("0:face@1.2", networks=1))
    assert float(ensemble(face)) == pytest.approx(expected, rel=1e-5)
    assert float(ensemble(face)) != pytest.approx(float(face[0, 0, 20:28, 20:28].sum()), rel=1e-3)
    both = ViewEnsemble([Sum()], passes=parse_passes("0:face,0:face@1.2", networks=1))
    assert float(both(face)) == pytest.approx((expected + float(face[0, 0, 20:28, 20:28].sum())) / 2, rel=1e-5)
    with pytest.raises(ValueError, match="does not have"):
        ViewEnsemble([Sum()], passes=parse_passes("0:face,1:face", networks=2))


def test_learning_rate_warms_up_then_decays() -> None:
    schedule: Callable[[int], float] = lambda step: lr_at(step, total_steps=100, warmup_steps=10, peak=1.0)  # noqa: E731
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(10) == pytest.approx(1.0)
    assert schedule(55) == pytest.approx(0.5)
    assert schedule(100) == pytest.approx(0.0, abs=1e-12)
    assert all(schedule(s) >= schedule(s + 1) for s in range(10, 100))


def test_a_teacher_steers_training_when_distilling(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    """A teacher that names the class after its own answer teaches a fresh network that mistake.

    With the whole loss on the soft answers, the student's validation accuracy collapses while it
    mostly agrees with the (wrong) teacher; without a teacher the same run learns the labels.
    """
    first, _ = trained
    teacher_path = export_runs([first], data=str(dataset), out=tmp_path / "teacher")

    class NextClassTeacher(Teacher):
        def logits(self, faces: torch.Tensor) -> torch.Tensor:
            return torch.roll(super().logits(faces), shifts=1, dims=1) * 4.0

    config = tiny_config(dataset, tmp_path / "student", epochs=6, seed=3, distill=str(teacher_path), distill_weight=1.0)
    student = Trainer(config, log=lambda _: None)
    student.teacher = NextClassTeacher(teacher_path)
    misled = student.run()[-1]
    honest = Trainer(tiny_config(dataset, tmp_path / "honest", epochs=6, seed=3), log=lambda _: None).run()[-1]
    assert honest.val_accuracy >= 0.8
    assert misled.val_accuracy <= 0.5
    predicted = predict_logits(student.model, student.val_x, student.device).argmax(1)
    taught = student.teacher.logits(student.val_x).argmax(1)
    assert float((predicted == taught).float().mean()) >= 0.7  # it learned the teacher's answers, not the labels


def test_a_teacher_read_once_steers_training_without_reading_any_batch(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--distill-once``: the teacher reads every training face (and its mirror) before the first
    epoch and never again, and its answers still steer the student."""
    first, _ = trained
    teacher_path = export_runs([first], data=str(dataset), out=tmp_path / "teacher")
    faces_read: list[int] = []

    class CountingNextClassTeacher(Teacher):
        def logits(self, faces: torch.Tensor) -> torch.Tensor:
            faces_read.append(faces.shape[0])
            return torch.roll(super().logits(faces), shifts=1, dims=1) * 4.0

    monkeypatch.setattr("moodtape.training.trainer.Teacher", CountingNextClassTeacher)
    config = tiny_config(
        dataset,
        tmp_path / "student",
        epochs=10,  # 6 left the student agreeing with the teacher on 57 % on an AMD EPYC (100 % at 10)
        seed=3,
        distill=str(teacher_path),
        distill_weight=1.0,
        distill_once=True,
    )
    student = Trainer(config, log=lambda _: None)
    assert sum(faces_read) == 2 * len(student.train_y)  # each face and its mirror, once
    assert student.teacher_answers is not None and student.teacher_answers.shape == (len(student.train_y), 7)
    misled = student.run()[-1]
    assert sum(faces_read) == 2 * len(student.train_y)  # no batch was shown to the teacher
    assert misled.val_accuracy <= 0.5
    predicted = predict_logits(student.model, student.val_x, student.device).argmax(1)
    taught = CountingNextClassTeacher(teacher_path).logits(student.val_x).argmax(1)
    assert float((predicted == taught).float().mean()) >= 0.7


def test_distilling_once_needs_a_teacher_and_clean_faces(
    trained: tuple[Path, list[EpochResult]], dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="needs a teacher"):
        Trainer(tiny_config(dataset, tmp_path / "a", distill_once=True), log=lambda _: None)
    teacher_path = export_runs([trained[0]], data=str(dataset), out=tmp_path / "teacher")
    robust = tiny_config(dataset, tmp_path / "b", distill=str(teacher_path), distill_once=True, augment="robust")
    with pytest.raises(DataError, match="--augment standard"):
        Trainer(robust, log=lambda _: None)


def test_a_model_no_face_of_which_reads_neutral_gets_no_reference_and_the_cli_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from moodtape.cli.train import exported
    from moodtape.training.export import _neutral_reference

    labels = np.array([EMOTIONS.index("neutral")] * 3)
    sad_readings = np.tile(np.array([[0.1, 0.05, 0.1, 0.05, 0.5, 0.05, 0.15]]), (3, 1))
    assert _neutral_reference(sad_readings, labels) is None
    (tmp_path / "calibration.json").write_text(json.dumps({"neutral_reference": None}))
    exported(tmp_path / "emotion.onnx")
    assert "carries no neutral reference" in capsys.readouterr().err
