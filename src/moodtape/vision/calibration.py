"""Personal calibration: what a :class:`Profile` learns from a person's examples, and how it applies.

Pure maths on arrays, no images and no I/O (:mod:`moodtape.vision.calibrate` does the reading).
A profile adjusts the generic model's log-probabilities ``l = log p`` of each face in two steps,
then takes a softmax, so the result is again a probability vector summing to 1:

1. **Neutral baseline.** Some resting faces look sad or angry to the model. The person's neutral
   examples give their mean log-probabilities ``n``; the profile adds ``b = t − n`` (both centred),
   where ``t`` is how the model reads a typical resting face: its *neutral reference*, measured on
   FER2013's neutral faces (:mod:`moodtape.vision.neutral_reference`). The person's own resting
   face then reads as a resting face in general does, and every other face of theirs is read
   relative to it. A model without a reference gets an even target instead: neutral at
   :data:`NEUTRAL_TARGET`, the rest spread evenly. Each entry of ``b`` is clipped to
   ±:data:`MAX_SHIFT` nats, so one odd photo (a smile taken as "neutral") cannot silence a class.
2. **Prototypes** (with at least one expression besides neutral). Each calibrated emotion gets a
   prototype: the mean of its examples' embeddings (the model's penultimate features, unit
   length), centred on the mean of the person's prototypes so that what all their photos share
   (identity, glasses, lighting) drops out. A face's cosine similarity to each prototype, minus
   the mean over prototypes, times a weight, is added to those emotions' log probabilities.
   Emotions without examples are left as the generic model reads them. The weight is
   :data:`PROTOTYPE_WEIGHT` × (k − 1) / 6 for k calibrated emotions: the term only moves
   probability *among* the calibrated emotions, so a face showing an emotion without examples is
   pulled toward the nearest calibrated one, and the fewer emotions are covered, the more often
   that happens (on Yale, leaving the tested expression out of the profile showed exactly this).
   A profile whose neutral examples, taken together, read as a smile or an open mouth
   (:func:`not_resting`) learns no prototypes: its neutral prototype would be that expression, and
   pull the person's real smiles toward neutral by up to ``2 × weight`` nats.

Both terms are bounded (the baseline by the clip, the prototype term by ``2 × weight`` since
cosines lie in [−1, 1]), so a bad calibration moves probabilities by a bounded factor: it shrinks
toward the generic model rather than replacing it. A model without an ``embedding`` output gets
the baseline only.
"""

from __future__ import annotations

import base64
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import DataError

FloatArray = npt.NDArray[np.float32]

#: For a model without a neutral reference: how surely the person's own neutral face should read as
#: neutral after calibration (the other six classes share the rest evenly).
NEUTRAL_TARGET: Final = 0.6
#: Largest baseline shift per class, in nats (a factor of e ≈ 2.7 on the odds).
MAX_SHIFT: Final = 1.0
#: The largest baseline shift a profile may hold, in nats. moodtape writes at most 2 × MAX_SHIFT
#: (a clip of ±MAX_SHIFT, then centred); a tampered profile with shifts of 1e308 loaded, and read every
#: face as an even 14 % of each emotion without a word. Profiles made in Python with other
#: :class:`Settings` (benchmarks) may go this far; one read from JSON only as far as moodtape writes
#: (:data:`MAX_WRITTEN_BASELINE`).
MAX_BASELINE: Final = 50.0
#: Nats added per unit of centred cosine similarity to a prototype.
PROTOTYPE_WEIGHT: Final = 4.0
#: The largest prototype weight a profile may hold (moodtape writes at most PROTOTYPE_WEIGHT); far
#: larger ones overflow the scores.
MAX_WEIGHT: Final = 1000.0
#: The largest baseline shift and weight a profile read from JSON may hold: what moodtape writes (the
#: shifts are rounded to 5 decimals). Within MAX_BASELINE and MAX_WEIGHT, a profile edited by hand to
#: weight 1000 read Yale's test photos 42.7 % right (79.8 % as written) at a mean top probability of
#: 0.996, and one with +50 nats on angry read every face "angry 100 %": sure where it was not.
MAX_WRITTEN_BASELINE: Final = 2 * MAX_SHIFT + 1e-4
MAX_WRITTEN_WEIGHT: Final = PROTOTYPE_WEIGHT
#: The longest prototype a profile may hold. moodtape writes unit-length ones (int8 rounding moves
#: their length by about 0.03 %, and by under 9 % even for 512 features with one spike); the bound
#: on the prototype term (2 × weight) holds only for those. A profile edited to scale its prototypes
#: by 10 read the astronaut "happy 99.97 %" instead of 87 %, and by 100 "100 %": sure where it was not.
MAX_PROTOTYPE_LENGTH: Final = 1.1
#: A "neutral" example the generic model reads as happy or surprised at least this surely is most
#: likely a smile or an open mouth, not a resting face (on Yale: 0 of 104 resting photos, 14 of 15
#: smiles and 12 of 15 surprised faces; 5.9 % of FER2013's crowd-labelled neutral faces).
NOT_RESTING_AT: Final = 0.6
#: The broad expressions that give a non-resting "neutral" away; a resting face the model reads as
#: sad or angry is exactly what the baseline is for, so those are never flagged.
_BROAD: Final = tuple(EMOTIONS.index(label) for label in ("happy", "surprise"))
#: Version of the JSON format; bumped when the maths changes meaning.
FORMAT_VERSION: Final = 1
_NEUTRAL: Final = EMOTIONS.index("neutral")
_EPSILON: Final = 1e-7


