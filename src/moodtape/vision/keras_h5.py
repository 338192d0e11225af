"""Convert a Keras ``.h5`` emotion model (the classic ``fer.h5``) to ONNX, without TensorFlow.

The ONNX model computes exactly what the Keras model computes, on the same input: a float
batch ``(N, height, width, channels)`` (NHWC, as Keras) with no preprocessing folded in, because how
pixels were scaled in training is not in the file; that comes from a preset (see
:mod:`moodtape.vision.presets`). The Keras model's output is the ONNX model's first output.

Only h5py and onnx are needed; the work is split across :mod:`moodtape.vision.keras`. The file is
read in a child process with a time limit (:mod:`moodtape.vision.child`): a damaged file can make
HDF5 hang or crash, and that must end as a :class:`~moodtape.errors.ModelError`, not take the
server or the command with it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import onnx

from moodtape.errors import ModelError
from moodtape.vision.child import ChildCrashedError, ChildTimeoutError, run_bounded
from moodtape.vision.keras.config import ModelSpec, parse_model_config
from moodtape.vision.keras.graph import GraphBuilder, Tensor
from moodtape.vision.keras.h5file import WeightStore, check_saved_by, open_keras_h5, read_model_config
from moodtape.vision.keras.layers import SUPPORTED_LAYERS, LayerContext, converter_for

__all__ = ["READ_SECONDS", "SUPPORTED_LAYERS", "Conversion", "convert_h5", "convert_h5_file"]

#: Time allowed to read and convert one file; the classic fer.h5 (2 MB) takes well under a second.
READ_SECONDS: Final[float] = 60.0


@dataclass(frozen=True)
class Conversion:
    """A converted model and what the CLI reports about it."""

    model: onnx.ModelProto
    name: str
    keras_version: str
    layers: int  # Keras layers, InputLayer included
    input_shape: tuple[int, int, int]  # height, width, channels
    output_shape: tuple[int, ...]  # of the first output, without the batch axis
    seconds: float


def convert_h5(path: str | Path, *, seconds: float = READ_SECONDS) -> onnx.ModelProto:
    """The ONNX equivalent of the Keras model saved at ``path`` (``model.save("fer.h5")``).

    Raises:
        ModelError: for a file that is not a whole Keras model, a damaged file, a layer or option
            moodtape does not convert (the message names the layer), or a file HDF5 could not
            read within ``seconds`` or crashed on.
    """
    return convert_h5_file(path, seconds=seconds).model


def convert_h5_file(path: str | Path, *, seconds: float = READ_SECONDS) -> Conversion:
    """Like :func:`convert_h5`, with the facts a caller may want to print; the work runs in a child process."""
    start = time.perf_counter()
    name = Path(path).name
    try:
        conversion = run_bounded(_convert_here, str(path), seconds=seconds)
    except ChildTimeoutError:
        raise ModelError(
            f"could not read {name} within {seconds:g} s: is it a Keras .h5 model? (the file may be damaged)"
        ) from None
    except ChildCrashedError as exc:
        raise ModelError(
            f"could not read {name}: the HDF5 reader crashed ({exc}); is it a Keras .h5 model? "
            "(the file may be damaged)"
        ) from None
    return dataclasses.replace(conversion, seconds=time.perf_counter() - start)


def _convert_here(path: str) -> Conversion:
    """The conversion itself, in this process (called in the child)."""
    start = time.perf_counter()
    file = Path(path)
    with open_keras_h5(file) as h5:
        try:
            keras_version = check_saved_by(h5, file.name)
            spec = parse_model_config(read_model_config(h5, file.name))
            input_shape = _image_input(spec)
            store = WeightStore(h5)
            graph = GraphBuilder()
            outputs = _convert_calls(spec, graph, store, input_shape)
        except (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
            # h5py reports damage deep inside a file as any of these (found by fuzzing).
            first_line = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{file.name} is damaged: HDF5 could not read part of it ({first_line})") from None
    output_names = [graph.fresh(key[0]) for key in spec.outputs]
    model = graph.build(
        spec.name,
        spec.input_name,
        input_shape,
        list(zip(output_names, outputs, strict=True)),
        doc=f"Converted by moodtape from Keras {keras_version} model {spec.name!r} ({file.name}).",
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # onnx raises several checker/inference error types
        raise ModelError(f"{file.name}: the converted model is not valid ONNX ({exc}); please report this") from None
    layers = len({call.layer.name for call in spec.calls}) + 1
    return Conversion(
        model, spec.name, keras_version, layers, input_shape, outputs[0].shape, time.perf_counter() - start
    )


def _image_input(spec: ModelSpec) -> tuple[int, int, int]:
    shape = spec.input_shape
    fixed = all(isinstance(v, int) and v > 0 for v in shape[1:])
    if len(shape) != 4 or not fixed or shape[3] not in (1, 3):
        raise ModelError(
            f"the model's input {spec.input_name!r} has shape {list(shape)}, not an image; moodtape converts "
            "models that take images of a fixed size: (batch, height, width, 1 or 3 channels)"
        )
    height, width, channels = (int(v or 0) for v in shape[1:])
    return (height, width, channels)


def _convert_calls(
    spec: ModelSpec, graph: GraphBuilder, store: WeightStore, input_shape: tuple[int, int, int]
) -> list[Tensor]:
    # Reserve the input's name so that no node output takes it.
    tensors = {spec.input_key: Tensor(graph.fresh(spec.input_name), input_shape)}
    for call in spec.calls:
        context = LayerContext(graph, call.layer, store)
        tensors[call.output] = converter_for(call.layer)(context, [tensors[key] for key in call.inputs])
    missing = [key for key in spec.outputs if key not in tensors]
    if missing:
        raise ModelError(f"the model's output {missing[0]} is not produced by any layer")
    return [tensors[key] for key in spec.outputs]
