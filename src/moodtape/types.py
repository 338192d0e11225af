"""The values that pass between moodtape's parts: faces, moods, tracks and videos.

Each validates itself on creation, so bad data fails where it is made, not three stages later.
Conventions: a :class:`Mood` lives on Russell's circumplex with valence and arousal in [-1, 1];
a :class:`Track` or :class:`Video` carries Spotify-style ``valence`` and ``energy`` in [0, 1].
:func:`moodtape.recommender.features` converts between the two.

Tracks and videos answer the same questions the same way, so the rest of the code asks rather than
checks the type: ``kind`` ("track"/"video"), ``key`` (identity, :mod:`moodtape.identity`),
``artist`` (a video's channel), ``genre`` (a video's category), ``artwork`` (cover or thumbnail),
``service_ids()`` and ``audio_features()``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import ClassVar, NamedTuple

from moodtape.emotions import EMOTIONS
from moodtape.identity import track_key, video_key

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
        held: for streams, the face was not found in this frame: it is the main person's track's
            last box and smoothed reading, held while the track lives (``held_first``).
    """

    box: Box
    probabilities: Mapping[str, float]
    uncertain: bool = False
    track_id: int | None = None
    held: bool = False

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
        if self.held:
            # Only when held: a detected face's JSON stays as clients have always read it.
            result["held"] = True
        return result


#: UTF-16 surrogate code points: JSON's ``"\\ud800"`` decodes to one, and no file, database or HTTP
#: answer can encode it.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _replace_surrogates(item: object) -> None:
    """Replace lone surrogates in ``item``'s text fields by U+FFFD, as a lenient UTF-8 decoder would.

    Titles come from strangers (a service's JSON may hold ``"\\ud800"``); one such title made every
    list holding it a 500 (JSON, exports, the store). Cleaned once here, every later step can encode.
    """
    for spec in fields(item):  # type: ignore[arg-type]
        value = getattr(item, spec.name)
        if isinstance(value, str) and _SURROGATE.search(value):
            object.__setattr__(item, spec.name, _SURROGATE.sub("\ufffd", value))


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
        _replace_surrogates(self)
        if not self.title.strip() or not self.artist.strip():
            raise ValueError("a track needs a title and an artist")
        _check_unit("valence", self.valence, 0.0, 1.0)
        _check_unit("energy", self.energy, 0.0, 1.0)
        for name in ("danceability", "acousticness", "instrumentalness", "loudness", "tempo"):
            value = getattr(self, name)
            if value is not None:
                _check_unit(name, value, 0.0, 1.0)

    kind: ClassVar[str] = "track"

    @property
    def key(self) -> str:
        """Identity everywhere (repeats, dislikes, history): remasters, live takes and feat. credits are one song."""
        return track_key(self.artist, self.title)

    @property
    def artwork(self) -> str | None:
        """The cover image, when known."""
        return self.artwork_url

    def service_ids(self) -> dict[str, str | None]:
        """The item's ID per service (None where unknown), in the order players are preferred."""
        return {"spotify": self.spotify_id, "deezer": self.deezer_id, "youtube": self.youtube_id}

    def audio_features(self) -> dict[str, float]:
        """The optional audio features this track has, each in [0, 1] (loudness and tempo normalised)."""
        names = ("danceability", "acousticness", "instrumentalness", "loudness", "tempo")
        return {name: value for name in names if (value := getattr(self, name)) is not None}


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
        _replace_surrogates(self)
        if not self.title.strip():
            raise ValueError("a video needs a title")
        _check_unit("valence", self.valence, 0.0, 1.0)
        _check_unit("energy", self.energy, 0.0, 1.0)

    kind: ClassVar[str] = "video"

    @property
    def key(self) -> str:
        """Identity everywhere: channel and title, ignoring case, accents and punctuation."""
        return video_key(self.channel, self.title)

    @property
    def artist(self) -> str:
        """Who made it: the channel (the role a track's artist plays in lists and feedback)."""
        return self.channel

    @property
    def genre(self) -> str:
        """The category (the role a track's genre plays)."""
        return self.category

    @property
    def artwork(self) -> str | None:
        """The thumbnail, when known."""
        return self.thumbnail_url

    @property
    def preview_url(self) -> None:
        """Videos have no audio preview."""
        return None

    @property
    def decade(self) -> None:
        """Videos carry no release decade."""
        return None

    def service_ids(self) -> dict[str, str | None]:
        """The item's ID per service: only YouTube for videos."""
        return {"spotify": None, "deezer": None, "youtube": self.youtube_id}

    def audio_features(self) -> dict[str, float]:
        """Videos carry no audio features beyond valence and energy."""
        return {}
