"""moodtape: emotion-aware music and video recommendations from a face.

The public API is a few verbs and the types they pass around::

    import moodtape
    faces = moodtape.analyze("photo.jpg")          # list[Face], largest first
    me = moodtape.calibrate({"neutral": ["me.jpg"], "happy": ["smile.jpg"]})
    faces = moodtape.analyze("photo.jpg", profile=me)  # read through your calibration
    playlist = moodtape.recommend(faces, strategy="uplift", n=10)

Importing moodtape is cheap: names are resolved on first use, and models load on first call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moodtape.emotions import EMOTIONS
    from moodtape.errors import (
        DataError,
        ImageError,
        ModelError,
        MoodtapeError,
        ProviderError,
    )
    from moodtape.recommender.api import recommend
    from moodtape.recommender.result import Recommendation
    from moodtape.types import Box, Face, Mood, Track, Video
    from moodtape.vision.calibrate import calibrate
    from moodtape.vision.calibration import Profile
    from moodtape.vision.classifier import load_classifier
    from moodtape.vision.pipeline import Analyzer, analyze
    from moodtape.vision.stream import StreamAnalyzer

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "moodtape.vision.pipeline",
    "Analyzer": "moodtape.vision.pipeline",
    "StreamAnalyzer": "moodtape.vision.stream",
    "calibrate": "moodtape.vision.calibrate",
    "Profile": "moodtape.vision.calibration",
    "load_classifier": "moodtape.vision.classifier",
    "recommend": "moodtape.recommender.api",
    "Recommendation": "moodtape.recommender.result",
    "EMOTIONS": "moodtape.emotions",
    "Box": "moodtape.types",
    "Face": "moodtape.types",
    "Mood": "moodtape.types",
    "Track": "moodtape.types",
    "Video": "moodtape.types",
    "MoodtapeError": "moodtape.errors",
    "ImageError": "moodtape.errors",
    "ModelError": "moodtape.errors",
    "DataError": "moodtape.errors",
    "ProviderError": "moodtape.errors",
}

__all__ = [
    "EMOTIONS",
    "Analyzer",
    "Box",
    "DataError",
    "Face",
    "ImageError",
    "ModelError",
    "Mood",
    "MoodtapeError",
    "Profile",
    "ProviderError",
    "Recommendation",
    "StreamAnalyzer",
    "Track",
    "Video",
    "analyze",
    "calibrate",
    "load_classifier",
    "recommend",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'moodtape' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
