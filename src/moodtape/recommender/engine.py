"""The recommendation engine: mood → strategy → target path → candidates → ranked, explained list.

Candidates come from the live providers first (Spotify, YouTube) when any are configured; a
provider that fails raises a :class:`~moodtape.errors.ProviderError` whose message is written for
people, and that message is kept as a ``fallback_reason`` while the built-in catalog takes over.
The catalog also tops up live answers that are too few to fill the list.

Feedback re-ranks within a session: likes raise the affinity of the item's artist and genre, skips
lower it a little, dislikes lower it more and ban the item. "Not my mood" stores a correction
(detected emotion → the one the person meant); later lists for a face read as that emotion follow
the correction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from moodtape.errors import CatalogError, DataError, ProviderError
from moodtape.providers.base import Enricher, Provider, Query
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.ranking import Item, Preferences, Ranked, artist_of, genre_of, rank
from moodtape.recommender.reasons import reason
from moodtape.recommender.result import Recommendation, RecommendedItem
from moodtape.recommender.strategies import progress, resolve_strategy, target_path
from moodtape.store import Feedback, HistoryEntry, Store
from moodtape.types import Mood, Track

KINDS: Final[tuple[str, ...]] = ("tracks", "videos")
#: The longest list one call may ask for: enough for an evening, small enough to rank in milliseconds.
MAX_ITEMS: Final[int] = 100
#: (artist, genre) affinity change per feedback action.
ACTION_WEIGHTS: Final[dict[str, tuple[float, float]]] = {
    "like": (1.0, 0.5),
    "skip": (-0.5, -0.25),
    "dislike": (-1.5, -0.75),
}


def check_request(kind: str, n: int) -> None:
    """Raise :class:`DataError` for an unknown kind or an n outside 1…:data:`MAX_ITEMS`."""
    if kind not in KINDS:
        raise DataError(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ITEMS:
        raise DataError(f"n must be a whole number from 1 to {MAX_ITEMS}, got {n!r}")


def candidate_limit(n: int) -> int:
    """How many candidates to ask each provider for: plenty to choose from, few enough to rank fast."""
    return min(2000, max(200, 25 * n))


class Recommender:
    """Makes explained lists from live providers and the catalog; remembers sessions in ``store``.

    Args:
        providers: live providers, asked in order; empty when none is configured or offline.
        catalog: the built-in (or a user) catalog, asked when live providers fail or fall short.
        store: where session history, feedback and corrections live; None keeps no memory.
        enrichers: keyless services that add artwork and previews to the chosen tracks.
    """

    def __init__(
        self,
        providers: Sequence[Provider],
        catalog: Provider,
        store: Store | None = None,
        enrichers: Sequence[Enricher] = (),
    ) -> None:
        self.providers = tuple(providers)
        self.catalog = catalog
        self.store = store
        self.enrichers = tuple(enrichers)

    def recommend(
        self,
        mood: Mood,
        strategy: str | None = None,
        kind: str = "tracks",
        n: int = 20,
        seed: int | None = None,
        session_id: str | None = None,
        genres: Sequence[str] = (),
    ) -> Recommendation:
        """A list of ``n`` tracks or videos for ``mood``, in playlist order, each with its reason."""
        check_request(kind, n)
        mood = self._corrected(mood, session_id)
        chosen_strategy = resolve_strategy(strategy, mood)
        targets = target_path(mood, chosen_strategy, n)
        # No keywords: text-search providers turn the targets into their own mood words, region by region.
        query = Query(targets, genres=tuple(genres), limit=candidate_limit(n))
        candidates, fallbacks = self._live_candidates(query, kind)
        preferences = self.preferences(session_id)
        ranked = rank(candidates, targets, preferences, seed=seed)
        if len(ranked) < n:
            # Live providers failed, found too little, or too few different artists: the catalog fills in.
            candidates.extend(_fetch(self.catalog, query, kind))
            ranked = rank(candidates, targets, preferences, seed=seed)
        if not ranked:
            raise CatalogError(
                f"no {kind} to recommend: the catalog has none; add some with `moodtape catalog import FILE.csv`"
            )
        items, enrich_fallbacks = self._enrich([r.item for r in ranked])
        entries = tuple(self._entry(r, item, chosen_strategy, mood, n) for r, item in zip(ranked, items, strict=True))
        if session_id is not None and self.store is not None:
            self.store.add_history(session_id, [_history(entry, kind, chosen_strategy, mood) for entry in entries])
        return Recommendation(
            items=entries,
            mood=mood,
            strategy=chosen_strategy,
            kind=kind,
            targets=targets,
            sources=tuple(dict.fromkeys(entry.source for entry in entries)),
            fallback_reasons=tuple(fallbacks + enrich_fallbacks),
            notes=_notes(entries, n),
        )

    # --- feedback ---

    def feedback(self, session_id: str, item: Item, action: str) -> None:
        """Record a like, skip or dislike on ``item``; the session's next lists follow it."""
        self.feedback_by_key(session_id, item.key, artist_of(item), action, genre_of(item))

    def feedback_by_key(
        self, session_id: str, item_key: str, artist: str, action: str, genre: str | None = None
    ) -> None:
        """The same from the JSON of a shown item (its ``key``, ``artist`` and ``genre``/``category``)."""
        feedback = Feedback(item_key, artist.casefold().strip(), action, genre.casefold().strip() if genre else None)
        self._require_store().add_feedback(session_id, feedback)

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
        return Preferences(dict(artists), dict(genres), self.store.seen_keys(session_id), frozenset(disliked))

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
        """The person says they are ``corrected``, not ``detected``: remember it and make a new list.

        The new list uses the corrected emotion's default strategy unless ``strategy`` is given.
        """
        store = self._require_store()
        detected_emotion = mood_from_emotion(detected).emotion or detected
        corrected_mood = mood_from_emotion(corrected)
        store.set_correction(session_id, detected_emotion, corrected_mood.emotion or corrected)
        mood = Mood(corrected_mood.valence, corrected_mood.arousal, corrected_mood.emotion, source="corrected")
        return self.recommend(mood, strategy=strategy, kind=kind, n=n, seed=seed, session_id=session_id)

    # --- steps ---

    def _require_store(self) -> Store:
        if self.store is None:
            raise DataError("feedback needs a store: create the Recommender with store=Store(...)")
        return self.store

    def _corrected(self, mood: Mood, session_id: str | None) -> Mood:
        """A face mood replaced by the person's own correction for that emotion, if they gave one."""
        if session_id is None or self.store is None or mood.emotion is None or mood.source not in ("face", "group"):
            return mood
        corrected = self.store.correction(session_id, mood.emotion)
        if corrected is None:
            return mood
        point = mood_from_emotion(corrected)
        return Mood(point.valence, point.arousal, point.emotion, source="corrected")

    def _live_candidates(self, query: Query, kind: str) -> tuple[list[Item], list[str]]:
        """Candidates from every live provider that answers, and the reasons of those that fail."""
        candidates: list[Item] = []
        fallbacks: list[str] = []
        for provider in self.providers:
            try:
                candidates.extend(_fetch(provider, query, kind))
            except ProviderError as error:
                fallbacks.append(str(error))
        return candidates, fallbacks

    def _enrich(self, items: list[Item]) -> tuple[list[Item], list[str]]:
        """Let keyless services add artwork and previews to the chosen tracks (videos pass through)."""
        fallbacks: list[str] = []
        tracks = [item for item in items if isinstance(item, Track)]
        if not tracks or not self.enrichers:
            return items, fallbacks
        for enricher in self.enrichers:
            try:
                enriched = enricher.enrich(tracks)
            except ProviderError as error:  # an Enricher may also give up outright
                fallbacks.append(str(error))
                continue
            failure = getattr(enricher, "last_failure", None)  # ours keep what they filled and say why
            if failure:
                fallbacks.append(str(failure))
            if len(enriched) == len(tracks) and all(a.key == b.key for a, b in zip(enriched, tracks, strict=True)):
                tracks = enriched
        replacement = iter(tracks)
        return [next(replacement) if isinstance(item, Track) else item for item in items], fallbacks

    @staticmethod
    def _entry(ranked: Ranked, item: Item, strategy: str, mood: Mood, n: int) -> RecommendedItem:
        line = reason(item, strategy, mood.emotion, progress(ranked.slot, n), liked=ranked.liked_artist)
        return RecommendedItem(item, ranked.slot, ranked.target, ranked.distance, line, ranked.repeat)


def _fetch(provider: Provider, query: Query, kind: str) -> list[Item]:
    if kind == "tracks":
        return list(provider.tracks(query))
    return list(provider.videos(query))


def _history(entry: RecommendedItem, kind: str, strategy: str, mood: Mood) -> HistoryEntry:
    return HistoryEntry(
        item_key=entry.item.key,
        kind=kind,
        title=entry.item.title,
        artist=entry.artist,
        source=entry.source,
        strategy=strategy,
        position=entry.position,
        genre=genre_of(entry.item),
        emotion=mood.emotion,
    )


def _notes(entries: Sequence[RecommendedItem], n: int) -> tuple[str, ...]:
    notes: list[str] = []
    if len(entries) < n:
        notes.append(f"only {len(entries)} of {n} items: not enough different artists for this mood")
    if any(entry.repeat for entry in entries):
        notes.append("some items were already recommended in this session: nothing new was left near this mood")
    return tuple(notes)