class ProfileError(DataError):
    """A calibration profile that cannot be used: malformed, or made with another model."""

    code = "bad_profile"


@dataclass(frozen=True)
class Settings:
    """The calibration's hyper-parameters (see the module docstring); benchmarks vary them.

    ``neutral_reference`` is the model's reading of a typical resting face (the classifier's
    ``neutral_reference``); when it is ``None`` the baseline aims at the even ``neutral_target``.
    """

    neutral_target: float = NEUTRAL_TARGET
    max_shift: float = MAX_SHIFT
    prototype_weight: float = PROTOTYPE_WEIGHT
    neutral_reference: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Profile:
    """What a calibration learned about one person's face, for one model.

    Attributes:
        model_id: SHA-256 of the model file it was made with; other models refuse it.
        baseline: 7 log-probability shifts in FER2013 order (centred: they sum to 0).
        prototypes: emotion → unit-length prototype, centred on ``center`` (absent when the
            model has no embedding or only neutral was given).
        center: the mean of the uncentred prototypes, subtracted from each face's embedding.
        weight: nats per unit of centred cosine similarity (already scaled for coverage).
        examples: emotion → number of faces it learned from.
        notes: things the caller should know (for example "used the largest of 2 faces").
    """

    model_id: str
    baseline: tuple[float, ...]
    examples: Mapping[str, int]
    prototypes: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    center: tuple[float, ...] = ()
    weight: float = PROTOTYPE_WEIGHT
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.baseline) != len(EMOTIONS) or not np.all(np.isfinite(self.baseline)):
            raise ProfileError("a profile's baseline must hold 7 finite numbers")
        if max(abs(shift) for shift in self.baseline) > MAX_BASELINE:
            raise ProfileError(f"a profile's baseline shifts must be within ±{MAX_BASELINE:g} nats")
        unknown = set(self.examples) - set(EMOTIONS) or set(self.prototypes) - set(EMOTIONS)
        if unknown:
            raise ProfileError(f"unknown emotion(s) in profile: {', '.join(sorted(unknown))}")
        if "neutral" not in self.examples:
            raise ProfileError("a profile needs at least one neutral example")
        sizes = {len(vector) for vector in self.prototypes.values()}
        if self.prototypes and (len(sizes) != 1 or sizes != {len(self.center)}):
            raise ProfileError("a profile's prototypes and center must have one common length")
        # JSON as Python writes it may hold NaN and Infinity: such a profile loaded, then every face
        # read through it failed with "probabilities must be finite" (a ValueError, not a DataError).
        if not (math.isfinite(self.weight) and 0 <= self.weight <= MAX_WEIGHT):
            raise ProfileError(f"a profile's weight must be a number from 0 to {MAX_WEIGHT:g}, got {self.weight!r}")
        vectors = [self.center, *self.prototypes.values()]
        if not all(np.all(np.isfinite(np.asarray(vector, dtype=np.float64))) for vector in vectors):
            raise ProfileError("a profile's prototypes and center must hold finite numbers")
        with np.errstate(over="ignore"):  # a length past float range is inf, and refused as such
            longest = max((float(np.linalg.norm(vector)) for vector in self.prototypes.values()), default=0.0)
        if longest > MAX_PROTOTYPE_LENGTH:
            raise ProfileError(
                f"a profile's prototypes must be of length 1 (moodtape writes them so), got {longest:.3g}; "
                "make a new one"
            )

    @property
    def emotions(self) -> tuple[str, ...]:
        """The emotions this profile has examples of, in FER2013 order."""
        return tuple(label for label in EMOTIONS if label in self.examples)

    @property
    def uses_embedding(self) -> bool:
        """True when the profile has prototypes, so faces need the model's embedding."""
        return len(self.prototypes) >= 2

    def apply(self, probabilities: FloatArray, embeddings: FloatArray | None = None) -> FloatArray:
        """Calibrated ``(n, 7)`` probabilities for the generic ones (and embeddings ``(n, d)``)."""
        return apply_profile(self, probabilities, embeddings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: numbers rounded, vectors as base64 int8 with a scale (a few KB)."""
        return {
            "moodtape_profile": FORMAT_VERSION,
            "model_id": self.model_id,
            "examples": {label: self.examples[label] for label in self.emotions},
            "baseline": [round(v, 5) for v in self.baseline],
            "weight": self.weight,
            "center": _pack(self.center) if self.prototypes else None,
            "prototypes": {label: _pack(vector) for label, vector in self.prototypes.items()},
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """A small JSON text (no image data) that :meth:`from_json` reads back.

        Only for a profile within what moodtape writes (shifts within ±:data:`MAX_WRITTEN_BASELINE`,
        weight at most :data:`MAX_WRITTEN_WEIGHT`, as :func:`fit_profile` makes with the default
        :class:`Settings`): one built in Python past that (``Profile(weight=10)``, a benchmark's
        settings) is written all the same, but :meth:`from_json` refuses the text.
        """
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Read :meth:`to_dict`'s shape. Raises :class:`ProfileError` when it is not one."""
        if not isinstance(data, Mapping) or data.get("moodtape_profile") != FORMAT_VERSION:
            raise ProfileError(
                "this is not a moodtape calibration profile (or one from another version); "
                "make a new one with `moodtape calibrate`"
            )
        try:
            prototypes = {str(k): _unpack(v) for k, v in dict(data.get("prototypes") or {}).items()}
            center = _unpack(data["center"]) if prototypes else ()
            profile = cls(
                model_id=str(data["model_id"]),
                baseline=_numbers(data["baseline"], "baseline"),
                examples={str(k): _count(v) for k, v in dict(data["examples"]).items()},
                prototypes=prototypes,
                center=center,
                weight=_number(data.get("weight", PROTOTYPE_WEIGHT), "weight"),
                notes=tuple(str(note) for note in _list(data.get("notes", []), "notes")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProfileError(f"the calibration profile is damaged ({exc}); make a new one") from None
        _check_as_written(profile)
        return profile

    @classmethod
    def from_json(cls, text: str | bytes) -> Profile:
        """Read a profile written by :meth:`to_json`."""
        if not isinstance(text, str | bytes | bytearray):
            hint = " (for a parsed dict, use Profile.from_dict)" if isinstance(text, Mapping) else ""
            raise ProfileError(f"a profile's JSON text must be str or bytes, got {type(text).__name__}{hint}")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # also a number of over 4,300 digits, and nesting too deep
            raise ProfileError("the calibration profile is not valid JSON; make a new one") from None
        return cls.from_dict(data)

    def check_model(self, model_id: str) -> None:
        """Raise :class:`ProfileError` unless this profile was made with the model ``model_id``."""
        if model_id != self.model_id:
            raise ProfileError(
                "this calibration profile was made with a different emotion model "
                f"({self.model_id[:12]}…, now {model_id[:12]}…); calibrate again with this model"
            )


def _check_as_written(profile: Profile) -> None:
    """Refuse a profile read from JSON whose baseline or weight is beyond what moodtape writes.

    :class:`Profile` itself accepts far larger ones (benchmarks fit profiles with other
    :class:`Settings`); a file claims to be moodtape's, and one edited past that makes every reading
    sure of itself (see :data:`MAX_WRITTEN_BASELINE`).
    """
    largest = max(abs(shift) for shift in profile.baseline)
    if largest > MAX_WRITTEN_BASELINE:
        raise ProfileError(
            f"a profile's baseline shifts must be within ±{2 * MAX_SHIFT:g} nats (moodtape writes them so), "
            f"got {largest:.3g}; make a new one"
        )
    if profile.weight > MAX_WRITTEN_WEIGHT:
        raise ProfileError(
            f"a profile's weight must be at most {MAX_WRITTEN_WEIGHT:g} (moodtape writes it so), "
            f"got {profile.weight:.3g}; make a new one"
        )


def usable_profile(profile: object, model_id: str) -> Profile:
    """``profile`` when it is a :class:`Profile` made with the model ``model_id``.

    Raises:
        ProfileError: anything else (a path or a parsed dict is a common slip), or a profile made
            with another model; the message says what to do.
    """
    if not isinstance(profile, Profile):
        raise ProfileError(
            f"profile must be a moodtape.Profile, got {type(profile).__name__}; read a saved one with "
            "moodtape.Profile.from_json(Path('me.json').read_text())"
        )
    profile.check_model(model_id)
    return profile


def fit_profile(
    model_id: str,
    probabilities: Mapping[str, FloatArray],
    embeddings: Mapping[str, FloatArray] | None = None,
    settings: Settings = Settings(),
    notes: tuple[str, ...] = (),
) -> Profile:
    """Learn a profile from each emotion's example probabilities ``(k, 7)`` (and embeddings ``(k, d)``).

    When the neutral examples, read together, show a smile or an open mouth (:func:`not_resting`),
    the expressions are not learnt and the profile's ``notes`` say why: the baseline alone is bounded
    by its clip, but a neutral prototype that is a smile read another shot of the person's smile as
    happy for 7 of Yale's 15 people (14 uncalibrated, 13 with the baseline alone).

    Raises:
        DataError: no neutral examples, an unknown emotion, or an emotion with no examples.
    """
    check_examples({label: list(rows) for label, rows in probabilities.items()})
    neutral = np.log(np.clip(probabilities["neutral"].astype(np.float64), _EPSILON, 1.0)).mean(axis=0)
    baseline = np.clip(_centred(_target(settings)) - _centred(neutral), -settings.max_shift, settings.max_shift)
    prototypes: dict[str, tuple[float, ...]] = {}
    center: tuple[float, ...] = ()
    if embeddings is not None and len(embeddings) >= 2:
        not_resting_as = neutral_reads_as(probabilities["neutral"])
        if not_resting_as is not None:
            notes = (*notes, expressions_not_learnt_note(not_resting_as))
        else:
            means = {
                label: _unit(_unit(embeddings[label].astype(np.float64)).mean(axis=0))
                for label in EMOTIONS
                if label in embeddings
            }
            middle = np.mean(list(means.values()), axis=0)
            prototypes = {label: tuple(float(v) for v in _unit(mean - middle)) for label, mean in means.items()}
            center = tuple(float(v) for v in middle)
    coverage = (len(prototypes) - 1) / (len(EMOTIONS) - 1) if prototypes else 0.0
    return Profile(
        model_id=model_id,
        baseline=tuple(float(v) for v in _centred(baseline)),
        examples={label: len(probabilities[label]) for label in EMOTIONS if label in probabilities},
        prototypes=prototypes,
        center=center,
        weight=settings.prototype_weight * coverage,
        notes=notes,
    )


def apply_profile(profile: Profile, probabilities: FloatArray, embeddings: FloatArray | None) -> FloatArray:
    """See :meth:`Profile.apply`."""
    if probabilities.shape[0] == 0:
        return probabilities.astype(np.float32)
    scores = np.log(np.clip(probabilities.astype(np.float64), _EPSILON, 1.0)) + np.asarray(profile.baseline)
    if profile.uses_embedding and embeddings is not None:
        labels = list(profile.prototypes)
        matrix = np.asarray([profile.prototypes[label] for label in labels])
        if embeddings.shape[1] != matrix.shape[1]:
            raise ProfileError(
                f"the model gives {embeddings.shape[1]} features but the profile holds {matrix.shape[1]}; "
                "calibrate again"
            )
        faces = _unit(_unit(embeddings.astype(np.float64)) - np.asarray(profile.center))
        similarity = faces @ matrix.T
        similarity -= similarity.mean(axis=1, keepdims=True)
        columns = [EMOTIONS.index(label) for label in labels]
        scores[:, columns] += profile.weight * similarity
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


def not_resting(probabilities: FloatArray) -> str | None:
    """The broad expression a "neutral" example shows instead of a resting face, if it clearly shows one.

    The profile still takes such an example as the person's neutral face, its baseline bounded by
    the clip, but the caller should say so: a smile given as "neutral" teaches the baseline that this
    person's smile is their resting face, and their real smiles then read less happy. When all the
    neutral examples read together (:func:`neutral_reads_as`) show one, no expressions are learnt
    either (:func:`fit_profile`): a neutral prototype that is a smile would pull real smiles further.
    """
    index = max(_BROAD, key=lambda column: float(probabilities[column]))
    return EMOTIONS[index] if float(probabilities[index]) >= NOT_RESTING_AT else None


def neutral_reads_as(neutral: FloatArray) -> str | None:
    """What a person's neutral examples ``(k, 7)``, read together, show instead of a resting face.

    The same reading :func:`fit_profile` makes (the mean of their log-probabilities): when it is not
    None, the profile learns no expressions, and a caller (the web page) can say so and why.
    """
    logs = np.log(np.clip(np.asarray(neutral, dtype=np.float64), _EPSILON, 1.0)).mean(axis=0)
    return not_resting(_softmax(logs))


def expressions_not_learnt_note(expression: str) -> str:
    """Why a profile learnt no expressions: its neutral examples read as ``expression`` (happy or surprise).

    The advice covers both cases: a smile made while asked to rest (calibrate again relaxed), and a
    face that rests that way (nothing to redo: the baseline alone is used).
    """
    word = "surprised" if expression == "surprise" else expression
    return (
        f"your neutral examples look {word} rather than relaxed, so the other expressions were not learnt "
        "(they would have pulled your real smiles toward neutral); calibrate again with a relaxed, resting face, "
        "or, if this is how your face rests, the neutral baseline alone is used"
    )


def check_examples(examples: Mapping[str, list[Any]]) -> None:
    """Raise :class:`DataError` for an unknown emotion, an empty list or a missing neutral."""
    unknown = sorted(set(examples) - set(EMOTIONS))
    if unknown:
        raise DataError(f"unknown emotion(s) {', '.join(map(repr, unknown))}; use: {', '.join(EMOTIONS)}")
    empty = [label for label, items in examples.items() if len(items) == 0]
    if empty:
        raise DataError(f"no images given for {', '.join(empty)}; give at least one per emotion named")
    if "neutral" not in examples:
        raise DataError("calibration needs at least one neutral photo (neutral=me.jpg): a relaxed, resting face")


def _target(settings: Settings) -> npt.NDArray[np.float64]:
    """What the person's resting face should read as: the model's reference, else the even target."""
    if settings.neutral_reference is not None:
        return np.asarray(settings.neutral_reference, dtype=np.float64)
    target = np.full(len(EMOTIONS), (1.0 - settings.neutral_target) / (len(EMOTIONS) - 1))
    target[_NEUTRAL] = settings.neutral_target
    return np.asarray(np.log(target), dtype=np.float64)


def _softmax(logs: npt.NDArray[np.float64]) -> FloatArray:
    """Probabilities from (mean) log-probabilities: the person's neutral examples read together."""
    exp = np.exp(logs - logs.max())
    return np.asarray(exp / exp.sum(), dtype=np.float32)


def _centred(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(values - values.mean(), dtype=np.float64)


def _unit(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float64)


def _count(value: object) -> int:
    """An example count from JSON: a whole number of at least 1 (``1.9`` is not one, nor ``true``)."""
    count = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, float) and value.is_integer():
        count = int(value)
    if count is None or count < 1:
        raise ValueError(f"an example count must be a whole number of at least 1, got {value!r}")
    return count


def _number(value: object, what: str) -> float:
    """A number from JSON as a float: a whole number past float range (``1e400`` written out in digits)
    let a bare ``OverflowError`` out of :meth:`Profile.from_json`, and ``true`` or ``"1"`` passed for one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a number, got {value!r:.40}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large: {len(str(value))} digits") from None


def _numbers(value: object, what: str) -> tuple[float, ...]:
    """A list (or tuple) of numbers from JSON, each as :func:`_number` reads it."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what} must be a list")
    return tuple(_number(item, f"each {what} entry") for item in value)


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def _pack(vector: tuple[float, ...]) -> dict[str, Any]:
    """int8 with one scale: 1 byte per feature, relative error ≤ 1/254 of the largest entry."""
    values = np.asarray(vector, dtype=np.float64)
    scale = float(np.abs(values).max()) / 127.0 or 1.0
    quantized = np.round(values / scale).astype(np.int8)
    return {"scale": scale, "int8": base64.b64encode(quantized.tobytes()).decode("ascii")}


def _unpack(packed: Mapping[str, Any]) -> tuple[float, ...]:
    raw = np.frombuffer(base64.b64decode(packed["int8"], validate=True), dtype=np.int8)
    scale = _number(packed["scale"], "a scale")
    return tuple(float(v) * scale for v in raw)
