"""The emotion model shipped inside the package (``emotion.onnx``), its model card (``MODEL_CARD.md``) and
its neutral reference for personal calibration (``neutral_references.json``, keyed by the file's SHA-256:
:mod:`moodtape.vision.neutral_reference`)."""

from __future__ import annotations

from importlib import resources

from moodtape.errors import ModelError

BUNDLED_MODEL = "emotion.onnx"


def bundled_model_bytes() -> bytes:
    """The bytes of moodtape's own FER2013 model."""
    resource = resources.files(__name__) / BUNDLED_MODEL
    try:
        return resource.read_bytes()
    except FileNotFoundError:
        raise ModelError(
            f"the bundled model {BUNDLED_MODEL} is missing from the installed package; reinstall moodtape"
        ) from None
