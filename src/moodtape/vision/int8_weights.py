"""Int8 weights that ONNX Runtime multiplies exactly on every CPU.

moodtape's model is quantized to int8 in ONNX's QDQ form: uint8 activations times int8 weights
("U8S8"). ONNX Runtime computes U8S8 products exactly on CPUs with VNNI instructions (AVX512-VNNI,
AVX-VNNI) and on ARM. On other x86-64 CPUs (AVX2 without VNNI: AMD Zen 1–3, Intel before Ice Lake
and Alder Lake) its kernel adds pairs of products in 16-bit lanes, which saturate. Measured on an
AMD EPYC with AVX2 only (``python -m benchmarks.int8_weights``): 7 % of PublicTest's faces got
another label than the model's own arithmetic gives, and accuracy fell from 69.63 % to 68.91 %.

ONNX Runtime's U8U8 kernels do not saturate. An int8 weight ``q`` with zero point ``z`` is the uint8
weight ``q + 128`` with zero point ``z + 128``: the same real number, so the rewrite here changes no
value in the model, only the kernel ONNX Runtime picks. It costs time (about 35 % more per face on
that CPU), so it is done only where U8S8 saturates. The model's identity stays that of its file.
"""

from __future__ import annotations

import functools
import importlib
import platform
from pathlib import Path
from typing import Final

import numpy as np

#: What ``platform.machine()`` says on x86-64 (and 32-bit x86) across Linux, macOS and Windows.
_X86: Final[frozenset[str]] = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})
#: Linux ``/proc/cpuinfo`` flags of the instructions that make ONNX Runtime's U8S8 products exact.
_VNNI_FLAGS: Final[frozenset[str]] = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


@functools.cache
def u8s8_saturates() -> bool:
    """Whether ONNX Runtime's uint8 × int8 products may saturate on this CPU (x86 without VNNI)."""
    if platform.machine().lower() not in _X86:
        return False
    return not _has_vnni()


def _has_vnni() -> bool:
    """VNNI from the Linux kernel's CPU flags, else from NumPy's table of the CPU's features.

    NumPy keeps that table in a private module (``np.show_runtime()`` prints it); where it cannot be
    read the answer is "no VNNI", which costs speed, never a wrong number.
    """
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    if not _VNNI_FLAGS.isdisjoint(flags):
        return True
    features: dict[str, bool] = {}
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            features = getattr(importlib.import_module(module), "__cpu_features__", {})
            break
        except ImportError:
            continue
    return any(features.get(name) for name in ("AVX512VNNI", "AVX_VNNI", "AVX512_CLX", "AVX512_ICL", "AVX512_SPR"))


def exact_on_this_cpu(model_bytes: bytes) -> bytes:
    """``model_bytes``, with its int8 weights made uint8 where this CPU's U8S8 products saturate."""
    return with_uint8_weights(model_bytes) if u8s8_saturates() else model_bytes


def with_uint8_weights(model_bytes: bytes) -> bytes:
    """The same model with every int8 weight that only ``DequantizeLinear`` reads stored as uint8.

    Weights and their zero points both move up by 128, so each dequantized value is unchanged.
    A model without such weights (a float model, a converted Keras file) comes back as it was.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def weight_reader(node: onnx.NodeProto) -> bool:
        """A ``DequantizeLinear`` of a stored int8 tensor with its stored zero point: safe to shift."""
        return (
            node.op_type == "DequantizeLinear"
            and len(node.input) == 3
            and all(initializers.get(name) is not None for name in (node.input[0], node.input[2]))
            and all(initializers[name].data_type == onnx.TensorProto.INT8 for name in (node.input[0], node.input[2]))
        )

    # Decide before changing anything: a tensor moves only if every node reading it is such a
    # reader and each of those readers' other tensor moves too (shifting one side of a pair alone
    # would change that node's numbers), so drop tensors until that holds.
    moving = {name for node in graph.node if weight_reader(node) for name in (node.input[0], node.input[2])}
    while True:
        staying = {
            name
            for name in moving
            for reader in readers[name]
            if not weight_reader(reader) or not {reader.input[0], reader.input[2]} <= moving
        }
        if not staying:
            break
        moving -= staying
    for name in moving:
        tensor = initializers[name]
        shifted = (numpy_helper.to_array(tensor).astype(np.int16) + 128).astype(np.uint8)
        tensor.CopyFrom(numpy_helper.from_array(shifted, name))
    changed = moving
    return model.SerializeToString() if changed else model_bytes
