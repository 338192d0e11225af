"""The bundled int8 model computes the numbers it holds on every CPU (vision/int8_weights.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import pytest
from onnx import numpy_helper
from onnx_models import mean_model

from moodtape.vision import int8_weights, models
from moodtape.vision.classifier import create_session

BUNDLED = Path(models.__file__).parent / models.BUNDLED_MODEL


@pytest.fixture(scope="module")
def faces(astronaut_conditions: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return astronaut_conditions


def logits(session: Any, faces: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(session.run(["logits"], {session.get_inputs()[0].name: faces})[0])


def as_written(model_bytes: bytes) -> Any:
    """A session that runs the graph as written, dequantized weights in float: the model's own numbers.

    ORT's basic optimisations fold constants (each weight's dequantization) but fuse no int8 kernel.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def dequantized_weights(model_bytes: bytes) -> dict[str, npt.NDArray[np.float64]]:
    """Each weight ``DequantizeLinear`` reads from an initializer, as the real numbers it stands for."""
    model = onnx.load_from_string(model_bytes)
    found = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values = {}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in found and len(node.input) == 3:
            q, scale, zero = (found[name].astype(np.float64) for name in node.input)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            if scale.size > 1:
                shape[axis] = -1
            values[node.output[0]] = (q - zero.reshape(shape)) * scale.reshape(shape)
    return values


def test_the_bundled_model_reads_faces_with_its_own_numbers_on_this_cpu(faces: npt.NDArray[np.float32]) -> None:
    model_bytes = BUNDLED.read_bytes()
    expected = logits(as_written(model_bytes), faces)
    got = logits(create_session(model_bytes, threads=1), faces)
    # int8 activations are rounded either way; a saturating kernel moved logits by up to 1.4 here.
    np.testing.assert_allclose(got, expected, atol=0.1)
    assert (got.argmax(1) == expected.argmax(1)).all()


def test_uint8_weights_hold_the_same_numbers(faces: npt.NDArray[np.float32]) -> None:
    model_bytes = BUNDLED.read_bytes()
    rewritten = int8_weights.with_uint8_weights(model_bytes)
    before, after = dequantized_weights(model_bytes), dequantized_weights(rewritten)
    assert len(before) >= 20 and before.keys() == after.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)
    kinds = {t.data_type for t in onnx.load_from_string(rewritten).graph.initializer}
    assert onnx.TensorProto.INT8 not in kinds
    # ORT's uint8 × uint8 kernels do not saturate on any CPU: the model's own numbers again.
    expected = logits(as_written(model_bytes), faces)
    np.testing.assert_allclose(logits(create_session(rewritten, threads=1), faces), expected, atol=0.1)


def test_a_float_model_is_left_as_it_is() -> None:
    model_bytes = mean_model(["n", 1, 48, 48], [1.0] * 7)
    assert int8_weights.with_uint8_weights(model_bytes) is model_bytes


def test_only_x86_without_vnni_gets_the_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    model_bytes = BUNDLED.read_bytes()
    for machine, vnni, rewritten in (("arm64", False, False), ("x86_64", True, False), ("AMD64", False, True)):
        int8_weights.u8s8_saturates.cache_clear()
        monkeypatch.setattr(int8_weights.platform, "machine", lambda machine=machine: machine)
        monkeypatch.setattr(int8_weights, "_has_vnni", lambda vnni=vnni: vnni)
        assert (int8_weights.exact_on_this_cpu(model_bytes) != model_bytes) is rewritten, machine
    int8_weights.u8s8_saturates.cache_clear()


def dequantizing(readers: list[tuple[str, ...]]) -> bytes:
    """A graph whose outputs are ``DequantizeLinear`` nodes of shared int8 initializers: ``w`` (four
    values), zero points ``z1``/``z2``, scale ``s``; each reader names its inputs."""
    from onnx import TensorProto, helper

    tensors = [
        numpy_helper.from_array(np.array([-128, -3, 0, 127], dtype=np.int8), "w"),
        numpy_helper.from_array(np.array(2, dtype=np.int8), "z1"),
        numpy_helper.from_array(np.array(-5, dtype=np.int8), "z2"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "s"),
    ]
    nodes = [helper.make_node("DequantizeLinear", list(inputs), [f"out{i}"]) for i, inputs in enumerate(readers)]
    outputs = [helper.make_tensor_value_info(f"out{i}", TensorProto.FLOAT, [4]) for i in range(len(readers))]
    graph = helper.make_graph(nodes, "dequantizing", [], outputs, initializer=tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def outputs(model_bytes: bytes) -> list[npt.NDArray[np.float32]]:
    import onnxruntime as ort

    return list(ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"]).run(None, {}))


def test_a_weight_shared_by_two_zero_points_moves_with_both() -> None:
    model_bytes = dequantizing([("w", "s", "z1"), ("w", "s", "z2")])
    rewritten = int8_weights.with_uint8_weights(model_bytes)
    assert rewritten != model_bytes
    for before, after in zip(outputs(model_bytes), outputs(rewritten), strict=True):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize(
    "readers",
    [
        [("w", "s", "z1"), ("w", "s")],  # a reader without a zero point reads w as it is
        [("w", "s", "z1"), ("z1", "s", "z2")],  # z1 is also a value dequantized with another zero point
    ],
)
def test_a_tensor_another_node_reads_differently_is_left_as_it_is(readers: list[tuple[str, ...]]) -> None:
    model_bytes = dequantizing(readers)
    rewritten = int8_weights.with_uint8_weights(model_bytes)
    for before, after in zip(outputs(model_bytes), outputs(rewritten), strict=True):
        np.testing.assert_array_equal(after, before)
