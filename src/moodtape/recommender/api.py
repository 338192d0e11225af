"""``moodtape.recommend(mood, …)``: the one-call public verb for recommendations.

``mood`` may be an emotion name (``"sad"``), a probability mapping (``{"sad": 0.7, "neutral": 0.3,
…}``), a :class:`~moodtape.types.Mood` (e.g. from a hand-set point) or a list of
:class:`~moodtape.types.Face` from :func:`moodtape.analyze`. The default engine (built-in catalog,
live providers when keys are configured and ``MOODTAPE_OFFLINE`` is off, the store from the
settings) is built on first use, once per process; tests and servers can pass their own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moodtape.config import Settings
from moodtape.errors import DataError
from moodtape.providers.base import Enricher, Provider
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import group_mood, mood_from_emotion, mood_from_probabilities
from moodtape.recommender.result import Recommendation
from moodtape.store import data_dir, store_from_settings
from moodtape.types import Face, Mood

if TYPE_CHECKING:
    from moodtape.state.process_pauses import PauseTable

MoodInput = str | Mood | Mapping[str, float] | Sequence[Face]

_default: Recommender | None = None
_default_lock = threading.Lock()


def to_mood(mood: MoodInput) -> Mood:
    """Turn any accepted mood input into a :class:`Mood`; raises :class:`DataError` otherwise."""
    if isinstance(mood, Mood):
        return mood
    if isinstance(mood, str):
        return mood_from_emotion(mood)
    if isinstance(mood, Mapping):
        return mood_from_probabilities(mood)
    if isinstance(mood, Sequence):
        faces = [face for face in mood if isinstance(face, Face)]
        if len(faces) == len(mood):
            return group_mood(faces)
    raise DataError(
        "mood must be an emotion name, a mapping of emotion probabilities, a Mood or a list of faces; "
        f"got {type(mood).__name__}"
    )


def checked_seed(seed: object) -> int | None:
    """``seed`` as the int the ranking's random generator takes, or None; anything else is a :class:`DataError`.

    The generator is NumPy's, which refused a ``"7"`` (a seed read from a form or a command line),
    a ``1.0`` or a negative number with its own ``TypeError`` or "expected non-negative integer",
    from deep inside the ranking. NumPy integers are whole numbers too; ``True`` is not one.
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a whole number of at least 0, or None; got {seed!r}")
    return int(seed)


def build_recommender(
    settings: Settings | None = None, catalog_file: Path | None = None, *, pauses: PauseTable | None = None
) -> Recommender:
    """An engine from the settings; with ``catalog_file``, one that recommends only from that file.
    ``pauses``: the table the workers of ``serve --processes N`` share their services' pauses in."""
    from moodtape.providers.catalog import Catalog

    settings = settings or Settings.load()
    store = store_from_settings(settings)
    if catalog_file is not None:
        return Recommender([], Catalog.from_file(catalog_file), store=store)
    catalog = Catalog(data_dir(settings))
    providers, enrichers = _live_providers(settings, pauses)
    return Recommender(providers, catalog, store=store, enrichers=enrichers)


def _live_providers(settings: Settings, pauses: PauseTable | None) -> tuple[list[Provider], list[Enricher]]:
    """Spotify / YouTube / keyless enrichers as the settings allow; none when offline."""
    if settings.get_bool("MOODTAPE_OFFLINE"):
        return [], []
    from moodtape.providers import registry

    return registry.live_providers(settings, pauses=pauses), registry.enrichers(settings, pauses=pauses)


def default_recommender() -> Recommender:
    """The process-wide engine, built on first use from :meth:`Settings.load`."""
    global _default
    with _default_lock:
        if _default is None:
            _default = build_recommender()
        return _default


def set_default_recommender(recommender: Recommender | None) -> None:
    """Replace (or with None, forget) the process-wide engine: for tests and embedding."""
    global _default
    with _default_lock:
        _default = recommender


def recommend(
    mood: MoodInput,
    strategy: str | None = None,
    kind: str = "tracks",
    n: int = 20,
    seed: int | None = None,
    *,
    session_id: str | None = None,
    recommender: Recommender | None = None,
) -> Recommendation:
    """Recommend ``n`` tracks or videos for ``mood``, in playlist order, each with a reason.

    Args:
        mood: an emotion name, a probability mapping, a :class:`Mood` or a list of faces.
        strategy: ``match``, ``uplift``, ``calm`` or ``energize``; None uses the mood's default.
        kind: ``"tracks"`` or ``"videos"``.
        n: list length, 1–100.
        seed: the same seed gives the same list for the same input.
        session_id: remembers history and feedback for this anonymous session (no repeats).
        recommender: the engine to use; the process-wide default when None.

    Raises:
        DataError: unknown emotion, strategy or kind; bad probabilities; n out of range; a seed
            that is not a whole number of at least 0.
        CatalogError: nothing to recommend from.
    """
    seed = checked_seed(seed)
    engine = recommender or default_recommender()
    if session_id is None:
        return engine.recommend(to_mood(mood), strategy=strategy, kind=kind, n=n, seed=seed)
    # A session: its feedback shapes the list, and the list is recorded (the shell, not the engine, writes).
    from moodtape.sessions import SessionService

    return SessionService.of(engine).recommend(session_id, to_mood(mood), strategy=strategy, kind=kind, n=n, seed=seed)
