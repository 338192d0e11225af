"""Build an ONNX graph while tracking each tensor's Keras shape and memory layout.

Keras works channels-last (NHWC); ONNX's Conv and pooling operators want channels-first (NCHW).
Rather than transposing around every convolution, an image tensor stays NCHW for as long as
consecutive layers want it and is transposed back only where Keras semantics need the NHWC order:
Flatten and Reshape (Keras flattens H, W, C with C fastest), Dense on an image, Concatenate along
an axis, and the model's outputs. :class:`Tensor` records which layout a value is stored in;
:meth:`GraphBuilder.channels_first` and :meth:`GraphBuilder.channels_last` convert (once per value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Opset 17 and IR version 8 load in every ONNX Runtime moodtape supports (1.18 and later).
OPSET = 17
IR_VERSION = 8
BATCH = "N"

TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)


@dataclass(frozen=True)
class Tensor:
    """A value in the graph.

    ``shape`` is the Keras shape without the batch axis, e.g. ``(H, W, C)`` for an image, in Keras'
    order whatever the storage; ``nchw`` is True when the value is stored channels-first.
    """

    name: str
    shape: tuple[int, ...]
    nchw: bool = False

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def channels(self) -> int:
        return self.shape[-1]


class GraphBuilder:
    """Collects nodes and constants; names are made unique from readable hints."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used: set[str] = set()
        self._converted: dict[tuple[str, bool], Tensor] = {}

    def fresh(self, hint: str) -> str:
        """A value name not used before, based on ``hint`` (``conv2d_1/Conv``, ``conv2d_1/Conv_1``…)."""
        name, index = hint, 0
        while name in self._used:
            index += 1
            name = f"{hint}_{index}"
        self._used.add(name)
        return name

    def constant(self, hint: str, array: npt.ArrayLike, dtype: Any = np.float32) -> str:
        """Add ``array`` as an initializer and return its name."""
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(np.asarray(array, dtype=dtype)), name))
        return name

    def node(self, op_type: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add one node with one output and return the output's name."""
        output = self.fresh(f"{hint}/{op_type}")
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def channels_first(self, tensor: Tensor) -> Tensor:
        """The image ``tensor`` stored NCHW (transposed once, then reused)."""
        if tensor.nchw:
            return tensor
        return self._transposed(tensor, nchw=True)

    def channels_last(self, tensor: Tensor) -> Tensor:
        """``tensor`` stored in Keras' own order (NHWC for images)."""
        if not tensor.nchw:
            return tensor
        return self._transposed(tensor, nchw=False)

    def _transposed(self, tensor: Tensor, *, nchw: bool) -> Tensor:
        key = (tensor.name, nchw)
        if key not in self._converted:
            hint = tensor.name.rsplit("/", 1)[0] + ("/to_nchw" if nchw else "/to_nhwc")
            name = self.node("Transpose", [tensor.name], hint, perm=list(TO_NCHW if nchw else TO_NHWC))
            self._converted[key] = Tensor(name, tensor.shape, nchw)
        return self._converted[key]

    def channel_constant(self, hint: str, values: npt.ArrayLike, like: Tensor) -> str:
        """Per-channel ``values`` shaped to broadcast over ``like`` in its storage layout."""
        array = np.asarray(values, dtype=np.float32)
        if like.nchw and array.ndim == 1:
            array = array.reshape(-1, 1, 1)
        return self.constant(hint, array)

    def build(
        self, name: str, input_name: str, input_shape: tuple[int, ...], outputs: list[tuple[str, Tensor]], doc: str
    ) -> onnx.ModelProto:
        """The finished model: one NHWC float input with a dynamic batch, ``outputs`` in Keras order."""
        graph_outputs = []
        for output_name, tensor in outputs:
            stored = self.channels_last(tensor)
            self.nodes.append(helper.make_node("Identity", [stored.name], [output_name], name=f"{output_name}/output"))
            graph_outputs.append(helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [BATCH, *tensor.shape]))
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [BATCH, *input_shape])],
            graph_outputs,
            initializer=self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="moodtape", doc_string=doc
        )
        model.ir_version = IR_VERSION
        return model
