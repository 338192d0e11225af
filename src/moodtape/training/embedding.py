"""Give an exported emotion model a second output, ``embedding``: its penultimate features.

Personal calibration (:mod:`moodtape.vision.calibration`) compares a face with the person's own
examples in the space the classifier's last layer reads, where expressions are far apart and the
features are already invariant to much of lighting and framing. The edit only *adds* an output:
the ``logits`` path is not touched, so predictions stay bit-identical.

The penultimate features are found from the graph, not from layer names: walking back from
``logits``, the first ``Gemm`` or ``MatMul`` met on each path is a network's final layer, and its
data input is that pass's penultimate tensor. An ensemble or a flip-averaged model has several
passes; their features are put side by side (``(n, 256 × passes)`` for ours), in graph order.

Run it once on a model file (the shipped model was edited this way)::

    python -m moodtape.training.embedding src/moodtape/vision/models/emotion.onnx
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Final

import onnx
from onnx import TensorProto, helper

EMBEDDING_OUTPUT: Final = "embedding"
_FINAL_LAYERS: Final = frozenset({"Gemm", "MatMul"})


def _walk_back(model: onnx.ModelProto, start: str, stop_at: frozenset[str]) -> Iterator[int]:
    """Indices of the nodes that ``start`` is computed from; a node whose type is in ``stop_at``
    is yielded but its own inputs are not followed."""
    producers = {name: index for index, node in enumerate(model.graph.node) for name in node.output}
    pending, seen = [start], set()
    while pending:
        tensor = pending.pop()
        if tensor in seen or tensor not in producers:
            continue
        seen.add(tensor)
        index = producers[tensor]
        yield index
        node = model.graph.node[index]
        if node.op_type not in stop_at:
            pending.extend(node.input)


def penultimate_tensors(model: onnx.ModelProto, output: str = "logits") -> list[str]:
    """Names of the tensors that feed the final dense layer of each pass, in graph order.

    Raises:
        ValueError: when no dense layer feeds ``output``.
    """
    nodes = model.graph.node
    finals = {index for index in _walk_back(model, output, _FINAL_LAYERS) if nodes[index].op_type in _FINAL_LAYERS}
    if not finals:
        raise ValueError(f"no Gemm or MatMul feeds {output!r}: cannot find the penultimate features")
    return [nodes[index].input[0] for index in sorted(finals)]


def reads_resampled_input(model: onnx.ModelProto, tensor: str) -> bool:
    """Whether ``tensor`` is computed from a ``MatMul``: in our graphs, a zoomed view's resampling
    (:mod:`moodtape.training.views`), since the networks' own dense layers export as ``Gemm``."""
    return any(model.graph.node[index].op_type == "MatMul" for index in _walk_back(model, tensor, frozenset()))


def add_embedding_output(
    model: onnx.ModelProto, output: str = "logits", skip_resampled: bool = False
) -> onnx.ModelProto:
    """``model`` with an extra float output ``embedding`` ``(batch, features)``; idempotent.

    With ``skip_resampled``, passes that read a zoomed view are left out (unless every pass does):
    they read the same face re-framed, and calibration profiles stay as small as without them.
    The passes are found in the graph, not by their order in the export, because quantization may
    reorder the graph's nodes.
    """
    if any(out.name == EMBEDDING_OUTPUT for out in model.graph.output):
        return model
    sources = penultimate_tensors(model, output)
    if skip_resampled:
        plain = [tensor for tensor in sources if not reads_resampled_input(model, tensor)]
        sources = plain or sources
    if len(sources) == 1:
        node = helper.make_node("Identity", sources, [EMBEDDING_OUTPUT], name="moodtape_embedding")
    else:
        node = helper.make_node("Concat", sources, [EMBEDDING_OUTPUT], name="moodtape_embedding", axis=1)
    model.graph.node.append(node)
    model.graph.output.append(helper.make_tensor_value_info(EMBEDDING_OUTPUT, TensorProto.FLOAT, ["batch", None]))
    onnx.checker.check_model(model)
    return model


def main(argv: list[str]) -> int:
    """Edit each model file named in ``argv`` in place."""
    for path in argv:
        model = add_embedding_output(onnx.load(path))
        onnx.save(model, path)
        print(f"{path}: embedding from {', '.join(penultimate_tensors(model))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
