"""Open a Keras ``.h5`` file and read its model config and weights, refusing what is not a whole model.

A file written by ``model.save("fer.h5")`` (Keras 2.x, or Keras 3's legacy HDF5 format) holds the
architecture as JSON in the root attribute ``model_config`` and the weights under
``model_weights/<layer>/``: each layer group lists its datasets in the attribute ``weight_names``,
e.g. ``conv2d_1/kernel:0`` (Keras 2) or ``conv2d/kernel`` (Keras 3). The part before the last ``/``
is a TensorFlow name scope that need not match the layer's name, so weights are looked up by the
last part alone, without the ``:0`` suffix.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

from moodtape.errors import ModelError

FloatArray = npt.NDArray[np.float32]

#: The first bytes of an HDF5 file (the superblock signature).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def open_keras_h5(path: Path) -> h5py.File:
    """Open ``path`` read-only, with a message that says what to do for each kind of wrong file."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if zipfile.is_zipfile(path):
        if _is_keras_archive(path):
            raise ModelError(
                f"{path.name} is a Keras 3 .keras archive, not an HDF5 file; re-save it as .h5 where Keras is "
                f'installed: keras.models.load_model("{path.name}").save("{path.stem}.h5")'
            )
        raise ModelError(f"{path.name} is a zip archive, not an HDF5 file; expected a Keras model saved as .h5")
    with path.open("rb") as file:
        head = file.read(len(HDF5_SIGNATURE))
    if head != HDF5_SIGNATURE:
        raise ModelError(f'{path.name} is not an HDF5 file; expected a Keras model saved with model.save("fer.h5")')
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ModelError(f"{path.name} is damaged or truncated: HDF5 cannot open it ({_first_line(exc)})") from None


def _is_keras_archive(path: Path) -> bool:
    """A Keras 3 ``.keras`` file is a zip holding ``config.json`` (and ``model.weights.h5``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def read_model_config(file: h5py.File, name: str) -> dict[str, Any]:
    """The parsed ``model_config`` JSON, or an error explaining that only weights were saved."""
    raw = file.attrs.get("model_config")
    if raw is None:
        kind = "a weights-only file" if _has_weights(file) else "not a Keras model file"
        raise ModelError(
            f"{name} has no model config ({kind}); moodtape needs the whole model: "
            'save it with model.save("fer.h5"), not model.save_weights()'
        )
    text = raw.decode("utf-8") if isinstance(raw, bytes | np.bytes_) else str(raw)
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{name}: the model config is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelError(f"{name}: the model config has no class_name; it is not a Keras model config")
    return config


def _has_weights(file: h5py.File) -> bool:
    return "layer_names" in file.attrs or "model_weights" in file or "layers" in file


def check_saved_by(file: h5py.File, name: str) -> str:
    """The Keras version that wrote the file; refuses Keras 1 and Theano files, whose weights differ."""
    version = _text(file.attrs.get("keras_version", "unknown"))
    backend = _text(file.attrs.get("backend", "tensorflow"))
    if version.startswith("1."):
        raise ModelError(f"{name} was saved by Keras {version}; load it in Keras 2 and save it again with model.save()")
    if backend == "theano":
        raise ModelError(f"{name} was saved with the Theano backend (flipped kernels); re-save it with TensorFlow")
    return version


class WeightStore:
    """Each layer's weights by short name (``kernel``, ``bias``, ``gamma``, …), read on demand."""

    def __init__(self, file: h5py.File) -> None:
        group = file.get("model_weights")
        # model.save() writes model_weights/; a few old writers put the layer groups at the root.
        self._root: h5py.Group = group if isinstance(group, h5py.Group) else file

    def layer(self, layer_name: str) -> dict[str, FloatArray]:
        """All weights of ``layer_name``; empty when the layer has none."""
        group = self._root.get(layer_name)
        if group is None:
            return {}
        weights: dict[str, FloatArray] = {}
        for full_name in (_text(n) for n in group.attrs.get("weight_names", [])):
            short = full_name.rsplit("/", 1)[-1].split(":", 1)[0]
            try:
                dataset = group[full_name]
                weights[short] = np.asarray(dataset[()], dtype=np.float32)
            except KeyError:
                raise ModelError(
                    f"layer {layer_name!r}: weight {full_name!r} is missing from the file; "
                    "it is truncated or was saved incompletely"
                ) from None
            except OSError as exc:
                raise ModelError(
                    f"layer {layer_name!r}: weight {full_name!r} cannot be read, the file is damaged "
                    f"({_first_line(exc)})"
                ) from None
        return weights


class LayerWeights:
    """The weights of one layer, checked against the shapes its config implies."""

    def __init__(self, layer: str, arrays: dict[str, FloatArray]) -> None:
        self.layer = layer
        self.arrays = arrays

    def get(self, names: tuple[str, ...], shape: tuple[int, ...]) -> FloatArray:
        """The first of ``names`` present (Keras 2 and 3 name some weights differently), of ``shape``."""
        for name in names:
            if name in self.arrays:
                array = self.arrays[name]
                if array.shape != shape:
                    raise ModelError(
                        f"layer {self.layer!r}: weight {name!r} has shape {array.shape} but the model config "
                        f"implies {shape}; the file is damaged or does not match its config"
                    )
                return array
        found = ", ".join(sorted(self.arrays)) or "none"
        raise ModelError(
            f"layer {self.layer!r}: weight {names[0]!r} is missing (found: {found}); "
            "the file is truncated or does not match its config"
        )


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes | np.bytes_) else str(value)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
