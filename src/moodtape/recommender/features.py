"""Audio features → the mood plane, and the conversions between moodtape's two conventions.

Conventions (see :mod:`moodtape.types`): a :class:`~moodtape.types.Mood` has valence and arousal
in [-1, 1]; tracks and videos carry Spotify-style valence and energy in [0, 1]. Strategies and
ranking work in the *unit plane* [0, 1]² of (valence, energy); :func:`mood_to_unit` and
:func:`unit_to_mood` convert, linearly, so the centre of the circumplex is (0.5, 0.5).

An item's place in the unit plane is ``(valence, effective_energy)``. Effective energy blends the
``energy`` value with the other features that make music feel calm or intense, when present:
loudness, tempo, (1 − acousticness) and danceability. A track with only valence and energy (most of
the built-in catalog) keeps its energy unchanged; a quiet, slow, acoustic track with energy 0.4
lands lower than a loud, fast, electric one with the same energy, so a calm list favours it.
"""

from __future__ import annotations

from typing import Final

from moodtape.types import Track, Video

#: Weights of each feature in :func:`effective_energy`; features that are missing drop out and the
#: rest are renormalised. Energy dominates because it is the one value every item has.
ENERGY_WEIGHTS: Final[dict[str, float]] = {
    "energy": 0.55,
    "loudness": 0.15,
    "tempo": 0.10,
    "electric": 0.10,  # 1 − acousticness
    "danceability": 0.10,
}

#: Loudness range mapped to [0, 1] (dB, Spotify's integrated loudness: tracks lie between about −60 and 0).
LOUDNESS_DB_RANGE: Final[tuple[float, float]] = (-60.0, 0.0)
#: Tempo range mapped to [0, 1] (BPM): below 50 is rare, above 200 usually a double-time reading.
TEMPO_BPM_RANGE: Final[tuple[float, float]] = (50.0, 200.0)


def mood_to_unit(valence: float, arousal: float) -> tuple[float, float]:
    """Circumplex ([-1, 1]²) → unit plane ([0, 1]², valence and energy)."""
    return (valence + 1.0) / 2.0, (arousal + 1.0) / 2.0


def unit_to_mood(valence: float, energy: float) -> tuple[float, float]:
    """Unit plane ([0, 1]²) → circumplex ([-1, 1]²)."""
    return valence * 2.0 - 1.0, energy * 2.0 - 1.0


def loudness_to_unit(decibels: float) -> float:
    """Spotify loudness in dB → [0, 1] over :data:`LOUDNESS_DB_RANGE`, clipped."""
    low, high = LOUDNESS_DB_RANGE
    return _clip01((decibels - low) / (high - low))


def tempo_to_unit(bpm: float) -> float:
    """Tempo in BPM → [0, 1] over :data:`TEMPO_BPM_RANGE`, clipped."""
    low, high = TEMPO_BPM_RANGE
    return _clip01((bpm - low) / (high - low))


def effective_energy(item: Track | Video) -> float:
    """Energy as a listener feels it, in [0, 1]: the weighted mean of the features present."""
    features = item.audio_features()
    values: dict[str, float] = {"energy": item.energy}
    for name in ("loudness", "tempo", "danceability"):
        if name in features:
            values[name] = features[name]
    if "acousticness" in features:
        values["electric"] = 1.0 - features["acousticness"]
    total = sum(ENERGY_WEIGHTS[name] for name in values)
    return _clip01(sum(ENERGY_WEIGHTS[name] * value for name, value in values.items()) / total)


def item_point(item: Track | Video) -> tuple[float, float]:
    """Where ``item`` sits in the unit plane: ``(valence, effective_energy)``."""
    return item.valence, effective_energy(item)


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, value))
