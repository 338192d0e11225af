"""How a model reads a typical resting face: the target of personal calibration's neutral baseline.

Calibration's baseline makes a person's own resting face read the way the model reads a resting
face *in general* (:mod:`moodtape.vision.calibration`). What "in general" looks like is a property
of the model: even a face that is clearly neutral keeps some probability on sad, angry and fear,
and hardly any on disgust or surprise. The reference is the mean log-probability vector of the
FER2013 PublicTest faces that people labelled neutral and the model reads as neutral, so a
baseline built on it corrects a person's resting face toward a real resting face, instead of
toward a made-up one that spreads the rest evenly (which lifted disgust and surprise, the classes a
resting face shows least, for every calibrated face).

A model carries its reference in its ONNX metadata (``moodtape export`` writes it). The bundled
model's reference lives in ``models/neutral_references.json``, keyed by the model file's SHA-256,
because writing it into the file would change the file's hash and so refuse every profile people
have saved. A model with neither (a converted Keras ``fer.h5``) has no reference, and calibration
falls back to the even target.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, ModelError

#: The ONNX metadata key that holds a model's reference: a JSON list of 7 log-probabilities, in
#: FER2013 order (the order the classifier gives probabilities in, whatever the model's own).
META_NEUTRAL_REFERENCE: Final = "moodtape.neutral_reference"
#: References for models shipped without one in their metadata, keyed by the file's SHA-256.
REFERENCES_FILE: Final = "neutral_references.json"
_NEUTRAL: Final = EMOTIONS.index("neutral")
_EPSILON: Final = 1e-7

Reference = tuple[float, ...]


def measure_reference(probabilities: npt.NDArray[Any], labels: npt.NDArray[Any]) -> Reference:
    """The mean log-probabilities (FER2013 order) of the faces labelled neutral that are read as neutral.

    Only faces read as neutral count: a crowd-labelled "neutral" face the model reads as sad is
    either mislabelled or one the model gets wrong, and neither is what a resting face looks like
    to it.
    """
    chosen = resting_faces(probabilities, labels)
    if not chosen.any():
        raise DataError("no face is both labelled neutral and read as neutral: no reference to measure")
    logs = np.log(np.clip(np.asarray(probabilities, dtype=np.float64)[chosen], _EPSILON, 1.0))
    return tuple(round(float(value), 5) for value in logs.mean(axis=0))


def resting_faces(probabilities: npt.NDArray[Any], labels: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Which faces the reference is measured on: labelled neutral and read as neutral."""
    return np.asarray((np.asarray(labels) == _NEUTRAL) & (np.asarray(probabilities).argmax(axis=1) == _NEUTRAL))


def reference_for(model_id: str, metadata: Mapping[str, str]) -> Reference | None:
    """The model's reference: from its metadata, else from the bundled table, else ``None``."""
    if META_NEUTRAL_REFERENCE in metadata:
        where = f"metadata {META_NEUTRAL_REFERENCE}"
        try:
            values = json.loads(metadata[META_NEUTRAL_REFERENCE])
        except json.JSONDecodeError:
            raise ModelError(f"the neutral reference in {where} is not JSON") from None
        return parse_reference(values, where)
    entry = bundled_references().get(model_id)
    if entry is None:
        return None
    return parse_reference(entry.get("log_probabilities"), f"{REFERENCES_FILE} for {model_id[:12]}…")


def parse_reference(values: object, where: str) -> Reference:
    """Seven finite log-probabilities, or a :class:`ModelError` naming ``where`` they came from."""
    if not isinstance(values, list) or len(values) != len(EMOTIONS):
        raise ModelError(f"the neutral reference in {where} must be a list of {len(EMOTIONS)} numbers")
    try:
        reference = tuple(float(value) for value in values)
    except (TypeError, ValueError):
        raise ModelError(f"the neutral reference in {where} must hold numbers") from None
    if not all(np.isfinite(reference)) or max(reference) > 0:
        raise ModelError(f"the neutral reference in {where} must hold log-probabilities (finite, at most 0)")
    return reference


def bundled_references() -> dict[str, dict[str, Any]]:
    """The table shipped beside the bundled model (empty when it is missing)."""
    resource = resources.files("moodtape.vision.models") / REFERENCES_FILE
    try:
        table = json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(key): dict(value) for key, value in table.items()}
