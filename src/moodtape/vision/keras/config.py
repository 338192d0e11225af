"""Turn a Keras model config (JSON) into layer calls in dependency order.

Keras has written this JSON in several dialects, all handled here:

* Sequential: ``config`` is a list of layers (Keras 2.0–2.2) or ``{"layers": [...]}``; the input
  shape is an ``InputLayer`` (``batch_input_shape`` in Keras 2, ``batch_shape`` in Keras 3), a
  ``batch_input_shape`` on the first layer, or the model's ``build_input_shape``.
* Functional (``Model`` in Keras 2.0, ``Functional`` later): each layer lists its ``inbound_nodes``,
  either as ``[[["conv2d", 0, 0, {}], ...]]`` (Keras 2) or as ``[{"args": [...], "kwargs": {}}]`` with
  ``__keras_tensor__`` entries whose ``keras_history`` is ``[layer, node, tensor]`` (Keras 3).

A tensor is named by the key ``(layer name, node index, tensor index)`` as Keras does; a layer
called twice (shared weights) gives two calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moodtape.errors import ModelError

TensorKey = tuple[str, int, int]

#: Layer classes that are whole models: nested models are not converted.
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})


@dataclass(frozen=True)
class LayerSpec:
    """One Keras layer: its name, class and config dict as saved."""

    name: str
    class_name: str
    config: dict[str, Any]

    def describe(self) -> str:
        """``layer 'conv2d_1' (Conv2D)``: how errors name a layer."""
        return f"layer {self.name!r} ({self.class_name})"


@dataclass(frozen=True)
class Call:
    """One application of a layer to its input tensors."""

    layer: LayerSpec
    inputs: tuple[TensorKey, ...]
    output: TensorKey


@dataclass(frozen=True)
class ModelSpec:
    """A model as a list of calls, dependencies first.

    ``input_shape`` is the Keras batch shape, e.g. ``(None, 64, 64, 1)``.
    """

    name: str
    input_name: str
    input_shape: tuple[int | None, ...]
    calls: tuple[Call, ...]
    outputs: tuple[TensorKey, ...]

    @property
    def input_key(self) -> TensorKey:
        return (self.input_name, 0, 0)


def parse_model_config(config: dict[str, Any]) -> ModelSpec:
    """Parse the root ``model_config`` dict (``{"class_name": ..., "config": ...}``)."""
    class_name = config.get("class_name")
    body = config.get("config")
    if class_name == "Sequential":
        return _sequential(body)
    if class_name in {"Functional", "Model"} and isinstance(body, dict):
        return _functional(body)
    raise ModelError(f"the file holds a {class_name} model; moodtape converts Sequential and Functional models")


def _layer_spec(entry: dict[str, Any]) -> LayerSpec:
    config = entry.get("config") or {}
    name = entry.get("name") or config.get("name")
    class_name = entry.get("class_name")
    if not isinstance(name, str) or not isinstance(class_name, str) or not isinstance(config, dict):
        raise ModelError(f"the model config has a malformed layer entry: {str(entry)[:120]}")
    if class_name in MODEL_CLASSES:
        raise ModelError(
            f"layer {name!r} is a nested {class_name} model, which moodtape does not convert; "
            "flatten it into one model before saving"
        )
    return LayerSpec(name, class_name, config)


def _batch_shape(config: dict[str, Any]) -> list[Any] | None:
    shape = config.get("batch_input_shape") or config.get("batch_shape")
    return list(shape) if isinstance(shape, list | tuple) else None


def _sequential(body: Any) -> ModelSpec:
    if isinstance(body, list):
        entries, name, build_shape = body, "sequential", None
    elif isinstance(body, dict):
        entries, name, build_shape = (
            body.get("layers", []),
            body.get("name", "sequential"),
            body.get("build_input_shape"),
        )
    else:
        raise ModelError("the Sequential model config has no layers")
    layers = [_layer_spec(entry) for entry in entries]
    if not layers:
        raise ModelError("the Sequential model has no layers")
    if layers[0].class_name == "InputLayer":
        first, layers = layers[0], layers[1:]
        input_name, shape = first.name, _batch_shape(first.config)
    else:
        input_name, shape = "input", _batch_shape(layers[0].config) or build_shape
    if shape is None:
        raise ModelError("the Sequential model has no input shape; build it with an Input layer before saving")
    calls, previous = [], (input_name, 0, 0)
    for layer in layers:
        call = Call(layer, (previous,), (layer.name, 0, 0))
        calls.append(call)
        previous = call.output
    return ModelSpec(name, input_name, tuple(shape), tuple(calls), (previous,))


def _functional(body: dict[str, Any]) -> ModelSpec:
    entries = body.get("layers", [])
    inputs = _tensor_list(body.get("input_layers"))
    outputs = _tensor_list(body.get("output_layers"))
    if len(inputs) != 1:
        raise ModelError(f"the model has {len(inputs)} inputs; moodtape converts models with one image input")
    if not outputs:
        raise ModelError("the model config names no outputs")
    input_name = inputs[0][0]
    input_shape: list[Any] | None = None
    calls: list[Call] = []
    for entry in entries:
        layer = _layer_spec(entry)
        if layer.class_name == "InputLayer":
            if layer.name == input_name:
                input_shape = _batch_shape(layer.config)
            continue
        for index, node in enumerate(entry.get("inbound_nodes", [])):
            calls.append(Call(layer, tuple(_node_inputs(node, layer)), (layer.name, index, 0)))
    if input_shape is None:
        raise ModelError(f"the model's input layer {input_name!r} has no input shape")
    return ModelSpec(
        body.get("name", "model"),
        input_name,
        tuple(input_shape),
        _in_dependency_order(calls, (input_name, 0, 0)),
        tuple(outputs),
    )


def _tensor_list(value: Any) -> list[TensorKey]:
    """``input_layers``/``output_layers``: one ``[name, node, tensor]``, a list of them, or a dict of them."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [(str(item[0]), int(item[1]), int(item[2])) for item in value]


def _node_inputs(node: Any, layer: LayerSpec) -> list[TensorKey]:
    if isinstance(node, dict):  # Keras 3
        keys: list[TensorKey] = []
        _collect_keras_tensors(node.get("args", []), keys)
        return keys
    if isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
        return [(str(item[0]), int(item[1]), int(item[2])) for item in node]
    raise ModelError(f"{layer.describe()}: cannot read its inbound node {str(node)[:80]}")


def _collect_keras_tensors(value: Any, keys: list[TensorKey]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, node, tensor = value["config"]["keras_history"]
            keys.append((str(name), int(node), int(tensor)))
        else:
            for item in value.values():
                _collect_keras_tensors(item, keys)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_keras_tensors(item, keys)


def _in_dependency_order(calls: list[Call], input_key: TensorKey) -> tuple[Call, ...]:
    """Order calls so each comes after the calls that produce its inputs (Keras usually saves them so)."""
    ready, ordered, pending = {input_key}, [], list(calls)
    while pending:
        waiting = []
        for call in pending:
            if all(key in ready for key in call.inputs):
                ordered.append(call)
                ready.add(call.output)
            else:
                waiting.append(call)
        if len(waiting) == len(pending):
            call = waiting[0]
            missing = next(key for key in call.inputs if key not in ready)
            raise ModelError(
                f"{call.layer.describe()} takes tensor {missing} that no layer of the model produces "
                "(a multi-output layer or a second input, which moodtape does not convert)"
            )
        pending = waiting
    return tuple(ordered)
