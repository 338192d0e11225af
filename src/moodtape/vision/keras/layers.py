"""One converter per Keras layer class: config + weights + input tensors → ONNX nodes.

Each converter computes its output's Keras shape itself, so padding is explicit: Keras' "same"
pads ``total = max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0)`` with ``total // 2`` before and
the rest after, which is asymmetric for strides 2 on even sizes or for even kernels. The ONNX pads
are written out from that formula instead of relying on ``auto_pad``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moodtape.errors import ModelError
from moodtape.vision.keras.activations import apply_activation
from moodtape.vision.keras.config import LayerSpec
from moodtape.vision.keras.graph import GraphBuilder, Tensor
from moodtape.vision.keras.h5file import FloatArray, LayerWeights, WeightStore


@dataclass
class LayerContext:
    """What a converter may use: the graph, its layer's config and (on demand) its weights."""

    graph: GraphBuilder
    layer: LayerSpec
    store: WeightStore
    _weights: LayerWeights | None = field(default=None, init=False)

    def option(self, key: str, default: Any = None) -> Any:
        value = self.layer.config.get(key, default)
        return default if value is None else value

    @property
    def weights(self) -> LayerWeights:
        if self._weights is None:
            self._weights = LayerWeights(self.layer.name, self.store.layer(self.layer.name))
        return self._weights

    def unsupported(self, what: str) -> ModelError:
        return ModelError(f"{self.layer.describe()}: {what} is not supported")

    def one_input(self, inputs: list[Tensor], *, image: bool = False) -> Tensor:
        if len(inputs) != 1:
            raise self.unsupported(f"{len(inputs)} inputs")
        if image and not inputs[0].is_image:
            raise self.unsupported(f"input of shape {inputs[0].shape} (it needs an image: height, width, channels)")
        if self.option("data_format", "channels_last") != "channels_last":
            raise self.unsupported(f"data_format={self.option('data_format')!r} (only channels_last)")
        return inputs[0]


Converter = Callable[[LayerContext, list[Tensor]], Tensor]


def _pair(ctx: LayerContext, key: str, default: int | None = None) -> tuple[int, int]:
    value = ctx.option(key, default)
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise ctx.unsupported(f"{key}={value!r}")


def _padding(ctx: LayerContext) -> str:
    padding = str(ctx.option("padding", "valid")).lower()
    if padding not in {"same", "valid"}:
        raise ctx.unsupported(f"padding={padding!r} (only same and valid)")
    return padding


