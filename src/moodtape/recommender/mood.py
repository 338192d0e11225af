"""From emotions to a mood: a point on Russell's valence–arousal circumplex.

Each FER2013 class has one anchor point (:data:`EMOTION_POINTS`); a face's mood is the
probability-weighted mean of the anchors, so a face that is 60 % sad and 40 % neutral lands
between the two instead of jumping to "sad".

Where the numbers come from. Russell, J. A. (1980), "A circumplex model of affect", Journal of
Personality and Social Psychology 39(6), 1161–1178, places affect words on a circle spanned by
pleasure–displeasure (valence, x) and arousal–sleep (arousal, y). From that paper we take the
*quadrant and the order around the circle*: "happy" is pleasant and moderately aroused,
"astonished" (our surprise) aroused and slightly pleasant, "angry" and "afraid" aroused and
unpleasant (afraid the more unpleasant), "sad" unpleasant and low in arousal, and the centre is
neutral. The exact coordinates below are our own placement, rounded to 0.05 inside the unit
circle, not values measured in the paper; "disgust" is not among Russell's words and sits, by our
judgement, between angry and sad (unpleasant, moderately aroused). They are design parameters:
``docs/recommendations.md`` shows them on the plane.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError, shown
from moodtape.types import Face, Mood

#: (valence, arousal) in [-1, 1] for each FER2013 class, in :data:`EMOTIONS` order.
EMOTION_POINTS: Final[dict[str, tuple[float, float]]] = {
    "angry": (-0.55, 0.70),
    "disgust": (-0.65, 0.30),
    "fear": (-0.65, 0.60),
    "happy": (0.80, 0.35),
    "sad": (-0.70, -0.40),
    "surprise": (0.30, 0.75),
    "neutral": (0.0, 0.0),
}

#: How far probabilities may sum away from 1 before we call them wrong (rounding in JSON is fine).
PROBABILITY_TOLERANCE: Final[float] = 1e-2

#: Weight of a face the classifier marked as uncertain, relative to a sure one, in a group mood.
UNCERTAIN_FACE_WEIGHT: Final[float] = 0.25


def _known_emotion(name: str) -> str:
    key = name.strip().lower()
    if key not in EMOTION_POINTS:
        raise DataError(f"unknown emotion {shown(name)}; choose one of: {', '.join(EMOTIONS)}")
    return key


def nearest_emotion(valence: float, arousal: float) -> str:
    """The label whose anchor point is closest to ``(valence, arousal)``."""
    return min(EMOTIONS, key=lambda e: math.dist(EMOTION_POINTS[e], (valence, arousal)))


def mood_from_emotion(name: str) -> Mood:
    """The mood of one emotion name (case-insensitive), e.g. when a person picks "sad" by hand."""
    emotion = _known_emotion(name)
    valence, arousal = EMOTION_POINTS[emotion]
    return Mood(valence, arousal, emotion=emotion, source="emotion")


def mood_from_point(valence: float, arousal: float) -> Mood:
    """A mood set by hand as a point; both values must be finite and in [-1, 1]."""
    for label, value in (("valence", valence), ("arousal", arousal)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DataError(f"{label} must be a number in [-1, 1], got {described(value)}")
        if not -1.0 <= value <= 1.0:  # NaN fails every comparison; no float() that a huge int overflows
            raise DataError(f"{label} must be a number in [-1, 1], got {described(value)}")
    return Mood(float(valence), float(arousal), emotion=nearest_emotion(valence, arousal), source="point")


def validate_probabilities(probs: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
    """Check ``probs`` and return it as ``{label: probability}`` over all 7 labels.

    Accepts a mapping from labels (any case; missing labels count as 0) or a sequence of 7 values
    in FER2013 order. Raises :class:`DataError` for unknown labels, a wrong length, NaN, negative
    values, or a sum further than :data:`PROBABILITY_TOLERANCE` from 1.
    """
    if isinstance(probs, Mapping):
        result = dict.fromkeys(EMOTIONS, 0.0)
        for label, value in probs.items():
            key = str(label).strip().lower()
            if key not in result:
                raise DataError(f"unknown emotion {shown(label)} in probabilities; expected: {', '.join(EMOTIONS)}")
            result[key] = _probability(label, value)
    else:
        values = list(probs)
        if len(values) != len(EMOTIONS):
            raise DataError(f"expected {len(EMOTIONS)} probabilities in FER2013 order, got {len(values)}")
        result = {label: _probability(label, value) for label, value in zip(EMOTIONS, values, strict=True)}
    total = sum(result.values())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise DataError(f"probabilities must sum to 1, got {described(total)}")
    return result


def _probability(label: object, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(f"probability of {shown(label)} must be a number, got {described(value)}")
    number = float(value) if isinstance(value, float) or abs(value) < 2**1000 else math.inf
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise DataError(f"probability of {shown(label)} must be finite and non-negative, got {described(value)}")
    return number


def described(value: object) -> str:
    """``value`` for an error message, in words that suit a JSON client and a Python caller alike.

    ``repr`` said ``True``, ``None`` and ``{'a': 1}`` to clients that had sent ``true``, ``null`` and
    ``{"a": 1}``, and a sum of ``1e300`` came back as 300 digits.
    """
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**15):
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    if isinstance(value, int):
        return "a whole number far too large"
    if isinstance(value, str):
        return f"the text {shown(value)}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"


def mood_from_probabilities(probs: Mapping[str, float] | Sequence[float], *, source: str = "face") -> Mood:
    """The probability-weighted mean of the anchor points; ``emotion`` is the most probable label."""
    checked = validate_probabilities(probs)
    total = sum(checked.values())
    valence = sum(p * EMOTION_POINTS[e][0] for e, p in checked.items()) / total
    arousal = sum(p * EMOTION_POINTS[e][1] for e, p in checked.items()) / total
    emotion = max(EMOTIONS, key=lambda e: checked[e])
    return Mood(_clip(valence), _clip(arousal), emotion=emotion, source=source)


def face_weight(face: Face) -> float:
    """How much one face counts in a group: its box area × confidence, ÷4 when uncertain.

    Area: a face near the camera is usually the person using the app, small faces in the
    background are bystanders. Confidence: a sure face says more than a hesitant one.
    """
    weight = float(face.box.w * face.box.h) * face.confidence
    return weight * UNCERTAIN_FACE_WEIGHT if face.uncertain else weight


def group_mood(faces: Sequence[Face]) -> Mood:
    """One mood for several faces: the :func:`face_weight`-weighted mean of their probabilities.

    Averaging the probabilities (not the labels) keeps mixed feelings: one happy and one sad face of
    the same size give a point between the two anchors. Raises :class:`DataError` without faces.
    """
    if not faces:
        raise DataError("no faces to read a mood from; name an emotion or give --valence/--arousal instead")
    weights = [face_weight(face) for face in faces]
    total = sum(weights)
    if total <= 0:
        weights, total = [1.0] * len(faces), float(len(faces))
    combined = {
        e: sum(w * float(f.probabilities[e]) for w, f in zip(weights, faces, strict=True)) / total for e in EMOTIONS
    }
    return mood_from_probabilities(combined, source="group" if len(faces) > 1 else "face")


def _clip(value: float) -> float:
    return min(1.0, max(-1.0, value))
