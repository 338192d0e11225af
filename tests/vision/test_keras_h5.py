"""Keras ``.h5`` → ONNX: parity with TensorFlow's stored outputs, and a clear error for each bad file.

The fixtures in ``tests/fixtures/keras`` were saved by Keras itself (fer 25.10.3's model, saved by
Keras 2.0.5; small models saved by Keras 3.15 and tf-keras 2.21) with TensorFlow's outputs beside
them, made by ``tools/keras_fixtures/``; no TensorFlow is needed here. Bad and synthetic files are
built in code with h5py.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from moodtape.errors import ModelError
from moodtape.vision.classifier import load_classifier
from moodtape.vision.keras.config import LayerSpec
from moodtape.vision.keras.graph import Tensor
from moodtape.vision.keras.layers import LayerContext, _window
from moodtape.vision.keras_h5 import SUPPORTED_LAYERS, convert_h5, convert_h5_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
FER_MODEL = FIXTURES / "fer_emotion_model.hdf5"
TOLERANCE = 1e-4

FloatArray = npt.NDArray[np.float32]


def run_onnx(model_bytes: bytes, x: FloatArray) -> FloatArray:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def fer_input(images: npt.NDArray[np.uint8]) -> FloatArray:
    """The fer library's preprocessing, in its order of float32 operations."""
    return (((images.astype(np.float32) / 255.0) - 0.5) * 2.0)[..., None]


# --- parity with TensorFlow ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tutorial_k3", "tutorial_k2", "layers_k3", "layers_k2"])
def test_small_models_match_tensorflow(name: str) -> None:
    reference = np.load(FIXTURES / f"{name}.npz")
    x = reference["inputs"].astype(np.float32) * np.float32(reference["scale"]) + np.float32(reference["offset"])
    expected = reference["outputs"]

    got = run_onnx(convert_h5(FIXTURES / f"{name}.h5").SerializeToString(), x)

    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= TOLERANCE
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_small_fixtures_have_varied_top_labels() -> None:
    # Otherwise "same top label" above would be a weak check.
    for name in ["tutorial_k3", "layers_k3"]:
        assert len(set(np.load(FIXTURES / f"{name}.npz")["outputs"].argmax(axis=1))) >= 3


def test_fer_library_model_matches_tensorflow() -> None:
    reference = np.load(FIXTURES / "fer_publictest64.npz")
    conversion = convert_h5_file(FER_MODEL)

    got = run_onnx(conversion.model.SerializeToString(), fer_input(reference["images"]))

    assert np.abs(got - reference["outputs"]).max() <= TOLERANCE
    assert (got.argmax(axis=1) == reference["outputs"].argmax(axis=1)).all()
    assert conversion.keras_version == "2.0.5"
    assert conversion.input_shape == (64, 64, 1)
    assert conversion.output_shape == (7,)


def test_converted_model_keeps_keras_input_and_output() -> None:
    graph = convert_h5(FER_MODEL).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert (graph.input[0].name, dims) == ("input_1", ["N", 64, 64, 1])
    assert graph.output[0].name == "predictions"
    assert [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim] == ["N", 7]


def test_load_classifier_runs_an_h5_file_with_its_preset() -> None:
    reference = np.load(FIXTURES / "fer_publictest64.npz")
    classifier = load_classifier(FER_MODEL, preset="fer-library", threads=1)

    probabilities = classifier.predict(list(reference["images"]))

    assert classifier.spec.height == 64 and classifier.spec.channels == 1
    assert np.abs(probabilities - reference["outputs"]).max() <= TOLERANCE
    assert (probabilities.argmax(axis=1) == reference["outputs"].argmax(axis=1)).all()


# --- synthetic models, checked against numpy -----------------------------------------------------


