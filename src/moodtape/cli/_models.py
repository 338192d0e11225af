"""Options shared by every command that can choose an emotion model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

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
        help="Pixel scaling of a foreign model (default: from the model, or guessed from its input size).",
    )(function)
    function = click.option(
        "--model",
        "model_path",
        type=click.Path(dir_okay=False),
        default=None,
        envvar="MOODTAPE_MODEL",
        help="An .onnx or Keras .h5 emotion model (default: moodtape's own).",
    )(function)
    return function


def parse_labels(labels: str | None) -> tuple[str, ...] | None:
    """``"angry,disgust,…"`` → a tuple of names (validated when the model loads)."""
    if labels is None:
        return None
    return tuple(name.strip().lower() for name in labels.split(",") if name.strip())
