"""Where the web app keeps each session's calibration: behind a small interface, in memory by default.

A visitor calibrates from live frames: each frame is analysed in memory and only what the
calibration needs is kept — running sums of the model's log-probabilities and embeddings per
emotion (20.6 KB per model as stored, with 512 features; never a pixel) — in a
:class:`Calibration` tied to the anonymous session. The profile is refitted after every frame.

:class:`ProfileStore` is the interface; :class:`MemoryProfileStore` keeps calibrations in this
process, bounded in number and forgotten after :data:`PROFILE_IDLE_SECONDS` unused. With several
processes or instances, Redis (:mod:`moodtape.state.profiles`) or the store
(:mod:`moodtape.state.in_store`) implements the same two methods, storing
:meth:`Calibration.to_dict` as JSON. Removing a calibration (:func:`remove_calibration`) is an
update too, so that it is ordered with the examples being added, on whichever instance.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS
from moodtape.errors import MoodtapeError
from moodtape.vision.calibrate import Example, profile_from_examples
from moodtape.vision.calibration import Profile
from moodtape.vision.pipeline import Analyzer
from moodtape.web.lru import BoundedLRU
from moodtape.web.owners import client_owner

log = logging.getLogger("moodtape.state")

#: Sessions whose calibration one process keeps: 14 KB of sums for its model in memory (7 emotions ×
#: 512 float32 features, plus the fitted profile) and 20.6 KB for each of at most two other models'
#: kept beside during a rollout, so 2,048 sessions stay under about 120 MB however many frames they send.
MAX_PROFILES: Final[int] = 2048
#: The most bytes of calibration documents the store keeps for processes without Redis: they are
#: 20.6 KB for one model, 61.6 KB with two other models' examples beside (measured, 512 features),
#: and removal counts a few bytes, so 64 MB is over a thousand of the largest.
MAX_STORED_PROFILE_BYTES: Final[int] = 64 * 1024 * 1024
#: Removal counts one process keeps, apart from the calibrations (a few hundred bytes each).
MAX_REMOVAL_COUNTS: Final[int] = 65_536
#: A calibration unused for a day is forgotten: recalibrating takes seconds, and lighting changes.
PROFILE_IDLE_SECONDS: Final[float] = 24 * 3600.0


@dataclass(frozen=True)
class Tally:
    """Running sums for one emotion: what the profile needs from its examples, in constant space.

    The baseline uses the mean log-probabilities and a prototype the mean of unit-length
    embeddings, so sums and a count are all there is to keep, however many frames arrive.
    """

    count: int
    log_probabilities: npt.NDArray[np.float64]  # (7,) sum of log p
    embedding: npt.NDArray[np.float32] | None  # (d,) sum of unit embeddings; None without an embedding

    def plus(self, example: Example) -> Tally:
        log_p = np.log(np.clip(example.probabilities.astype(np.float64), 1e-7, 1.0))
        unit = None
        if example.embedding is not None and (self.count == 0 or self.embedding is not None):
            unit = example.embedding / max(float(np.linalg.norm(example.embedding)), 1e-12)
            unit = unit if self.embedding is None else self.embedding + unit
        return Tally(self.count + 1, self.log_probabilities + log_p, None if unit is None else unit.astype(np.float32))

    def mean_example(self) -> Example:
        """One example standing for all: geometric-mean probabilities and the mean unit embedding."""
        probabilities = np.exp(self.log_probabilities / self.count).astype(np.float32)
        embedding = None if self.embedding is None else (self.embedding / self.count).astype(np.float32)
        return Example(probabilities, embedding, 1)


_EMPTY_TALLY: Final = Tally(0, np.zeros(len(EMOTIONS)), None)


@dataclass(frozen=True)
class Calibration:
    """One session's calibration examples (as running sums) and the profile fitted from them.

    ``profile`` is None until a neutral example is in. ``removed`` counts how often the person
    removed the calibration (or deleted everything): a removed calibration is kept as this count
    alone, no sums, so that an example read from a frame sent before the removal, and arriving
    after it, can tell and is dropped instead of starting the calibration again.

    A calibration belongs to the model that read its examples. ``others`` keeps the examples of the
    last :data:`MAX_OTHER_MODELS` other models (as :meth:`to_dict` writes tallies, not refitted):
    during a rollout a visitor's frames reach instances on either model, and each example on one
    replaced the other's calibration, so neither kept one (after 10 steps taking turns, the old
    model's instance said not calibrated, the new one counted 1 example of its 5). A removal
    removes every model's examples.
    """

    model_id: str
    tallies: Mapping[str, Tally] = field(default_factory=dict)
    profile: Profile | None = None
    removed: int = 0
    others: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def add(self, analyzer: Analyzer, emotion: str, example: Example) -> Calibration:
        """A copy with ``example`` counted and the profile refitted."""
        tallies = {**self.tallies, emotion: self.tallies.get(emotion, _EMPTY_TALLY).plus(example)}
        return Calibration(self.model_id, tallies, _fit(analyzer, tallies), self.removed, self.others)

    def without_examples(self) -> Calibration:
        """What is kept after a removal: no examples (of any model), no profile, the removal counted."""
        return Calibration(self.model_id, {}, None, self.removed + 1)

    def for_model(self, model_id: str) -> Calibration:
        """This calibration as ``model_id`` sees it: itself when it is that model's, else an empty
        one for ``model_id`` keeping these examples among :attr:`others` (the newest kept)."""
        if model_id == self.model_id:
            return self
        others = {name: kept for name, kept in self.others.items() if name != model_id}
        if self.model_id and self.tallies:
            others[self.model_id] = _tallies_to_dict(self.tallies)
        kept = dict(list(others.items())[-MAX_OTHER_MODELS:])
        return Calibration(model_id, {}, None, self.removed, kept)

    def keeping_others_of(self, live_models: set[str]) -> Calibration:
        """A copy without the other models' examples whose model no instance runs any more.

        ``live_models``: the models (shortened to 16 characters, as instances note them) the
        instances run; empty when none was noted, and then nothing is dropped. After a rollout the
        old model's examples, 20.6 KB a document, were otherwise read at every frame for a day.
        """
        if not live_models or not self.others:
            return self
        kept = {name: sums for name, sums in self.others.items() if name[:16] in live_models}
        return self if len(kept) == len(self.others) else dataclasses.replace(self, others=kept)

    def status(self) -> dict[str, Any]:
        """The JSON the API answers with."""
        return {
            "calibrated": self.profile is not None,
            "examples": {label: self.tallies[label].count for label in EMOTIONS if label in self.tallies},
            "expressions": self.profile is not None and self.profile.uses_embedding,
            "removed": self.removed,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for a shared store (sums of numbers the model read, no pixels)."""
        written: dict[str, Any] = {
            "model_id": self.model_id,
            "removed": self.removed,
            "tallies": _tallies_to_dict(self.tallies),
        }
        if self.others:
            written["others"] = dict(self.others)
        return written

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], analyzer: Analyzer) -> Calibration:
        """Read :meth:`to_dict`'s form back, refitting the profile with ``analyzer``: the examples of
        ``analyzer``'s model when the document keeps them (among ``others`` too), else as stored."""
        model_id, tallies = str(data["model_id"]), data["tallies"]
        others = {str(name): kept for name, kept in dict(data.get("others") or {}).items()}
        # Only a document keeping other models' examples asks which model this is (a store holding
        # a document of one model, as before session 27, reads it without a classifier at hand).
        mine = analyzer.classifier.model_id if others else model_id
        if model_id != mine and mine in others:  # this model's examples, kept beside another's
            if model_id and tallies:
                others[model_id] = tallies
            model_id, tallies = mine, others.pop(mine)
        read = _tallies_from_dict(tallies)
        return cls(model_id, read, _fit(analyzer, read), int(data.get("removed", 0)), others)

    def to_text(self) -> str:
        """:meth:`to_dict` as compact JSON, the form the shared stores keep."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_text(cls, raw: str | bytes, analyzer: Analyzer) -> Calibration | None:
        """Read :meth:`to_text` back; ``None`` (with a warning) when it cannot be read, so the person recalibrates."""
        try:
            return cls.from_dict(json.loads(raw), analyzer)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a stored calibration that cannot be read (%s)", exc)
            return None


#: Other models whose examples a calibration keeps beside its own: a rollout runs two at once.
MAX_OTHER_MODELS: Final[int] = 2


def _tallies_to_dict(tallies: Mapping[str, Tally]) -> dict[str, Any]:
    """The sums as JSON: each embedding sum as base64 of its float32 bytes (little-endian): a model's
    document is 20.6 KB with 512 features, where lists of decimal numbers made it 76.7 KB."""
    return {
        label: {
            "count": tally.count,
            "log_probabilities": [float(v) for v in tally.log_probabilities],
            "embedding_f32": None if tally.embedding is None else _packed(tally.embedding),
        }
        for label, tally in tallies.items()
    }


def _packed(values: npt.NDArray[np.float32]) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def _embedding_from(item: Mapping[str, Any]) -> npt.NDArray[np.float32] | None:
    """An embedding sum as :func:`_tallies_to_dict` writes it, or as a list (documents written before)."""
    if "embedding_f32" in item:
        packed = item["embedding_f32"]
        if packed is None:
            return None
        return np.frombuffer(base64.b64decode(packed, validate=True), dtype="<f4").astype(np.float32)
    listed = item["embedding"]
    return None if listed is None else np.asarray(listed, dtype=np.float32)


def _tallies_from_dict(data: Mapping[str, Any]) -> dict[str, Tally]:
    return {
        str(label): Tally(
            int(item["count"]), np.asarray(item["log_probabilities"], dtype=np.float64), _embedding_from(item)
        )
        for label, item in data.items()
    }


def _fit(analyzer: Analyzer, tallies: Mapping[str, Tally]) -> Profile | None:
    if "neutral" not in tallies:
        return None
    profile = profile_from_examples(analyzer, {label: [t.mean_example()] for label, t in tallies.items()})
    counts = {label: tallies[label].count for label in EMOTIONS if label in tallies}
    return dataclasses.replace(profile, examples=counts)


class ProfileStore(Protocol):
    """Per-session calibrations."""

    def get(self, session_id: str) -> Calibration | None:
        """The session's calibration, or None."""
        ...

    def update(self, session_id: str, change: Callable[[Calibration | None], Calibration]) -> Calibration:
        """Replace the session's calibration by ``change(current or None)`` atomically; returns the new one.

        Two examples of one session sent at once must both count: reading, then writing back, lost
        one. ``change`` may run more than once (a shared store retries it when another writer won).
        """
        ...


