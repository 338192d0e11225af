"""Adding the ``embedding`` output to an ONNX emotion model (``training/embedding.py``)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from moodtape.training.embedding import EMBEDDING_OUTPUT, add_embedding_output, penultimate_tensors
from moodtape.vision.classifier import create_session


def two_head_model() -> onnx.ModelProto:
    """x (N, 4) → two dense "networks" (relu features 3 wide → 7 logits), averaged into ``logits``."""
    rng = np.random.default_rng(0)
    initializers, nodes = [], []
    for i in range(2):
        for name, shape in ((f"w{i}", (4, 3)), (f"v{i}", (3, 7))):
            initializers.append(numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name))
        nodes += [
            helper.make_node("MatMul", ["x", f"w{i}"], [f"h{i}"]),
            helper.make_node("Relu", [f"h{i}"], [f"f{i}"]),
            helper.make_node("Gemm", [f"f{i}", f"v{i}"], [f"z{i}"]),
        ]
    nodes += [helper.make_node("Add", ["z0", "z1"], ["s"]), helper.make_node("Mul", ["s", "half"], ["logits"])]
    initializers.append(numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"))
    graph = helper.make_graph(
        nodes,
        "two_heads",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 7])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:  # type: ignore[type-arg]
    session = create_session(model.SerializeToString(), threads=1)
    return list(session.run(None, {"x": x}))


def test_the_penultimate_tensors_are_the_inputs_of_each_final_layer() -> None:
    assert penultimate_tensors(two_head_model()) == ["f0", "f1"]


def test_the_embedding_is_added_and_the_logits_do_not_change() -> None:
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    (before,) = run(two_head_model(), x)
    model = add_embedding_output(two_head_model())
    after, embedding = run(model, x)
    np.testing.assert_array_equal(after, before)
    assert [out.name for out in model.graph.output] == ["logits", EMBEDDING_OUTPUT]
    assert embedding.shape == (5, 6)
    # Each half is one network's relu features.
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    np.testing.assert_allclose(embedding[:, :3], np.maximum(x @ weights["w0"], 0), rtol=1e-5)


def test_adding_twice_changes_nothing() -> None:
    once = add_embedding_output(two_head_model())
    assert len(add_embedding_output(once).graph.output) == 2


def test_a_model_without_a_dense_layer_is_refused() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["logits"])],
        "no_dense",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 7])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 7])],
    )
    with pytest.raises(ValueError, match="no Gemm or MatMul"):
        penultimate_tensors(helper.make_model(graph))


def test_the_shipped_model_has_the_embedding() -> None:
    from moodtape.vision.models import bundled_model_bytes

    model = onnx.load_from_string(bundled_model_bytes())
    assert [out.name for out in model.graph.output] == ["logits", EMBEDDING_OUTPUT]
