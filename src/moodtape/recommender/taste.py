"""Learning what one person likes from Like, Skip, Dislike and plays: a small contextual bandit.

The mood decides *where* in the (valence, energy) plane a list goes; taste decides *which* of the
songs near each point a person gets. :class:`Taste` is the serialisable state (a session keeps it
for a visit; with history on, the store keeps it per person), :class:`TasteModel` the fitted model.

Model: linear Thompson sampling (Agrawal & Goyal 2013), i.e. Bayesian linear regression of the
reward on sparse, named item features, sampled once per list:

- features (:func:`item_features`): ``artist:<primary artist>``, ``genre:<genre>``,
  ``era:<decade>`` (each 1 when present), ``energy`` (energy − 0.5) and ``acoustic``
  (acousticness − 0.5, when known);
- rewards (:data:`REWARDS`): like +1, a full play +0.5, skip −0.5, dislike −1;
- prior: every weight N(0, 1); noise σ = 0.5; the posterior is exact (ridge solve over the names
  the events used, at most a few dozen).

Exploration: each list samples one weight vector from the posterior (scaled by
:data:`EXPLORATION`), so an artist liked once is usually, not always, preferred, and names never
seen get a small random weight (:data:`UNSEEN_SD`) — new artists still get their chance. Seeded: the same
seed and the same state give the same list.

The state keeps the :data:`MAX_EVENTS` latest events only: tastes drift, and a long-lived state
must not grow without bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from moodtape.errors import DataError
from moodtape.identity import primary_artist
from moodtape.types import Track, Video

#: Reward per signal.
REWARDS: Final[dict[str, float]] = {"like": 1.0, "play": 0.5, "skip": -0.5, "dislike": -1.0}
#: Events kept (the newest).
MAX_EVENTS: Final[int] = 200
#: Prior standard deviation of every weight.
PRIOR_SD: Final[float] = 1.0
#: Reward noise standard deviation.
NOISE_SD: Final[float] = 0.5
#: Scale of the posterior spread when sampling (1 = textbook Thompson sampling; smaller explores less).
#: 0.3 explored enough and learned faster than 0.5 in ``benchmarks/taste_learning.py`` (a small grid,
#: confirmed on a catalog generated with another seed; see docs/recommendations.md).
EXPLORATION: Final[float] = 0.3
#: Spread of the weight drawn for an artist, genre or era no signal has named yet: small, so new
#: names get a chance without drowning the mood fit (a weight of 1 is a liked artist).
UNSEEN_SD: Final[float] = 0.1
#: Version of the JSON form, so a stored state from an older release is recognised.
STATE_VERSION: Final[int] = 1

Features = Mapping[str, float]


def _name(prefix: str, value: str | None) -> str | None:
    text = (value or "").casefold().strip()
    return f"{prefix}:{text}" if text else None


def item_features(item: Track | Video) -> dict[str, float]:
    """The named features of ``item`` the taste model weighs (see the module docstring)."""
    # Energy as given, not the blend: acousticness is a feature of its own here.
    features: dict[str, float] = {"energy": item.energy - 0.5}
    for name in (
        _name("artist", primary_artist(item.artist)),
        _name("genre", item.genre),
        _name("era", str(item.decade) if item.decade else None),
    ):
        if name:
            features[name] = 1.0
    acousticness = item.audio_features().get("acousticness")
    if acousticness is not None:
        features["acoustic"] = acousticness - 0.5
    return features


def features_from_json(item: Mapping[str, Any]) -> dict[str, float]:
    """The same features from an item's JSON (:meth:`RecommendedItem.to_dict`), e.g. a saved list's row."""
    energy = item.get("energy")
    features: dict[str, float] = {"energy": float(energy) - 0.5} if isinstance(energy, int | float) else {}
    genre = item.get("genre") or item.get("category")
    for name in (
        _name("artist", primary_artist(str(item.get("artist") or ""))),
        _name("genre", str(genre) if genre else None),
        _name("era", str(item["decade"]) if item.get("decade") else None),
    ):
        if name:
            features[name] = 1.0
    acousticness = item.get("acousticness")
    if isinstance(acousticness, int | float):
        features["acoustic"] = float(acousticness) - 0.5
    return features


@dataclass(frozen=True)
class Event:
    """One signal: the item's features, the reward, and the item's title (for "because you liked …")."""

    features: Mapping[str, float]
    reward: float
    title: str = ""


@dataclass(frozen=True)
class Taste:
    """What one person's signals taught us, oldest first; immutable, small and JSON-serialisable."""

    events: tuple[Event, ...] = field(default_factory=tuple)

    def learn(self, features: Features, action: str, title: str = "") -> Taste:
        """A new state with one more signal (``like``, ``play``, ``skip`` or ``dislike``)."""
        if action not in REWARDS:
            raise DataError(f"unknown signal {action!r}; choose one of: {', '.join(REWARDS)}")
        event = Event(dict(features), REWARDS[action], title)
        return Taste((*self.events, event)[-MAX_EVENTS:])

    def learn_item(self, item: Track | Video, action: str) -> Taste:
        return self.learn(item_features(item), action, item.title)

    def liked(self) -> list[Event]:
        """Events with a positive reward, newest first."""
        return [event for event in reversed(self.events) if event.reward > 0]

    def to_json(self) -> dict[str, Any]:
        """A plain JSON object (for the store)."""
        return {
            "version": STATE_VERSION,
            "events": [{"f": dict(e.features), "r": e.reward, "t": e.title} for e in self.events],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Taste:
        """Read :meth:`to_json`'s form back; an unknown version or a damaged event is a DataError."""
        if not isinstance(data, Mapping) or data.get("version") != STATE_VERSION:
            raise DataError(f"a taste state must be a JSON object with version {STATE_VERSION}")
        events = []
        for raw in data.get("events", []):
            try:
                features = {str(k): float(v) for k, v in dict(raw["f"]).items()}
                reward = float(raw["r"])
            except (KeyError, TypeError, ValueError) as error:
                raise DataError(f"a damaged taste event: {error}") from None
            if not math.isfinite(reward) or not all(math.isfinite(v) for v in features.values()):
                raise DataError("a damaged taste event: values must be finite")
            events.append(Event(features, reward, str(raw.get("t", ""))))
        return cls(tuple(events[-MAX_EVENTS:]))


class TasteModel:
    """The posterior over feature weights fitted to a :class:`Taste`; pure and cheap (a small solve)."""

    def __init__(self, taste: Taste) -> None:
        names = sorted({name for event in taste.events for name in event.features})
        self.names = names
        self._index = {name: i for i, name in enumerate(names)}
        size = len(names)
        precision = np.eye(size) / PRIOR_SD**2
        target = np.zeros(size)
        for event in taste.events:
            x = self._vector(event.features)
            precision += np.outer(x, x) / NOISE_SD**2
            target += event.reward * x / NOISE_SD**2
        self.covariance = np.linalg.inv(precision) if size else np.zeros((0, 0))
        self.mean = self.covariance @ target if size else np.zeros(0)

    def _vector(self, features: Features) -> np.ndarray:
        x = np.zeros(len(self.names))
        for name, value in features.items():
            index = self._index.get(name)
            if index is not None:
                x[index] = value
        return x

    def sample(self, items: Sequence[Features], rng: np.random.Generator) -> np.ndarray:
        """One Thompson draw: the sampled utility of each item (about −1…1; 0 = no opinion)."""
        if not self.names:
            return np.zeros(len(items))
        chol = np.linalg.cholesky(self.covariance + 1e-12 * np.eye(len(self.names)))
        weights = self.mean + EXPLORATION * chol @ rng.standard_normal(len(self.names))
        unseen: dict[str, float] = {}
        utilities = np.zeros(len(items))
        for row, features in enumerate(items):
            total = 0.0
            for name, value in features.items():
                index = self._index.get(name)
                if index is not None:
                    total += weights[index] * value
                elif ":" in name:  # an artist, genre or era never rated: a draw from the prior
                    if name not in unseen:
                        unseen[name] = UNSEEN_SD * float(rng.standard_normal())
                    total += unseen[name] * value
            utilities[row] = total
        return utilities

    def expected(self, features: Features) -> float:
        """The posterior mean utility of one item (no exploration): for tests and explanations."""
        return float(self.mean @ self._vector(features)) if self.names else 0.0