class MemoryProfileStore:
    """A :class:`ProfileStore` in this process's memory: bounded, idle entries expire.

    A removed calibration (a removal count, no examples) is kept apart, in a bound of its own: a
    removal must never take a calibration's place, or a flood of "Remove calibration" from new
    sessions would push every visitor's calibration out. That bound is fair by address too: one
    address removing in new sessions (two requests each, or one "Delete everything" each, which
    answers with the next session's token) filled all 65,536 counts in minutes, and a visitor's
    frame sent before their removal then started their calibration again.
    """

    def __init__(
        self,
        max_profiles: int = MAX_PROFILES,
        idle_seconds: float = PROFILE_IDLE_SECONDS,
        max_removals: int = MAX_REMOVAL_COUNTS,
    ) -> None:
        # Fair at the bound (web/owners.py): a flood of new sessions evicts its own calibrations.
        self._entries: BoundedLRU[str, Calibration] = BoundedLRU(max_profiles, idle_seconds, owner=client_owner)
        self._removed: BoundedLRU[str, int] = BoundedLRU(max_removals, idle_seconds, owner=client_owner)
        self._lock = threading.Lock()  # one read-change-write across both maps

    def get(self, session_id: str) -> Calibration | None:
        found = self._entries.get(session_id)
        if found is not None:
            return found
        removed = self._removed.get(session_id)
        return None if removed is None else Calibration("", removed=removed)

    def update(self, session_id: str, change: Callable[[Calibration | None], Calibration]) -> Calibration:
        with self._lock:
            new = change(self.get(session_id))
            if new.tallies:
                self._entries.put(session_id, new)
                self._removed.pop(session_id)
            else:
                self._entries.pop(session_id)
                self._removed.put(session_id, new.removed)
            return new

    def __len__(self) -> int:
        """Calibrations kept (removal counts not included)."""
        return len(self._entries)