def layer(class_name: str, name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": {"name": name, **config}}


def write_h5(
    path: Path,
    layers: list[dict[str, Any]],
    weights: dict[str, dict[str, Any]] | None = None,
    *,
    model_config: dict[str, Any] | None = None,
    with_config: bool = True,
    keras_version: str = "2.15.0",
) -> Path:
    """A file laid out as Keras 2's ``model.save("x.h5")`` writes it."""
    config = model_config or {"class_name": "Sequential", "config": {"name": "model", "layers": layers}}
    weights = weights or {}
    with h5py.File(path, "w") as file:
        file.attrs["keras_version"] = keras_version
        file.attrs["backend"] = "tensorflow"
        if with_config:
            file.attrs["model_config"] = json.dumps(config)
        group = file.create_group("model_weights")
        names = [entry.get("name") or entry["config"]["name"] for entry in layers]
        group.attrs["layer_names"] = [n.encode() for n in names]
        for name in names:
            layer_group = group.create_group(name)
            arrays = weights.get(name, {})
            layer_group.attrs["weight_names"] = [f"{name}/{key}:0".encode() for key in arrays]
            for key, value in arrays.items():
                layer_group.create_dataset(f"{name}/{key}:0", data=np.asarray(value, dtype=np.float32))
    return path


def image_input(height: int = 4, width: int = 4, channels: int = 3) -> dict[str, Any]:
    return layer("InputLayer", "input", batch_input_shape=[None, height, width, channels])


def test_relu_options_and_per_channel_rescaling_match_numpy(tmp_path: Path) -> None:
    path = write_h5(
        tmp_path / "m.h5",
        [
            image_input(),
            layer("Rescaling", "rescale", scale=[1.0, 2.0, -1.0], offset=0.5),
            layer("ReLU", "relu", negative_slope=0.1, max_value=2.0, threshold=0.0),
            layer("Flatten", "flatten", data_format="channels_last"),
        ],
    )
    x = np.random.default_rng(0).normal(0, 2, (3, 4, 4, 3)).astype(np.float32)

    got = run_onnx(convert_h5(path).SerializeToString(), x)

    y = x * np.array([1.0, 2.0, -1.0], np.float32) + np.float32(0.5)
    expected = np.minimum(np.where(y > 0, y, 0.1 * y), 2.0).reshape(3, -1)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_functional_shared_layer_out_of_order(tmp_path: Path) -> None:
    # A Dense layer called twice (two nodes), with the layers listed out of dependency order.
    rng = np.random.default_rng(1)
    kernel, bias = rng.normal(size=(12, 12)), rng.normal(size=12)
    entries: list[dict[str, Any]] = [
        {
            "class_name": "Add",
            "name": "sum",
            "config": {"name": "sum"},
            "inbound_nodes": [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]],
        },
        {
            "class_name": "Dense",
            "name": "shared",
            "config": {"name": "shared", "units": 12, "activation": "tanh"},
            "inbound_nodes": [[["flat", 0, 0, {}]], [["shared", 0, 0, {}]]],
        },
        {"class_name": "Flatten", "name": "flat", "config": {"name": "flat"}, "inbound_nodes": [[["in", 0, 0, {}]]]},
        {
            "class_name": "InputLayer",
            "name": "in",
            "config": {"name": "in", "batch_input_shape": [None, 2, 2, 3]},
            "inbound_nodes": [],
        },
    ]
    config = {
        "class_name": "Functional",
        "config": {"name": "shared", "layers": entries, "input_layers": ["in", 0, 0], "output_layers": [["sum", 0, 0]]},
    }
    path = write_h5(tmp_path / "m.h5", entries, {"shared": {"kernel": kernel, "bias": bias}}, model_config=config)
    x = rng.normal(size=(5, 2, 2, 3)).astype(np.float32)

    got = run_onnx(convert_h5(path).SerializeToString(), x)

    first = np.tanh(x.reshape(5, -1) @ kernel + bias)
    np.testing.assert_allclose(got, first + np.tanh(first @ kernel + bias), atol=1e-5)


@pytest.mark.parametrize("form", ["list", "dict"])
def test_sequential_without_input_layer(tmp_path: Path, form: str) -> None:
    # Keras 2.0–2.2 put the input shape on the first layer; 2.0–2.2 wrote Sequential's config as a bare list.
    entries = [
        layer("Flatten", "flatten", batch_input_shape=[None, 2, 2, 3]),
        layer("Dense", "out", units=4, activation="softmax"),
    ]
    body: Any = entries if form == "list" else {"name": "m", "layers": entries}
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(12, 4)), rng.normal(size=4)
    path = write_h5(
        tmp_path / "m.h5",
        entries,
        {"out": {"kernel": kernel, "bias": bias}},
        model_config={"class_name": "Sequential", "config": body},
    )
    x = rng.normal(size=(3, 2, 2, 3)).astype(np.float32)

    got = run_onnx(convert_h5(path).SerializeToString(), x)

    logits = x.reshape(3, -1) @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "padding", "out", "pads"),
    [
        (32, 3, 2, 1, "same", 16, (0, 1)),  # stride 2 on an even size: the extra row goes after
        (33, 3, 2, 1, "same", 17, (1, 1)),
        (32, 4, 1, 1, "same", 32, (1, 2)),  # an even kernel pads one more after
        (32, 4, 1, 2, "same", 32, (3, 3)),  # dilated: extent 7
        (7, 2, 2, 1, "same", 4, (0, 1)),
        (48, 3, 1, 1, "valid", 46, (0, 0)),
        (16, 3, 2, 1, "valid", 7, (0, 0)),
    ],
)
def test_window_pads_like_tensorflow(
    size: int, kernel: int, stride: int, dilation: int, padding: str, out: int, pads: tuple[int, int]
) -> None:
    context = LayerContext(None, LayerSpec("conv", "Conv2D", {"padding": padding}), None)  # type: ignore[arg-type]
    (height, width), onnx_pads = _window(
        context, Tensor("x", (size, size, 1)), (kernel, kernel), (stride, stride), (dilation, dilation)
    )
    assert (height, width) == (out, out)
    assert onnx_pads == [pads[0], pads[0], pads[1], pads[1]]


