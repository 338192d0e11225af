"""The seven FER2013 emotion labels, in the dataset's own order.

This module is the only place that knows the label order: the CSV's ``emotion`` column, the
model's output index and every probability vector in moodtape use it.
"""

from __future__ import annotations

from typing import Final

from moodtape.errors import shown

#: Labels in FER2013 order: index ``i`` is the CSV's ``emotion == i``.
EMOTIONS: Final[tuple[str, ...]] = (
    "angry",
    "disgust",
    "fear",
    "happy",
    "sad",
    "surprise",
    "neutral",
)

NUM_EMOTIONS: Final[int] = len(EMOTIONS)

_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(EMOTIONS)}


def emotion_index(name: str) -> int:
    """Return the FER2013 index of ``name`` (case-insensitive).

    Raises:
        ValueError: if ``name`` is not one of :data:`EMOTIONS`.
    """
    key = name.strip().lower()
    try:
        return _INDEX[key]
    except KeyError:
        known = ", ".join(EMOTIONS)
        raise ValueError(f"unknown emotion {shown(name)}; expected one of: {known}") from None
