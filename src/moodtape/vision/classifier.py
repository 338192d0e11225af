"""Emotion classification of face crops on ONNX Runtime.

``EmotionClassifier.predict`` is ``preprocess`` → forward → ``_postprocess``, so both ends are
testable without a model. Postprocessing maps the model's label order onto FER2013's and turns
outputs into calibrated probabilities:

* a model whose metadata says what it outputs (``moodtape.output``: ``logits`` for ours) is
  read that way;
* otherwise, outputs that are already probabilities (non-negative rows summing to 1, as Keras
  softmax models give) are taken as they are, and anything else is taken as logits.

Logits are divided by the model's temperature (fitted on PublicTest for our model, see the model
card) and passed through a softmax.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError
from moodtape.vision.exposure import stretch_contrast
from moodtape.vision.neutral_reference import reference_for
from moodtape.vision.pixel_arrays import as_pixels
from moodtape.vision.presets import Preset, get_preset

#: Metadata keys moodtape writes into its ONNX files.
META_PRESET: Final = "moodtape.preset"
META_TEMPERATURE: Final = "moodtape.temperature"
META_UNCERTAIN: Final = "moodtape.uncertain_below"
META_LABELS: Final = "moodtape.labels"
#: ``logits`` or ``probabilities``; without it, outputs are judged by :func:`looks_like_probabilities`.
META_OUTPUT: Final = "moodtape.output"
#: The optional second output: penultimate features, read by personal calibration.
EMBEDDING_OUTPUT: Final = "embedding"

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class InputSpec:
    """What the network's input tensor looks like, read from the model."""

    height: int
    width: int
    channels: int
    layout: str  # "nchw" or "nhwc"


def input_spec_from_shape(shape: list[Any]) -> InputSpec:
    """Infer size, channels and layout from an ONNX input shape such as ``[N, 1, 48, 48]``.

    Raises:
        ModelError: when the input is not a batch of images.
    """
    if len(shape) != 4:
        raise ModelError(f"model input has shape {shape}; expected an image batch (N, H, W, C) or (N, C, H, W)")
    _, a, b, c = shape
    if c in (1, 3) and isinstance(a, int) and isinstance(b, int) and a > 4:
        return InputSpec(a, b, c, "nhwc")
    if a in (1, 3) and isinstance(b, int) and isinstance(c, int) and b > 4:
        return InputSpec(b, c, a, "nchw")
    raise ModelError(f"model input has shape {shape}; expected a fixed-size image with 1 or 3 channels")


def softmax(logits: FloatArray, temperature: float = 1.0) -> FloatArray:
    """Row-wise softmax of ``logits / temperature``, computed stably."""
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


def looks_like_probabilities(outputs: FloatArray) -> bool:
    """True for rows that are non-negative and sum to 1, as a softmax layer gives."""
    return bool(np.all(outputs >= 0) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3))