# --- bad files: one clear message each ------------------------------------------------------------


def assert_refused(path: Path, *fragments: str) -> str:
    with pytest.raises(ModelError) as error:
        convert_h5(path)
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_refuses_a_file_that_is_not_hdf5(tmp_path: Path) -> None:
    path = tmp_path / "fer.h5"
    path.write_text("not a model")
    assert_refused(path, "fer.h5 is not an HDF5 file")


def test_refuses_a_keras_3_archive_and_says_how_to_resave_it(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"")
    assert_refused(path, ".keras archive", 'keras.models.load_model("m.keras").save("m.h5")')


def test_refuses_another_zip_without_calling_it_keras(tmp_path: Path) -> None:
    path = tmp_path / "m.h5"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.txt", "x")
    message = assert_refused(path, "zip archive")
    assert ".keras" not in message


def test_refuses_a_weights_only_file(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "w.h5", [image_input(), layer("Flatten", "flatten")], with_config=False)
    assert_refused(path, "no model config", "weights-only", 'model.save("fer.h5")')


def test_refuses_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "fer.h5"
    path.write_bytes(FER_MODEL.read_bytes()[: FER_MODEL.stat().st_size // 2])
    assert_refused(path, "damaged or truncated")


def test_refuses_a_missing_weight_dataset(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    shutil.copyfile(FIXTURES / "tutorial_k3.h5", path)
    with h5py.File(path, "r+") as file:
        group = file["model_weights/dense"]
        name = next(n for n in group.attrs["weight_names"] if n.endswith("kernel"))
        del group[name]
    assert_refused(path, "layer 'dense'", "missing", "truncated")


def test_refuses_a_weight_of_the_wrong_shape(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    shutil.copyfile(FIXTURES / "tutorial_k3.h5", path)
    with h5py.File(path, "r+") as file:
        group = file["model_weights/conv2d"]
        name = next(n for n in group.attrs["weight_names"] if n.endswith("kernel"))
        del group[name]
        group.create_dataset(name, data=np.zeros((3, 3, 1, 4), np.float32))  # 4 filters, config says 8
    assert_refused(path, "layer 'conv2d'", "(3, 3, 1, 4)", "(3, 3, 1, 8)")


def test_refuses_a_model_whose_input_is_not_an_image(tmp_path: Path) -> None:
    path = write_h5(
        tmp_path / "v.h5",
        [layer("InputLayer", "features", batch_input_shape=[None, 10]), layer("Dense", "out", units=7)],
        {"out": {"kernel": np.zeros((10, 7)), "bias": np.zeros(7)}},
    )
    assert_refused(path, "input 'features'", "[None, 10]", "not an image")


@pytest.mark.parametrize(
    ("entry", "fragments"),
    [
        (layer("LSTM", "lstm_1", units=4), ("layer 'lstm_1' (LSTM) is not supported", "Conv2D")),
        (layer("Conv2D", "c", filters=2, kernel_size=3, padding="causal"), ("layer 'c' (Conv2D)", "'causal'")),
        (layer("MaxPooling2D", "p", data_format="channels_first"), ("layer 'p'", "channels_first")),
        (layer("Activation", "a", activation="gelu"), ("layer 'a'", "activation 'gelu'")),
        (layer("ReLU", "r", threshold=0.5), ("layer 'r'", "threshold")),
        (layer("Conv2D", "g", filters=2, kernel_size=1, groups=2), ("layer 'g'", "groups=2")),
        ({"class_name": "Sequential", "config": {"name": "inner", "layers": []}}, ("nested Sequential",)),
    ],
)
def test_refuses_unsupported_layers_and_options_by_name(
    tmp_path: Path, entry: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    assert_refused(write_h5(tmp_path / "m.h5", [image_input(), entry]), *fragments)


def test_refuses_keras_1_files(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "old.h5", [image_input(), layer("Flatten", "f")], keras_version="1.2.2")
    assert_refused(path, "Keras 1.2.2", "save it again")


def test_supported_layers_cover_the_issue_list() -> None:
    wanted = {
        "InputLayer",
        "Conv2D",
        "SeparableConv2D",
        "DepthwiseConv2D",
        "BatchNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "Add",
        "Concatenate",
        "Dropout",
        "Flatten",
        "Dense",
        "Reshape",
        "Rescaling",
    }
    assert wanted <= set(SUPPORTED_LAYERS)
