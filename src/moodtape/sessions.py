"""The imperative shell around the pure recommender: read a session's state, rank, then record.

:meth:`moodtape.recommender.engine.Recommender.recommend` ranks and returns; it neither reads nor
writes the store. :class:`SessionService` is the small service the web API, the public
``moodtape.recommend(…, session_id=…)`` and the CLI go through when a session is involved:

1. validate the request (nothing is stored for a request that would fail);
2. read what the session taught us (feedback → :class:`Preferences`, "not my mood" corrections);
3. call the pure recommender;
4. record what was shown (history) and, for "not my mood", the correction.

This is the "functional core, imperative shell" split that STYLE.md asks for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from moodtape.errors import DataError
from moodtape.recommender.engine import Recommender, check_request
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.ranking import Item, Preferences, artist_of, genre_of
from moodtape.recommender.result import Recommendation, RecommendedItem
from moodtape.recommender.strategies import resolve_strategy
from moodtape.recommender.taste import Taste, features_from_json
from moodtape.store import ACTIONS, Feedback, HistoryEntry, Store, check_session_id
from moodtape.types import Mood

#: (artist, genre) affinity change per feedback action.
ACTION_WEIGHTS: Final[dict[str, tuple[float, float]]] = {
    "like": (1.0, 0.5),
    "skip": (-0.5, -0.25),
    "dislike": (-1.5, -0.75),
}


class SessionService:
    """Lists, feedback and corrections for anonymous sessions, over a pure recommender and a store.

    Args:
        recommender: the pure engine.
        store: where history, feedback and corrections live; None keeps no memory (lists are still
            made, feedback and corrections raise :class:`DataError`).
    """

    def __init__(self, recommender: Recommender, store: Store | None) -> None:
        self.recommender = recommender
        self.store = store

    @classmethod
    def of(cls, recommender: Recommender) -> SessionService:
        """The service over ``recommender`` and the store it was built with."""
        return cls(recommender, recommender.store)

    def recommend(
        self,
        session_id: str | None,
        mood: Mood,
        strategy: str | None = None,
        kind: str = "tracks",
        n: int = 20,
        seed: int | None = None,
        genres: Sequence[str] = (),
    ) -> Recommendation:
        """A list for ``mood`` that follows the session's feedback and corrections, recorded as history."""
        if session_id is not None:
            check_session_id(session_id)
        mood = self.corrected(mood, session_id)
        result = self.recommender.recommend(
            mood, strategy=strategy, kind=kind, n=n, seed=seed, preferences=self.preferences(session_id), genres=genres
        )
        self.record(session_id, result)
        return result

    def record(self, session_id: str | None, result: Recommendation) -> None:
        """Store the list as shown in the session's history (nothing without a session or a store)."""
        if session_id is None or self.store is None:
            return
        self.store.add_history(session_id, [_history(entry, result) for entry in result.items])

    # --- feedback ---

    def feedback(self, session_id: str, item: Item, action: str) -> None:
        """Record a like, skip or dislike on ``item``; the session's next lists follow it."""
        self.feedback_by_key(session_id, item.key, artist_of(item), action, genre_of(item))

    def feedback_by_key(
        self, session_id: str, item_key: str, artist: str, action: str, genre: str | None = None
    ) -> None:
        """The same from the JSON of a shown item (its ``key``, ``artist`` and ``genre``/``category``)."""
        feedback = Feedback(item_key, artist.casefold().strip(), action, genre.casefold().strip() if genre else None)
        self._require_store().add_feedback(check_session_id(session_id), feedback)

    def preferences(self, session_id: str | None) -> Preferences:
        """Affinities and avoid-lists learned from the session's feedback and history."""
        if session_id is None or self.store is None:
            return Preferences()
        artists: dict[str, float] = defaultdict(float)
        genres: dict[str, float] = defaultdict(float)
        disliked: set[str] = set()
        for entry in self.store.feedback(session_id):
            artist_weight, genre_weight = ACTION_WEIGHTS[entry.action]
            artists[entry.artist] += artist_weight
            if entry.genre:
                genres[entry.genre] += genre_weight
            if entry.action == "dislike":
                disliked.add(entry.item_key)
        return Preferences(
            dict(artists),
            dict(genres),
            self.store.seen_keys(session_id),
            frozenset(disliked),
            taste=self.taste(session_id),
        )

    def taste(self, session_id: str | None) -> Taste:
        """The session's :class:`Taste`, rebuilt from its feedback (oldest first).

        This store keeps the artist and genre of each rated item, so these are the features learned
        here; a store that keeps the rated item's JSON can feed every feature through
        :func:`~moodtape.recommender.taste.features_from_json`.
        """
        taste = Taste()
        if session_id is None or self.store is None:
            return taste
        titles = {entry.item_key: entry.title for entry in self.store.history(session_id)}
        for entry in self.store.feedback(session_id):
            item = {"artist": entry.artist, "genre": entry.genre}
            taste = taste.learn(features_from_json(item), entry.action, titles.get(entry.item_key, ""))
        return taste

    # --- "not my mood" ---

    def not_my_mood(
        self,
        session_id: str,
        detected: str,
        corrected: str,
        strategy: str | None = None,
        kind: str = "tracks",
        n: int = 20,
        seed: int | None = None,
    ) -> Recommendation:
        """The person says they are ``corrected``, not ``detected``: make the new list, then remember it.

        Every input is validated and the list made before anything is stored, so a refused request
        writes nothing. The new list uses the corrected emotion's default strategy unless
        ``strategy`` is given.
        """
        store = self._require_store()
        check_session_id(session_id)
        detected_emotion = mood_from_emotion(detected).emotion or detected
        corrected_mood = mood_from_emotion(corrected)
        check_request(kind, n)
        mood = Mood(corrected_mood.valence, corrected_mood.arousal, corrected_mood.emotion, source="corrected")
        resolve_strategy(strategy, mood)
        result = self.recommender.recommend(
            mood, strategy=strategy, kind=kind, n=n, seed=seed, preferences=self.preferences(session_id)
        )
        store.set_correction(session_id, detected_emotion, corrected_mood.emotion or corrected)
        self.record(session_id, result)
        return result

    def corrected(self, mood: Mood, session_id: str | None) -> Mood:
        """A face mood replaced by the person's own correction for that emotion, if they gave one."""
        if session_id is None or self.store is None or mood.emotion is None or mood.source not in ("face", "group"):
            return mood
        corrected = self.store.correction(session_id, mood.emotion)
        if corrected is None:
            return mood
        point = mood_from_emotion(corrected)
        return Mood(point.valence, point.arousal, point.emotion, source="corrected")

    def _require_store(self) -> Store:
        if self.store is None:
            raise DataError("feedback needs a store: create the Recommender with store=Store(...)")
        return self.store


def _history(entry: RecommendedItem, result: Recommendation) -> HistoryEntry:
    return HistoryEntry(
        item_key=entry.item.key,
        kind=result.kind,
        title=entry.item.title,
        artist=entry.artist,
        source=entry.source,
        strategy=result.strategy,
        position=entry.position,
        genre=genre_of(entry.item),
        emotion=result.mood.emotion,
    )


__all__ = ["ACTIONS", "ACTION_WEIGHTS", "SessionService"]
