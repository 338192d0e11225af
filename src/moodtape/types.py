"""The values that pass between moodtape's parts: faces, moods, tracks and videos.

Each validates itself on creation, so bad data fails where it is made, not three stages later.
Conventions: a :class:`Mood` lives on Russell's circumplex with valence and arousal in [-1, 1];
a :class:`Track` or :class:`Video` carries Spotify-style ``valence`` and ``energy`` in [0, 1].
:func:`moodtape.recommender.features` converts between the two.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from moodtape.emotions import EMOTIONS

_PROBABILITY_TOLERANCE = 1e-3


class Box(NamedTuple):
    """A face's bounding box in input-image pixels."""

    x: int
    y: int
    w: int
    h: int


def check_probabilities(probabilities: Mapping[str, float]) -> None:
    """Raise ``ValueError`` unless ``probabilities`` maps all 7 labels to finite values summing to 1."""
    if set(probabilities) != set(EMOTIONS):
        raise ValueError(f"probabilities must have exactly the labels {list(EMOTIONS)}")
    values = list(probabilities.values())
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("probabilities must be finite and non-negative")
    if abs(sum(values) - 1.0) > _PROBABILITY_TOLERANCE:
        raise ValueError(f"probabilities must sum to 1 (got {sum(values):.4f})")


@dataclass(frozen=True)
class Face:
    """One detected face and its emotion.

    Attributes:
        box: where the face is, in input pixels.
        probabilities: every FER2013 label → probability (calibrated), summing to 1.
        uncertain: True when the model is too unsure to name one emotion (see the model card).
        track_id: for streams, a number that stays with the same person across frames.
    """

    box: Box
    probabilities: Mapping[str, float]
    uncertain: bool = False
    track_id: int | None = None

    def __post_init__(self) -> None:
        check_probabilities(self.probabilities)
        if self.box.w <= 0 or self.box.h <= 0:
            raise ValueError(f"box must have a positive size, got {self.box}")

    @property
    def emotion(self) -> str:
        """The most probable label."""
        return max(EMOTIONS, key=lambda label: self.probabilities[label])

    @property
    def confidence(self) -> float:
        """The probability of :attr:`emotion`."""
        return float(self.probabilities[self.emotion])

    def to_dict(self) -> dict[str, object]:
        """The JSON shape used by the CLI and the web API."""
        result: dict[str, object] = {
            "box": list(self.box),
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "uncertain": self.uncertain,
            "probabilities": {label: round(float(self.probabilities[label]), 4) for label in EMOTIONS},
        }
        if self.track_id is not None:
            result["track_id"] = self.track_id
        return result


def _check_unit(name: str, value: float, low: float, high: float) -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class Mood:
    """A point on the valence–arousal circumplex, both in [-1, 1].

    Attributes:
        emotion: the label this mood came from or is nearest to, for reasons and defaults.
        source: how the mood was set: ``"face"``, ``"group"``, ``"emotion"``, ``"point"``.
    """

    valence: float
    arousal: float
    emotion: str | None = None
    source: str = "point"

    def __post_init__(self) -> None:
        _check_unit("valence", self.valence, -1.0, 1.0)
        _check_unit("arousal", self.arousal, -1.0, 1.0)


@dataclass(frozen=True)
class Track:
    """A song, from the catalog or a live provider.

    ``valence`` and ``energy`` are in [0, 1] like Spotify's audio features; optional features are
    normalised to [0, 1] too (loudness and tempo by the importer). ``estimated`` is True when
    the mood coordinates were guessed from the search that found the track, not measured.
    """

    title: str
    artist: str
    valence: float
    energy: float
    source: str = "catalog"
    spotify_id: str | None = None
    youtube_id: str | None = None
    deezer_id: str | None = None
    genre: str | None = None
    decade: int | None = None
    language: str | None = None
    danceability: float | None = None
    acousticness: float | None = None
    instrumentalness: float | None = None
    loudness: float | None = None
    tempo: float | None = None
    artwork_url: str | None = None
    preview_url: str | None = None
    url: str | None = None
    estimated: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.title.strip() or not self.artist.strip():
            raise ValueError("a track needs a title and an artist")
        _check_unit("valence", self.valence, 0.0, 1.0)
        _check_unit("energy", self.energy, 0.0, 1.0)
        for name in ("danceability", "acousticness", "instrumentalness", "loudness", "tempo"):
            value = getattr(self, name)
            if value is not None:
                _check_unit(name, value, 0.0, 1.0)

    @property
    def key(self) -> str:
        """Identity within a session: the same song from two sources has the same key."""
        return f"{self.artist.casefold().strip()}\x1f{self.title.casefold().strip()}"


@dataclass(frozen=True)
class Video:
    """A video: a music video or a mood video (comedy, nature, breathing, motivation…).

    ``valence`` and ``energy`` are in [0, 1], like a track's.
    """

    title: str
    channel: str
    valence: float
    energy: float
    category: str = "music"
    source: str = "catalog"
    youtube_id: str | None = None
    thumbnail_url: str | None = None
    url: str | None = None
    estimated: bool = False

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a video needs a title")
        _check_unit("valence", self.valence, 0.0, 1.0)
        _check_unit("energy", self.energy, 0.0, 1.0)

    @property
    def key(self) -> str:
        """Identity within a session."""
        return f"{self.channel.casefold().strip()}\x1f{self.title.casefold().strip()}"
