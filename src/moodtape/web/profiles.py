"""Where the web app keeps each session's calibration: behind a small interface, in memory by default.

A visitor calibrates from live frames: each frame is analysed in memory and only what the
calibration needs is kept — the model's probabilities and embedding of the face (a few KB, never
a pixel) — in a :class:`Calibration` tied to the anonymous session. The profile is refitted from
those examples after every frame.

:class:`ProfileStore` is the interface; :class:`MemoryProfileStore` keeps calibrations in this
process, bounded in number and forgotten after :data:`PROFILE_IDLE_SECONDS` unused. With several
processes, a shared store (Redis, say) can implement the same three methods, storing
:meth:`Calibration.to_dict` as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np

from moodtape.emotions import EMOTIONS
from moodtape.vision.calibrate import Example, profile_from_examples
from moodtape.vision.calibration import Profile
from moodtape.vision.pipeline import Analyzer
from moodtape.web.lru import BoundedLRU

#: Sessions whose calibration one process keeps (each a few KB).
MAX_PROFILES: Final[int] = 4096
#: A calibration unused for a day is forgotten: recalibrating takes seconds, and lighting changes.
PROFILE_IDLE_SECONDS: Final[float] = 24 * 3600.0
#: Examples kept per emotion (the newest): the page sends a handful of frames per expression.
MAX_EXAMPLES: Final[int] = 8


@dataclass(frozen=True)
class Calibration:
    """One session's calibration examples and the profile fitted from them (None until neutral is given)."""

    model_id: str
    examples: Mapping[str, tuple[Example, ...]] = field(default_factory=dict)
    profile: Profile | None = None

    def add(self, analyzer: Analyzer, emotion: str, example: Example) -> Calibration:
        """A copy with ``example`` added (keeping the newest :data:`MAX_EXAMPLES`) and the profile refitted."""
        kept = {**self.examples, emotion: (*self.examples.get(emotion, ()), example)[-MAX_EXAMPLES:]}
        profile = profile_from_examples(analyzer, kept) if "neutral" in kept else None
        return Calibration(self.model_id, kept, profile)

    def status(self) -> dict[str, Any]:
        """The JSON the API answers with."""
        return {
            "calibrated": self.profile is not None,
            "examples": {label: len(self.examples[label]) for label in EMOTIONS if label in self.examples},
            "expressions": self.profile is not None and self.profile.uses_embedding,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for a shared store (probabilities and embeddings, no pixels)."""
        return {
            "model_id": self.model_id,
            "examples": {
                label: [
                    {
                        "probabilities": [float(v) for v in e.probabilities],
                        "embedding": None if e.embedding is None else [float(v) for v in e.embedding],
                    }
                    for e in items
                ]
                for label, items in self.examples.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], analyzer: Analyzer) -> Calibration:
        """Read :meth:`to_dict`'s form back, refitting the profile with ``analyzer``."""
        examples = {
            label: tuple(
                Example(
                    np.asarray(item["probabilities"], dtype=np.float32),
                    None if item["embedding"] is None else np.asarray(item["embedding"], dtype=np.float32),
                    1,
                )
                for item in items
            )
            for label, items in data["examples"].items()
        }
        profile = profile_from_examples(analyzer, examples) if "neutral" in examples else None
        return cls(str(data["model_id"]), examples, profile)


class ProfileStore(Protocol):
    """Per-session calibrations."""

    def get(self, session_id: str) -> Calibration | None:
        """The session's calibration, or None."""
        ...

    def put(self, session_id: str, calibration: Calibration) -> None:
        """Keep ``calibration`` for the session (replacing any)."""
        ...

    def delete(self, session_id: str) -> bool:
        """Forget the session's calibration; True when there was one."""
        ...


class MemoryProfileStore:
    """A :class:`ProfileStore` in this process's memory: bounded, idle entries expire."""

    def __init__(self, max_profiles: int = MAX_PROFILES, idle_seconds: float = PROFILE_IDLE_SECONDS) -> None:
        self._entries: BoundedLRU[str, Calibration] = BoundedLRU(max_profiles, idle_seconds)

    def get(self, session_id: str) -> Calibration | None:
        return self._entries.get(session_id)

    def put(self, session_id: str, calibration: Calibration) -> None:
        self._entries.put(session_id, calibration)

    def delete(self, session_id: str) -> bool:
        return self._entries.pop(session_id) is not None

    def __len__(self) -> int:
        return len(self._entries)