#: The highest removal count a new calibration starts from (a client's count may be any number).
MAX_REMOVALS: Final[int] = 2**31


class CalibrationRemovedError(MoodtapeError):
    """An example read from a frame sent before the person removed the calibration."""

    status = 409
    code = "calibration_removed"


def remove_calibration(store: ProfileStore, session_id: str) -> tuple[bool, int]:
    """Forget the session's examples and profile: whether there were any, and the removal count now.

    Only the removal count stays (until it expires like a calibration), so that a frame sent
    before the removal, still on its way or being read, is dropped when it arrives instead of
    starting the calibration again (see :func:`add_unless_removed`).
    """
    had: list[bool] = []

    def removed(current: Calibration | None) -> Calibration:
        had[:] = [current is not None and bool(current.tallies)]
        return (current or Calibration("")).without_examples()

    now = store.update(session_id, removed).removed
    return had[0], now


def carry_removals(store: ProfileStore, session_id: str, removed: int) -> None:
    """Start ``session_id`` (just made, see ``web/session.py``'s ``renew_session``) at ``removed`` removals.

    "Delete everything" moves the visit to a new session while frames of a calibration under way
    may still be on their way: those sent after the answer carry the new cookie and the removal
    count they were taken under, which this count (a number, nothing of the old calibration)
    makes them drop, as it would have in the old session.
    """
    store.update(session_id, lambda current: Calibration("", removed=max(removed, removals_of(current))))


