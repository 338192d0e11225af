"""Audio features → the mood plane, and the conversions between moodtape's two conventions.

Conventions (see :mod:`moodtape.types`): a :class:`~moodtape.types.Mood` has valence and arousal
in [-1, 1]; tracks and videos carry Spotify-style valence and energy in [0, 1]. Strategies and
ranking work in the *unit plane* [0, 1]² of (valence, energy); :func:`mood_to_unit` and
:func:`unit_to_mood` convert, linearly, so the centre of the circumplex is (0.5, 0.5).

An item's place in the unit plane is ``(valence, effective_energy)``. Effective energy blends the
``energy`` value with the other features that make music feel calm or intense, when present, each
read over the range real tracks occupy (see :data:`ENERGY_WEIGHTS` for why each weighs what it
does). A track with only valence and energy (most of the built-in catalog) keeps its energy
unchanged; a quiet, slow, acoustic track with energy 0.4 lands lower than a loud, fast, electric one
with the same energy, so a calm list favours it.

Storage versus feel: tracks store loudness and tempo normalised over wide ranges (−60…0 dB,
50…200 BPM, what ``moodtape catalog import`` writes and Spotify documents as possible). Real
releases sit in a much narrower band — integrated loudness about −25…−3 dB, tempo about
60…180 BPM — so over the wide ranges two tracks a listener hears as "quiet" and "loud" (−20 vs −5 dB)
differ by only 0.25 and barely move the blend. :func:`loudness_feel` and :func:`tempo_feel` re-read
the stored values over the realistic bands, clipped.
"""

from __future__ import annotations

from typing import Final

from moodtape.types import Track, Video

#: Weights of each feature in :func:`effective_energy`; missing features drop out and the rest are
#: renormalised. Why each weighs what it does:
#:
#: - ``energy`` 0.50 — Spotify defines it as "a perceptual measure of intensity and activity …
#:   energetic tracks feel fast, loud, and noisy", built from dynamic range, perceived loudness,
#:   timbre, onset rate and entropy: already the blend we want, and the one value every item has.
#: - ``loudness`` 0.20 — in the music-emotion literature loudness (sound level) is the most consistent
#:   cue for arousal (Gabrielsson & Lindström 2010, "The role of structure in the musical expression
#:   of emotions", Handbook of Music and Emotion; Schubert 2004, Music Perception 21(4): changes in
#:   loudness, then tempo, tracked listeners' continuous arousal ratings).
#: - ``tempo`` 0.15 — the next most consistent arousal cue (fast → high activity; Juslin & Laukka 2003,
#:   Psychological Bulletin 129(5)); below loudness because beat trackers, Spotify's included, report
#:   half or double tempo for some tracks.
#: - ``electric`` (1 − acousticness) 0.10 — Spotify's acousticness is "a confidence measure … whether
#:   the track is acoustic"; soft, acoustic timbres read as calmer than bright, distorted ones (timbre
#:   is a weaker, less direct cue than level and tempo in the same reviews).
#: - ``danceability`` 0.05 — "tempo, rhythm stability, beat strength, and overall regularity": partly
#:   a rhythm-drive cue for arousal, partly valence and partly tempo again, so it counts least.
#:
#: ``benchmarks/energy_features.py`` measures what the blend changes on a catalog with all features.
ENERGY_WEIGHTS: Final[dict[str, float]] = {
    "energy": 0.50,
    "loudness": 0.20,
    "tempo": 0.15,
    "electric": 0.10,  # 1 − acousticness
    "danceability": 0.05,
}

#: Loudness range mapped to [0, 1] in storage (dB): Spotify's documented −60…0 dB.
LOUDNESS_DB_RANGE: Final[tuple[float, float]] = (-60.0, 0.0)
#: Tempo range mapped to [0, 1] in storage (BPM): below 50 is rare, above 200 usually a double-time reading.
TEMPO_BPM_RANGE: Final[tuple[float, float]] = (50.0, 200.0)
#: Where released music actually lies (dB integrated loudness): what "quiet" to "loud" means to a listener.
LOUDNESS_FEEL_DB: Final[tuple[float, float]] = (-25.0, -3.0)
#: Where most songs' tempos lie (BPM): a slow ballad to fast dance music.
TEMPO_FEEL_BPM: Final[tuple[float, float]] = (60.0, 180.0)


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


def loudness_feel(stored: float) -> float:
    """A stored loudness (over −60…0 dB) re-read over :data:`LOUDNESS_FEEL_DB`, clipped to [0, 1]."""
    low, high = LOUDNESS_DB_RANGE
    decibels = low + stored * (high - low)
    feel_low, feel_high = LOUDNESS_FEEL_DB
    return _clip01((decibels - feel_low) / (feel_high - feel_low))


def tempo_feel(stored: float) -> float:
    """A stored tempo (over 50…200 BPM) re-read over :data:`TEMPO_FEEL_BPM`, clipped to [0, 1]."""
    low, high = TEMPO_BPM_RANGE
    bpm = low + stored * (high - low)
    feel_low, feel_high = TEMPO_FEEL_BPM
    return _clip01((bpm - feel_low) / (feel_high - feel_low))


def effective_energy(item: Track | Video) -> float:
    """Energy as a listener feels it, in [0, 1]: the weighted mean of the features present."""
    features = item.audio_features()
    values: dict[str, float] = {"energy": item.energy}
    if "loudness" in features:
        values["loudness"] = loudness_feel(features["loudness"])
    if "tempo" in features:
        values["tempo"] = tempo_feel(features["tempo"])
    if "danceability" in features:
        values["danceability"] = features["danceability"]
    if "acousticness" in features:
        values["electric"] = 1.0 - features["acousticness"]
    total = sum(ENERGY_WEIGHTS[name] for name in values)
    return _clip01(sum(ENERGY_WEIGHTS[name] * value for name, value in values.items()) / total)


def item_point(item: Track | Video) -> tuple[float, float]:
    """Where ``item`` sits in the unit plane: ``(valence, effective_energy)``."""
    return item.valence, effective_energy(item)


def _clip01(value: float) -> float:
    return min(1.0, max(0.0, value))
