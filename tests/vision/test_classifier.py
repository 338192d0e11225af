"""EmotionClassifier: input specs, pre- and postprocessing, metadata, and the bundled model."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from onnx_models import mean_model

from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.vision.classifier import (
    META_LABELS,
    META_PRESET,
    META_TEMPERATURE,
    META_UNCERTAIN,
    EmotionClassifier,
    InputSpec,
    classifier_from_onnx,
    input_spec_from_shape,
    load_classifier,
    looks_like_probabilities,
    read_metadata,
    softmax,
)
from moodtape.vision.models import bundled_model_bytes
from moodtape.vision.presets import PRESETS, Preset, get_preset

WEIGHTS = [float(i) for i in range(7)]


class FakeSession:
    """Stands in for an onnxruntime session: shapes only, plus canned outputs."""

    def __init__(self, input_shape: list[Any], output_shape: list[Any], outputs: Any = None) -> None:
        self._input = SimpleNamespace(name="face", shape=input_shape)
        self._output = SimpleNamespace(name="out", shape=output_shape)
        self.outputs = outputs
        self.fed: dict[str, npt.NDArray[np.float32]] = {}

    def get_inputs(self) -> list[SimpleNamespace]:
        return [self._input]

    def get_outputs(self) -> list[SimpleNamespace]:
        return [self._output]

    def run(self, _names: object, feed: dict[str, npt.NDArray[np.float32]]) -> list[Any]:
        self.fed = feed
        return [self.outputs]


def fake_classifier(
    input_shape: list[Any] | None = None,
    preset: Preset | None = None,
    temperature: float = 1.0,
    outputs: Any = None,
) -> EmotionClassifier:
    session = FakeSession(input_shape or ["N", 1, 48, 48], ["N", 7], outputs)
    return EmotionClassifier(session, preset or get_preset("moodtape"), temperature=temperature)


# --- input specs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "spec"),
    [
        (["batch", 1, 48, 48], InputSpec(48, 48, 1, "nchw")),
        ([None, 3, 64, 56], InputSpec(64, 56, 3, "nchw")),
        (["N", 48, 48, 1], InputSpec(48, 48, 1, "nhwc")),
        ([1, 64, 64, 3], InputSpec(64, 64, 3, "nhwc")),
    ],
)
def test_input_spec_from_shape(shape: list[Any], spec: InputSpec) -> None:
    assert input_spec_from_shape(shape) == spec


@pytest.mark.parametrize(
    "shape",
    [[1, 48, 48], ["N", 1, 48, 48, 1], ["N", 1, "height", "width"], ["N", "h", "w", 1], ["N", 2, 48, 48]],
    ids=["rank-3", "rank-5", "dynamic-nchw", "dynamic-nhwc", "two-channels"],
)
def test_input_spec_refuses_shapes_that_are_not_fixed_image_batches(shape: list[Any]) -> None:
    with pytest.raises(ModelError, match="expected"):
        input_spec_from_shape(shape)


# --- softmax and probability detection ------------------------------------------------------------


def test_softmax_rows_sum_to_one_and_match_the_formula() -> None:
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    probabilities = softmax(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(probabilities[0], expected, rtol=1e-6)
    np.testing.assert_allclose(probabilities[1], 1 / 3, rtol=1e-6)


def test_softmax_temperature_flattens_and_is_stable() -> None:
    logits = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(softmax(logits, 2.0), softmax(logits / 2.0), rtol=1e-6)
    assert softmax(logits, 2.0).max() < softmax(logits).max()
    huge = softmax(np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32))
    assert np.all(np.isfinite(huge)) and huge[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[0.2, 0.8], [1.0, 0.0]], True),
        ([[0.2, 0.8], [0.5, 0.6]], False),  # a row does not sum to 1
        ([[1.5, -0.5]], False),  # sums to 1 but negative
        ([[2.0, -1.0], [3.0, 0.5]], False),  # logits
    ],
)
def test_looks_like_probabilities(rows: list[list[float]], expected: bool) -> None:
    assert looks_like_probabilities(np.array(rows, dtype=np.float32)) is expected


# --- postprocessing -------------------------------------------------------------------------------


def test_probability_outputs_pass_through() -> None:
    rows = np.random.default_rng(0).dirichlet(np.ones(7), size=4).astype(np.float32)
    np.testing.assert_allclose(fake_classifier(temperature=3.0)._postprocess(rows), rows, atol=1e-6)


def test_logits_are_divided_by_the_temperature() -> None:
    logits = np.random.default_rng(1).normal(0, 3, size=(5, 7)).astype(np.float32)
    out = fake_classifier(temperature=2.5)._postprocess(logits)
    np.testing.assert_allclose(out, softmax(logits, 2.5), rtol=1e-5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(out.argmax(axis=1), logits.argmax(axis=1))


def test_outputs_are_reordered_into_fer_order() -> None:
    reversed_labels = tuple(reversed(EMOTIONS))  # index 0 is "neutral" for this model
    classifier = fake_classifier(preset=Preset("reversed", 1 / 255, 0.0, labels=reversed_labels))
    rows = np.eye(7, dtype=np.float32)
    out = classifier._postprocess(rows)
    for model_index, label in enumerate(reversed_labels):
        assert EMOTIONS[int(out[model_index].argmax())] == label


def test_wrong_output_count_is_refused_at_construction() -> None:
    session = FakeSession(["N", 1, 48, 48], ["N", 5])
    with pytest.raises(ModelError, match="5 outputs but 7 labels") as caught:
        EmotionClassifier(session, get_preset("moodtape"), name="odd.onnx")
    assert "odd.onnx" in str(caught.value) and "--labels" in str(caught.value)


def test_a_preset_without_all_seven_labels_is_refused() -> None:
    session = FakeSession(["N", 1, 48, 48], ["N", 3])
    with pytest.raises(ModelError, match="all 7"):
        EmotionClassifier(session, Preset("three", 1 / 255, 0.0, labels=("happy", "sad", "neutral")))


def test_wrong_output_shape_at_run_time_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="returned shape"):
        fake_classifier()._postprocess(np.zeros((2, 6), dtype=np.float32))


def test_is_uncertain_uses_the_threshold() -> None:
    classifier = fake_classifier()
    classifier.uncertain_below = 0.4
    rows = np.array([[0.39] + [0.61 / 6] * 6, [0.41] + [0.59 / 6] * 6], dtype=np.float32)
    assert classifier.is_uncertain(rows).tolist() == [True, False]


# --- preprocessing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "pixel", "expected"),
    [("moodtape", 255, 1.0), ("moodtape", 51, 0.2), ("fer-library", 0, -1.0), ("fer-library", 255, 1.0)],
)
def test_pixels_are_scaled_by_the_preset(preset: str, pixel: int, expected: float) -> None:
    classifier = fake_classifier(preset=get_preset(preset))
    batch = classifier.preprocess([np.full((48, 48), pixel, dtype=np.uint8)])
    assert batch.dtype == np.float32
    np.testing.assert_allclose(batch, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [(["N", 1, 48, 48], (2, 1, 48, 48)), (["N", 48, 48, 1], (2, 48, 48, 1)), (["N", 3, 32, 40], (2, 3, 32, 40))],
)
def test_batch_layout_and_size_follow_the_model(shape: list[Any], expected: tuple[int, ...]) -> None:
    crops = [np.zeros((100, 100), dtype=np.uint8), np.zeros((20, 30, 3), dtype=np.uint8)]
    batch = fake_classifier(input_shape=shape).preprocess(crops)
    assert batch.shape == expected
    assert batch.flags["C_CONTIGUOUS"]


def test_colour_crops_become_luma_for_gray_models() -> None:
    crop = np.zeros((48, 48, 3), dtype=np.uint8)
    crop[..., 1] = 255  # pure green in BGR
    batch = fake_classifier().preprocess([crop])
    np.testing.assert_allclose(batch, 0.587, atol=0.005)


@pytest.mark.parametrize(("color", "first_channel"), [("bgr", 255.0), ("rgb", 0.0)])
def test_colour_models_get_their_channel_order(color: str, first_channel: float) -> None:
    crop = np.zeros((48, 48, 3), dtype=np.uint8)
    crop[..., 0] = 255  # pure blue in BGR
    preset = Preset(color, 1.0, 0.0, color=color)
    batch = fake_classifier(input_shape=["N", 3, 48, 48], preset=preset).preprocess([crop])
    assert batch[0, 0].mean() == first_channel
    assert batch[0, 2].mean() == 255.0 - first_channel


def test_gray_crops_fill_every_channel_of_a_colour_model() -> None:
    batch = fake_classifier(input_shape=["N", 48, 48, 3], preset=Preset("c", 1.0, 0.0, color="rgb")).preprocess(
        [np.full((48, 48), 77, dtype=np.uint8)]
    )
    np.testing.assert_array_equal(batch, 77.0)


def test_predict_of_no_crops_is_an_empty_7_column_array() -> None:
    out = fake_classifier().predict([])
    assert out.shape == (0, 7) and out.dtype == np.float32


def test_predict_feeds_the_session_and_reorders() -> None:
    logits = np.zeros((1, 7), dtype=np.float32)
    logits[0, 3] = 5.0
    classifier = fake_classifier(outputs=logits)
    out = classifier.predict([np.zeros((60, 60), dtype=np.uint8)])
    assert classifier.session.fed["face"].shape == (1, 1, 48, 48)
    assert EMOTIONS[int(out.argmax())] == "happy"


# --- real ONNX models built in code ---------------------------------------------------------------


@pytest.mark.parametrize("layout", [["N", 1, 48, 48], ["N", 48, 48, 1]], ids=["nchw", "nhwc"])
def test_onnx_model_end_to_end_with_metadata(layout: list[Any]) -> None:
    metadata = {META_PRESET: "moodtape", META_TEMPERATURE: "2.0", META_UNCERTAIN: "0.3"}
    classifier = classifier_from_onnx(mean_model(layout, WEIGHTS, metadata=metadata), name="mean.onnx", threads=1)
    assert classifier.temperature == 2.0 and classifier.uncertain_below == 0.3
    crops = [np.full((48, 48), value, dtype=np.uint8) for value in (0, 102, 255)]
    out = classifier.predict(crops)
    means = np.array([0.0, 0.4, 1.0], dtype=np.float32)[:, None]
    np.testing.assert_allclose(out, softmax(means * np.array(WEIGHTS, dtype=np.float32), 2.0), atol=1e-5)
    # Top probabilities: 1/7 (black: equal logits), about 0.24 and 0.41; the threshold is 0.3.
    assert classifier.is_uncertain(out).tolist() == [True, True, False]


def test_softmax_models_are_not_softmaxed_twice() -> None:
    model = mean_model(["N", 1, 48, 48], WEIGHTS, softmax_output=True, metadata={META_TEMPERATURE: "5.0"})
    classifier = classifier_from_onnx(model, name="softmax.onnx", preset="moodtape", threads=1)
    out = classifier.predict([np.full((48, 48), 255, dtype=np.uint8)])
    np.testing.assert_allclose(out[0], softmax(np.array([WEIGHTS], dtype=np.float32))[0], atol=1e-5)


def test_label_order_from_metadata_is_applied() -> None:
    labels = list(reversed(EMOTIONS))
    model = mean_model(["N", 1, 48, 48], WEIGHTS, metadata={META_PRESET: "moodtape", META_LABELS: json.dumps(labels)})
    out = classifier_from_onnx(model, name="m", threads=1).predict([np.full((48, 48), 255, dtype=np.uint8)])
    # The model's largest output is its last index, which it calls "angry".
    assert EMOTIONS[int(out.argmax())] == "angry"


@pytest.mark.parametrize(("size", "preset"), [(48, "fer-tutorial"), (64, "fer-library")])
def test_foreign_models_get_a_preset_from_their_input_size(size: int, preset: str) -> None:
    classifier = classifier_from_onnx(mean_model(["N", 1, size, size], WEIGHTS), name="foreign", threads=1)
    assert classifier.preset == PRESETS[preset]


def test_foreign_model_of_unknown_size_asks_for_a_preset() -> None:
    with pytest.raises(ModelError, match="--preset"):
        classifier_from_onnx(mean_model(["N", 1, 32, 32], WEIGHTS), name="odd", threads=1)


def test_load_classifier_from_files(tmp_path: Path) -> None:
    path = tmp_path / "mean.onnx"
    path.write_bytes(mean_model(["N", 1, 48, 48], WEIGHTS, metadata={META_PRESET: "moodtape"}))
    assert load_classifier(path, threads=1).name == "mean.onnx"
    with pytest.raises(ModelError, match="not found"):
        load_classifier(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"definitely not protobuf \xff\xfe")
    with pytest.raises(ModelError, match=r"garbage\.onnx"):
        load_classifier(garbage)


def test_bundled_model_loads_with_its_metadata() -> None:
    metadata = read_metadata(bundled_model_bytes())
    classifier = load_classifier(threads=1)
    assert classifier.spec == InputSpec(48, 48, 1, "nchw")
    assert classifier.preset.name == metadata[META_PRESET] == "moodtape"
    assert classifier.temperature == pytest.approx(float(metadata[META_TEMPERATURE]))
    assert 0.1 < classifier.temperature < 10
    assert classifier.uncertain_below == pytest.approx(float(metadata[META_UNCERTAIN]))
    assert 0 < classifier.uncertain_below < 1
    assert json.loads(metadata[META_LABELS]) == list(EMOTIONS)
    out = classifier.predict([np.full((48, 48), 128, dtype=np.uint8)])
    assert out.shape == (1, 7)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)


# --- presets --------------------------------------------------------------------------------------


def test_unknown_preset_lists_the_choices() -> None:
    with pytest.raises(ModelError, match="choose one of: moodtape, fer-library, fer-tutorial"):
        get_preset("vgg")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"color": "hsv"}, "color"),
        ({"labels": ("happy", "happy")}, "distinct"),
        ({"labels": ("happy", "bored")}, "unknown labels"),
    ],
)
def test_presets_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Preset("p", 1.0, 0.0, **options)


def test_bundled_model_is_the_documented_two_network_ensemble_within_the_size_limit() -> None:
    model = bundled_model_bytes()
    assert len(model) <= 5 * 1024 * 1024  # the limit for a model shipped in the package
    metadata = read_metadata(model)
    assert metadata["moodtape.networks"] == "2"  # the model card describes two networks, one pass each
    assert metadata["moodtape.flip_averaged"] == "false" and metadata["moodtape.passes"] == "0:face,1:face"
    assert metadata["moodtape.trained_epochs"] == "65,100"