def removals_of(calibration: Calibration | None) -> int:
    """``calibration``'s removal count; 0 when there is none."""
    return 0 if calibration is None else calibration.removed


def removals(store: ProfileStore, session_id: str) -> int:
    """How often the session's calibration was removed so far (for a client that did not say)."""
    return removals_of(store.get(session_id))


def add_unless_removed(
    store: ProfileStore, session_id: str, analyzer: Analyzer, emotion: str, example: Example, removed_before: int
) -> Calibration:
    """Add ``example`` atomically, unless the calibration was removed since the client saw ``removed_before``.

    A calibration that is gone altogether (expired after a day unused, or pushed out of a full
    memory store) cannot tell: the example then starts a new one.

    Raises:
        CalibrationRemovedError: it was removed; nothing is kept.
    """
    model_id = analyzer.classifier.model_id

    def with_example(current: Calibration | None) -> Calibration:
        if current is not None and current.removed != removed_before:
            raise CalibrationRemovedError(
                "the calibration was removed after this frame was sent, so it was not kept; "
                "start calibrating again to make a new one"
            )
        if current is None:
            # A new one goes on from the client's count (bounded: it must stay a count the client
            # can send back, and an exact number in JavaScript).
            current = Calibration(model_id, removed=min(removed_before, MAX_REMOVALS))
        else:  # another model's examples are kept beside this one's (a rollout)
            current = current.for_model(model_id)
        return current.add(analyzer, emotion, example)

    return store.update(session_id, with_example)  # atomic: overlapping examples all count
