"""Options shared by every command that can choose an emotion model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from moodtape.config import Settings
    from moodtape.vision.classifier import EmotionClassifier

F = TypeVar("F", bound=Callable[..., Any])


def model_options(function: F) -> F:
    """Add ``--model``, ``--preset`` and ``--labels`` to a command."""
    function = click.option(
        "--labels",
        default=None,
        help="The model's output order as comma-separated names (default: FER2013 order).",
    )(function)
    function = click.option(
        "--preset",
        type=click.Choice(["moodtape", "fer-library", "fer-tutorial"]),
        default=None,
        help="Pixel scaling of a foreign model (default: MOODTAPE_MODEL_PRESET, else from the model or input size).",
    )(function)
    function = click.option(
        "--model",
        "model_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="An .onnx or Keras .h5 emotion model (default: MOODTAPE_MODEL, else moodtape's own).",
    )(function)
    return function


def parse_labels(labels: str | None) -> tuple[str, ...] | None:
    """``"angry,disgust,…"`` → a tuple of names (validated when the model loads)."""
    if labels is None:
        return None
    from moodtape.emotions import EMOTIONS

    names = tuple(name.strip().lower() for name in labels.split(",") if name.strip())
    unknown = [name for name in names if name not in EMOTIONS]
    if not names or unknown or len(set(names)) != len(names):
        raise click.BadParameter(
            f"use names from {', '.join(EMOTIONS)}, each at most once, in the model's output order",
            param_hint="--labels",
        )
    return names


def load_model(settings: Settings, model_path: str | None, preset: str | None, labels: str | None) -> EmotionClassifier:
    """The classifier the options ask for, falling back to the same settings the server uses.

    ``--model`` and ``--preset`` win over ``MOODTAPE_MODEL`` and ``MOODTAPE_MODEL_PRESET``;
    ``MOODTAPE_THREADS`` sets ONNX Runtime's threads either way.
    """
    from moodtape.vision.classifier import load_classifier

    model = model_path or settings.get("MOODTAPE_MODEL").strip() or None
    chosen_preset = preset or settings.get("MOODTAPE_MODEL_PRESET").strip().lower() or None
    threads = settings.get_int("MOODTAPE_THREADS")
    return load_classifier(model, preset=chosen_preset, labels=parse_labels(labels), threads=threads)
