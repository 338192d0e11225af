"""Keras activation functions (the ``activation=`` argument and the ``Activation`` layer) as ONNX nodes."""

from __future__ import annotations

from typing import Any

from moodtape.errors import ModelError
from moodtape.vision.keras.config import LayerSpec
from moodtape.vision.keras.graph import GraphBuilder, Tensor

# Keras' SELU constants (keras.activations.selu), to the precision Keras writes them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
#: keras.activations.leaky_relu's default slope (the LeakyReLU layer's default, 0.3, differs).
LEAKY_RELU_SLOPE = 0.2

#: Activations that are one elementwise ONNX operator.
_ELEMENTWISE = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}

SUPPORTED = ("linear", "relu", "elu", "selu", "softmax", "sigmoid", "tanh", "leaky_relu")


def apply_activation(graph: GraphBuilder, layer: LayerSpec, tensor: Tensor, activation: Any) -> Tensor:
    """``tensor`` passed through the Keras activation named ``activation`` (``None`` = linear)."""
    name = _activation_name(layer, activation)
    hint = layer.name
    if name in {"linear", None}:
        return tensor
    if name in _ELEMENTWISE:
        output = graph.node(_ELEMENTWISE[name], [tensor.name], hint)
    elif name == "elu":
        output = graph.node("Elu", [tensor.name], hint, alpha=1.0)
    elif name == "selu":
        output = graph.node("Selu", [tensor.name], hint, alpha=SELU_ALPHA, gamma=SELU_SCALE)
    elif name == "leaky_relu":
        output = graph.node("LeakyRelu", [tensor.name], hint, alpha=LEAKY_RELU_SLOPE)
    elif name == "softmax":
        # Keras normalises over the last (channel) axis, which is axis 1 when stored NCHW.
        output = graph.node("Softmax", [tensor.name], hint, axis=1 if tensor.nchw else -1)
    else:
        raise ModelError(
            f"{layer.describe()}: activation {name!r} is not supported (supported: {', '.join(SUPPORTED)})"
        )
    return Tensor(output, tensor.shape, tensor.nchw)


def _activation_name(layer: LayerSpec, activation: Any) -> str | None:
    if activation is None or isinstance(activation, str):
        return activation
    if isinstance(activation, dict):  # Keras 3 may serialise a built-in activation as an object
        name = activation.get("config") if activation.get("class_name") == "function" else None
        if isinstance(name, str):
            return name
    raise ModelError(f"{layer.describe()}: custom activation {str(activation)[:80]} is not supported")
