"""Tiny ONNX emotion "models" built in code, so classifier tests need no trained network.

The graph takes the mean of the input image and multiplies it by a weight row:
``logits[i] = mean(x) * weights[i] + bias[i]``. Its outputs are therefore known in closed form.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def mean_model(
    input_shape: Sequence[int | str],
    weights: Sequence[float],
    bias: Sequence[float] | None = None,
    metadata: dict[str, str] | None = None,
    softmax_output: bool = False,
) -> bytes:
    """ONNX bytes of ``x → mean over all but the batch axis → × weights + bias`` (→ softmax)."""
    n_out = len(weights)
    w = numpy_helper.from_array(np.asarray(weights, dtype=np.float32).reshape(1, n_out), "w")
    b = numpy_helper.from_array(np.asarray(bias or [0.0] * n_out, dtype=np.float32), "b")
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["m", "one"], ["m2"]),
        helper.make_node("MatMul", ["m2", "w"], ["mw"]),
        helper.make_node("Add", ["mw", "b"], ["logits"] if not softmax_output else ["z"]),
    ]
    if softmax_output:
        nodes.append(helper.make_node("Softmax", ["z"], ["logits"], axis=1))
    one = numpy_helper.from_array(np.array([1], dtype=np.int64), "one")
    graph = helper.make_graph(
        nodes,
        "mean_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [input_shape[0], n_out])],
        initializer=[w, b, one],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model.SerializeToString()