def _window(
    ctx: LayerContext, x: Tensor, kernel: tuple[int, int], strides: tuple[int, int], dilation: tuple[int, int]
) -> tuple[tuple[int, int], list[int]]:
    """Output (height, width) and ONNX pads ``[top, left, bottom, right]`` for a sliding window."""
    padding = _padding(ctx)
    sizes, before, after = [], [], []
    for size, k, s, d in zip(x.shape[:2], kernel, strides, dilation, strict=True):
        extent = (k - 1) * d + 1
        if padding == "valid":
            out, total = (size - extent) // s + 1, 0
        else:
            out = math.ceil(size / s)
            total = max((out - 1) * s + extent - size, 0)
        if out < 1:
            raise ModelError(f"{ctx.layer.describe()}: its {kernel} window does not fit its {x.shape[:2]} input")
        sizes.append(out)
        before.append(total // 2)
        after.append(total - total // 2)
    return (sizes[0], sizes[1]), before + after


def _conv(
    ctx: LayerContext,
    x: Tensor,
    weight: FloatArray,
    bias: FloatArray | None,
    strides: tuple[int, int],
    dilation: tuple[int, int],
    group: int,
    padded: bool = True,
) -> Tensor:
    """An ONNX Conv on ``x`` with an ``(out, in / group, kh, kw)`` weight."""
    kernel = (weight.shape[2], weight.shape[3])
    if padded:
        (height, width), pads = _window(ctx, x, kernel, strides, dilation)
    else:
        (height, width), pads = x.shape[:2], [0, 0, 0, 0]
    graph, hint = ctx.graph, ctx.layer.name
    inputs = [graph.channels_first(x).name, graph.constant(f"{hint}/weight", weight)]
    if bias is not None:
        inputs.append(graph.constant(f"{hint}/bias", bias))
    output = graph.node(
        "Conv",
        inputs,
        hint,
        kernel_shape=list(kernel),
        strides=list(strides),
        dilations=list(dilation),
        pads=pads,
        group=group,
    )
    return Tensor(output, (height, width, weight.shape[0]), nchw=True)


def _bias(ctx: LayerContext, size: int) -> FloatArray | None:
    return ctx.weights.get(("bias",), (size,)) if ctx.option("use_bias", True) else None


def conv2d(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs, image=True)
    _padding(ctx)  # options first: refuse an unsupported one before reading weights
    filters = int(ctx.option("filters"))
    if int(ctx.option("groups", 1)) != 1:
        raise ctx.unsupported(f"groups={ctx.option('groups')}")
    weight = ctx.weights.get(("kernel",), (*_pair(ctx, "kernel_size"), x.channels, filters))
    y = _conv(
        ctx,
        x,
        weight.transpose(3, 2, 0, 1),
        _bias(ctx, filters),
        _pair(ctx, "strides", 1),
        _pair(ctx, "dilation_rate", 1),
        group=1,
    )
    return apply_activation(ctx.graph, ctx.layer, y, ctx.option("activation"))


def _depthwise_weight(ctx: LayerContext, x: Tensor, kernel: tuple[int, int], multiplier: int) -> FloatArray:
    # Keras: (kh, kw, in, multiplier), output channel c·multiplier + m. ONNX grouped conv: (in·multiplier, 1, kh, kw).
    weight = ctx.weights.get(("depthwise_kernel", "kernel"), (*kernel, x.channels, multiplier))
    return weight.reshape(*kernel, x.channels * multiplier).transpose(2, 0, 1)[:, None]


def depthwise_conv2d(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs, image=True)
    _padding(ctx)  # options first: refuse an unsupported one before reading weights
    multiplier = int(ctx.option("depth_multiplier", 1))
    weight = _depthwise_weight(ctx, x, _pair(ctx, "kernel_size"), multiplier)
    y = _conv(
        ctx,
        x,
        weight,
        _bias(ctx, x.channels * multiplier),
        _pair(ctx, "strides", 1),
        _pair(ctx, "dilation_rate", 1),
        x.channels,
    )
    return apply_activation(ctx.graph, ctx.layer, y, ctx.option("activation"))


def separable_conv2d(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs, image=True)
    _padding(ctx)  # options first: refuse an unsupported one before reading weights
    multiplier, filters = int(ctx.option("depth_multiplier", 1)), int(ctx.option("filters"))
    depthwise = _depthwise_weight(ctx, x, _pair(ctx, "kernel_size"), multiplier)
    y = _conv(ctx, x, depthwise, None, _pair(ctx, "strides", 1), _pair(ctx, "dilation_rate", 1), x.channels)
    pointwise = ctx.weights.get(("pointwise_kernel",), (1, 1, x.channels * multiplier, filters))
    y = _conv(ctx, y, pointwise.transpose(3, 2, 0, 1), _bias(ctx, filters), (1, 1), (1, 1), 1, padded=False)
    return apply_activation(ctx.graph, ctx.layer, y, ctx.option("activation"))


def dense(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    # Keras' Dense multiplies along the last axis, so an image input goes back to NHWC first.
    x = ctx.graph.channels_last(ctx.one_input(inputs))
    units = int(ctx.option("units"))
    kernel = ctx.weights.get(("kernel",), (x.channels, units))
    graph, hint = ctx.graph, ctx.layer.name
    output = graph.node("MatMul", [x.name, graph.constant(f"{hint}/kernel", kernel)], hint)
    bias = _bias(ctx, units)
    if bias is not None:
        output = graph.node("Add", [output, graph.constant(f"{hint}/bias", bias)], hint)
    y = Tensor(output, (*x.shape[:-1], units))
    return apply_activation(graph, ctx.layer, y, ctx.option("activation"))


def batch_normalization(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs)
    axis = ctx.option("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(x.shape)):
        raise ctx.unsupported(f"axis={ctx.option('axis')!r} (only the last, channel axis)")
    if ctx.option("renorm", False):
        raise ctx.unsupported("renorm=True")
    channels, epsilon = x.channels, np.float32(ctx.option("epsilon", 1e-3))
    shape = (channels,)
    weights = ctx.weights
    mean = weights.get(("moving_mean",), shape)
    variance = weights.get(("moving_variance",), shape)
    gamma = weights.get(("gamma",), shape) if ctx.option("scale", True) else np.ones(shape, np.float32)
    beta = weights.get(("beta",), shape) if ctx.option("center", True) else np.zeros(shape, np.float32)
    # The inference formula of tf.nn.batch_normalization, in float32: x·a + (β − μ·a), a = γ / √(σ² + ε).
    factor = (np.float32(1.0) / np.sqrt(variance + epsilon)) * gamma
    shift = beta - mean * factor
    graph, hint = ctx.graph, ctx.layer.name
    output = graph.node("Mul", [x.name, graph.channel_constant(f"{hint}/scale", factor, x)], hint)
    output = graph.node("Add", [output, graph.channel_constant(f"{hint}/shift", shift, x)], hint)
    return Tensor(output, x.shape, x.nchw)


def activation(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    return apply_activation(ctx.graph, ctx.layer, ctx.one_input(inputs), ctx.option("activation"))


def relu(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs)
    if float(ctx.option("threshold", 0.0)) != 0.0:
        raise ctx.unsupported(f"threshold={ctx.option('threshold')}")
    slope, max_value = float(ctx.option("negative_slope", 0.0)), ctx.option("max_value")
    graph, hint = ctx.graph, ctx.layer.name
    output = graph.node("LeakyRelu", [x.name], hint, alpha=slope) if slope else graph.node("Relu", [x.name], hint)
    if max_value is not None:
        output = graph.node("Min", [output, graph.constant(f"{hint}/max_value", max_value)], hint)
    return Tensor(output, x.shape, x.nchw)


def leaky_relu(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs)
    # Keras 2 calls the slope alpha, Keras 3 negative_slope; both default to 0.3.
    slope = float(ctx.option("negative_slope", ctx.option("alpha", 0.3)))
    return Tensor(ctx.graph.node("LeakyRelu", [x.name], ctx.layer.name, alpha=slope), x.shape, x.nchw)


def _pooling(op_type: str) -> Converter:
    def convert(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
        x = ctx.one_input(inputs, image=True)
        kernel = _pair(ctx, "pool_size", 2)
        strides = _pair(ctx, "strides") if ctx.option("strides") is not None else kernel
        (height, width), pads = _window(ctx, x, kernel, strides, (1, 1))
        # Keras leaves "same" padding out of an average, as count_include_pad=0 does.
        extra = {"count_include_pad": 0} if op_type == "AveragePool" else {}
        output = ctx.graph.node(
            op_type,
            [ctx.graph.channels_first(x).name],
            ctx.layer.name,
            kernel_shape=list(kernel),
            strides=list(strides),
            pads=pads,
            **extra,
        )
        return Tensor(output, (height, width, x.channels), nchw=True)

    return convert


def _global_pooling(op_type: str) -> Converter:
    def convert(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
        x = ctx.one_input(inputs, image=True)
        graph, hint = ctx.graph, ctx.layer.name
        output = graph.node(op_type, [graph.channels_first(x).name], hint)
        if ctx.option("keepdims", False):
            return Tensor(output, (1, 1, x.channels), nchw=True)
        return Tensor(graph.node("Flatten", [output], hint, axis=1), (x.channels,))

    return convert


def add(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    if len(inputs) < 2 or any(t.shape != inputs[0].shape for t in inputs):
        raise ctx.unsupported(f"adding shapes {[t.shape for t in inputs]} (needs two or more of one shape)")
    graph, first = ctx.graph, inputs[0]
    names = [(graph.channels_first(t) if first.nchw else graph.channels_last(t)).name for t in inputs]
    output = names[0]
    for name in names[1:]:
        output = graph.node("Add", [output, name], ctx.layer.name)
    return Tensor(output, first.shape, first.nchw)


def concatenate(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    rank = len(inputs[0].shape)
    axis = int(ctx.option("axis", -1))
    axis = axis + rank + 1 if axis < 0 else axis  # Keras counts the batch axis
    if len(inputs) < 2 or not 1 <= axis <= rank or any(len(t.shape) != rank for t in inputs):
        raise ctx.unsupported(f"concatenating shapes {[t.shape for t in inputs]} along axis {ctx.option('axis')}")
    for t in inputs:
        if t.shape[: axis - 1] + t.shape[axis:] != inputs[0].shape[: axis - 1] + inputs[0].shape[axis:]:
            raise ctx.unsupported(f"concatenating shapes {[t.shape for t in inputs]} along axis {axis}")
    shape = list(inputs[0].shape)
    shape[axis - 1] = sum(t.shape[axis - 1] for t in inputs)
    graph = ctx.graph
    if inputs[0].nchw:  # keep NCHW: Keras axes 1, 2, 3 (H, W, C) are NCHW axes 2, 3, 1
        parts, onnx_axis = [graph.channels_first(t) for t in inputs], {1: 2, 2: 3, 3: 1}[axis]
    else:
        parts, onnx_axis = [graph.channels_last(t) for t in inputs], axis
    output = graph.node("Concat", [t.name for t in parts], ctx.layer.name, axis=onnx_axis)
    return Tensor(output, tuple(shape), inputs[0].nchw)


def dropout(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    return ctx.one_input(inputs)  # does nothing at inference


def flatten(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    # Keras flattens in NHWC order (channels fastest), so an NCHW image is transposed back first.
    x = ctx.graph.channels_last(ctx.one_input(inputs))
    if len(x.shape) == 1:
        return x
    size = int(np.prod(x.shape))
    return Tensor(ctx.graph.node("Flatten", [x.name], ctx.layer.name, axis=1), (size,))


def reshape(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.graph.channels_last(ctx.one_input(inputs))
    target = [int(v) for v in ctx.option("target_shape", [])]
    size, known = int(np.prod(x.shape)), int(np.prod([v for v in target if v != -1]))
    if target.count(-1) == 1 and known and size % known == 0:
        target[target.index(-1)] = size // known
    if not target or any(v < 1 for v in target) or int(np.prod(target)) != size:
        raise ctx.unsupported(f"target_shape={ctx.option('target_shape')} for an input of shape {x.shape}")
    graph, hint = ctx.graph, ctx.layer.name
    # 0 copies the (dynamic) batch size from the input.
    shape = graph.constant(f"{hint}/shape", [0, *target], dtype=np.int64)
    return Tensor(graph.node("Reshape", [x.name, shape], hint), tuple(target))


def rescaling(ctx: LayerContext, inputs: list[Tensor]) -> Tensor:
    x = ctx.one_input(inputs)
    graph, hint, output = ctx.graph, ctx.layer.name, x.name
    for key, op_type, neutral in (("scale", "Mul", 1.0), ("offset", "Add", 0.0)):
        value = ctx.option(key, neutral)
        if isinstance(value, int | float):
            if value != neutral:
                output = graph.node(op_type, [output, graph.constant(f"{hint}/{key}", value)], hint)
        elif isinstance(value, list) and len(value) == x.channels:
            output = graph.node(op_type, [output, graph.channel_constant(f"{hint}/{key}", value, x)], hint)
        else:
            raise ctx.unsupported(f"{key}={value!r} (a number or one per channel)")
    return Tensor(output, x.shape, x.nchw)


CONVERTERS: dict[str, Converter] = {
    "Conv2D": conv2d,
    "SeparableConv2D": separable_conv2d,
    "DepthwiseConv2D": depthwise_conv2d,
    "BatchNormalization": batch_normalization,
    "Activation": activation,
    "ReLU": relu,
    "LeakyReLU": leaky_relu,
    "MaxPooling2D": _pooling("MaxPool"),
    "AveragePooling2D": _pooling("AveragePool"),
    "GlobalAveragePooling2D": _global_pooling("GlobalAveragePool"),
    "GlobalMaxPooling2D": _global_pooling("GlobalMaxPool"),
    "Add": add,
    "Concatenate": concatenate,
    "Dropout": dropout,
    "Flatten": flatten,
    "Dense": dense,
    "Reshape": reshape,
    "Rescaling": rescaling,
}

SUPPORTED_LAYERS = ("InputLayer", *CONVERTERS)


def converter_for(layer: LayerSpec) -> Converter:
    """The converter of ``layer``'s class, or an error naming the layer and what is supported."""
    converter = CONVERTERS.get(layer.class_name)
    if converter is None:
        raise ModelError(f"{layer.describe()} is not supported; moodtape converts {', '.join(SUPPORTED_LAYERS)}")
    return converter