class EmotionClassifier:
    """Classifies face crops into the 7 FER2013 emotions.

    Args:
        session: an ``onnxruntime.InferenceSession`` whose first output is logits or probabilities.
        preset: pixel scaling, colour and the model's label order.
        temperature: logits are divided by it before the softmax (ignored for probability outputs).
        uncertain_below: a face whose top probability is below this is marked uncertain.
        neutral_reference: how the model reads a typical resting face, the target of personal
            calibration's baseline (:mod:`moodtape.vision.neutral_reference`); ``None`` if unknown.
    """

    def __init__(
        self,
        session: Any,
        preset: Preset,
        temperature: float = 1.0,
        uncertain_below: float = 0.0,
        name: str = "model",
        output: str | None = None,
        model_id: str = "",
        neutral_reference: tuple[float, ...] | None = None,
    ) -> None:
        self.session = session
        self.preset = preset
        self.temperature = temperature
        self.uncertain_below = uncertain_below
        self.name = name
        if output not in (None, "logits", "probabilities"):
            raise ModelError(f"{name}: unknown output kind {output!r}; expected logits or probabilities")
        self.output = output
        #: SHA-256 of the model file: calibration profiles are tied to it.
        self.model_id = model_id
        self.neutral_reference = neutral_reference
        #: Whether the model also outputs its penultimate features (see :meth:`predict_with_embedding`).
        self.has_embedding = any(out.name == EMBEDDING_OUTPUT for out in session.get_outputs())
        model_input = session.get_inputs()[0]
        self.input_name: str = model_input.name
        self.spec = input_spec_from_shape(list(model_input.shape))
        self._check_output_size()
        # Reorders the model's outputs into FER2013 order.
        self._order = np.array([preset.labels.index(label) for label in EMOTIONS])

    def _check_output_size(self) -> None:
        shape = self.session.get_outputs()[0].shape
        size = shape[-1] if shape else None
        if isinstance(size, int) and size != len(self.preset.labels):
            raise ModelError(
                f"{self.name} has {size} outputs but {len(self.preset.labels)} labels "
                f"({', '.join(self.preset.labels)}); pass the model's label order with --labels"
            )
        if len(self.preset.labels) != len(EMOTIONS):
            raise ModelError(f"{self.name}: moodtape needs all 7 FER2013 labels, got {list(self.preset.labels)}")

    def predict(self, crops: list[npt.NDArray[np.uint8]]) -> FloatArray:
        """Probabilities ``(n, 7)`` in FER2013 order for ``n`` crops (gray or BGR uint8, any size)."""
        if not crops:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        batch = self.preprocess(crops)
        outputs = self.session.run([self.session.get_outputs()[0].name], {self.input_name: batch})[0]
        return self._postprocess(np.asarray(outputs, dtype=np.float32))

    def predict_with_embedding(self, crops: list[npt.NDArray[np.uint8]]) -> tuple[FloatArray, FloatArray | None]:
        """Probabilities ``(n, 7)`` and, when the model has one, the embedding ``(n, d)`` (else None)."""
        if not self.has_embedding:
            return self.predict(crops), None
        if not crops:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32), None
        names = [self.session.get_outputs()[0].name, EMBEDDING_OUTPUT]
        outputs, embedding = self.session.run(names, {self.input_name: self.preprocess(crops)})
        return self._postprocess(np.asarray(outputs, dtype=np.float32)), np.asarray(embedding, dtype=np.float32)

    def preprocess(self, crops: list[npt.NDArray[np.uint8]]) -> FloatArray:
        """The model's input batch for ``crops``: resized, coloured and scaled as the model expects."""
        spec, preset = self.spec, self.preset
        images = [self._to_model_colour(crop) for crop in crops]
        resized = [
            cv2.resize(image, (spec.width, spec.height), interpolation=_interpolation(image, spec)) for image in images
        ]
        batch = np.stack(resized).astype(np.float32)
        if preset.stretch:
            batch = stretch_contrast(batch)
        if batch.ndim == 3:
            batch = batch[..., None]
        batch = batch * np.float32(preset.scale) + np.float32(preset.offset)
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2) if spec.layout == "nchw" else batch)

    def _to_model_colour(self, crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        gray_in = crop.ndim == 2
        if self.spec.channels == 1:
            return crop if gray_in else as_pixels(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
        bgr = as_pixels(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)) if gray_in else crop
        return as_pixels(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if self.preset.color == "rgb" else bgr

    def _postprocess(self, outputs: FloatArray) -> FloatArray:
        if outputs.ndim != 2 or outputs.shape[1] != len(self.preset.labels):
            raise ModelError(f"{self.name} returned shape {outputs.shape}; expected (n, {len(self.preset.labels)})")
        if self.output == "probabilities" or (self.output is None and looks_like_probabilities(outputs)):
            probabilities = outputs / outputs.sum(axis=1, keepdims=True)
        else:
            probabilities = softmax(outputs, self.temperature)
        return np.ascontiguousarray(probabilities[:, self._order], dtype=np.float32)

    def is_uncertain(self, probabilities: FloatArray) -> npt.NDArray[np.bool_]:
        """Per row: True when the top probability is below :attr:`uncertain_below`."""
        return np.asarray(probabilities.max(axis=1) < self.uncertain_below)


def _interpolation(image: npt.NDArray[np.uint8], spec: InputSpec) -> int:
    # Shrinking with INTER_AREA avoids aliasing; enlarging small faces with INTER_LINEAR is smooth and fast.
    return int(cv2.INTER_AREA if image.shape[0] > spec.height else cv2.INTER_LINEAR)


def read_metadata(model_bytes: bytes) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX model, read with onnx without building a session."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    return {prop.key: prop.value for prop in model.metadata_props}


def create_session(model_bytes: bytes, threads: int) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (one or two per worker).

    Int8 weights are stored as uint8 first where this CPU's int8 kernels would saturate
    (:mod:`moodtape.vision.int8_weights`): every CPU then computes the numbers the model holds.
    """
    import onnxruntime as ort

    from moodtape.vision.int8_weights import exact_on_this_cpu

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle ORT threads would otherwise spin for a while after each call, stealing the cores that
    # OpenCV's face detector needs next: on 2 cores that doubled the time per frame.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(exact_on_this_cpu(model_bytes), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own untyped errors for bad graphs
        raise ModelError(f"ONNX Runtime cannot load the model: {exc}") from None


def classifier_from_onnx(
    model_bytes: bytes,
    *,
    name: str,
    preset: str | None = None,
    labels: tuple[str, ...] | None = None,
    threads: int = 2,
) -> EmotionClassifier:
    """Build a classifier from ONNX bytes; moodtape metadata in the file fills unset options."""
    try:
        metadata = read_metadata(model_bytes)
    except Exception as exc:
        raise ModelError(f"{name} is not a valid ONNX model ({exc})") from None
    session = create_session(model_bytes, threads)
    spec = input_spec_from_shape(list(session.get_inputs()[0].shape))
    chosen = get_preset(preset or metadata.get(META_PRESET) or _guess_preset(spec, name))
    if labels is None and META_LABELS in metadata:
        labels = tuple(json.loads(metadata[META_LABELS]))
    if labels is not None:
        chosen = replace(chosen, labels=tuple(labels))
    model_id = hashlib.sha256(model_bytes).hexdigest()
    return EmotionClassifier(
        session,
        chosen,
        temperature=float(metadata.get(META_TEMPERATURE, 1.0)),
        uncertain_below=float(metadata.get(META_UNCERTAIN, 0.0)),
        name=name,
        output=metadata.get(META_OUTPUT),
        model_id=model_id,
        neutral_reference=reference_for(model_id, metadata),
    )


def _guess_preset(spec: InputSpec, name: str) -> str:
    """A foreign model without moodtape metadata: the two classic FER models differ by input size."""
    if spec.channels == 1 and (spec.height, spec.width) == (64, 64):
        return "fer-library"
    if spec.channels == 1 and (spec.height, spec.width) == (48, 48):
        return "fer-tutorial"
    raise ModelError(
        f"{name} takes {spec.height}×{spec.width}×{spec.channels} input, which matches no preset; "
        "say how to scale its pixels with --preset"
    )


def load_classifier(
    path: str | Path | None = None,
    *,
    preset: str | None = None,
    labels: tuple[str, ...] | None = None,
    threads: int = 2,
) -> EmotionClassifier:
    """Load an emotion model: ``None`` for moodtape's bundled model, else an ``.onnx`` or Keras ``.h5`` file."""
    if path is None:
        from moodtape.vision.models import bundled_model_bytes

        return classifier_from_onnx(
            bundled_model_bytes(), name="moodtape model", preset=preset, labels=labels, threads=threads
        )
    file = Path(path)
    if not file.is_file():
        raise ModelError(f"model file not found: {file}")
    if file.suffix.lower() in {".h5", ".hdf5"}:
        from moodtape.vision.keras_h5 import convert_h5

        model_bytes = convert_h5(file).SerializeToString()
    else:
        model_bytes = file.read_bytes()
    return classifier_from_onnx(model_bytes, name=file.name, preset=preset, labels=labels, threads=threads)
