"""The recommendation engine: mood → strategy → target path → candidates → ranked, explained list.

Candidates come from the live providers first (Spotify, YouTube) when any are configured; a
provider that fails raises a :class:`~moodtape.errors.ProviderError` whose message is written for
people, and that message is kept as a ``fallback_reason`` while the built-in catalog takes over.
The catalog also tops up live answers that are too few to fill the list, and those a slow service
cut short (a search's time budget ran out, or a call after its first failed): it is asked for the
path's targets no answer came for, its candidates are ranked with the live ones, and a
``fallback_reason`` says how much came in time and how many items the catalog gave.

:meth:`Recommender.recommend` is pure with respect to moodtape's state: it ranks what the providers
offer for the mood and the :class:`~moodtape.recommender.ranking.Preferences` it is given, and it
writes nothing. Reading a session's feedback and recording what was shown is the job of
:class:`moodtape.sessions.SessionService`, the shell the web API and the CLI call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from moodtape.errors import CatalogError, DataError, ProviderError
from moodtape.providers.base import Enricher, Provider, Query, Shortfall, shortfall_of
from moodtape.recommender.cut_short import cut_short_reason
from moodtape.recommender.ranking import Item, Preferences, rank
from moodtape.recommender.reasons import explain
from moodtape.recommender.result import Recommendation, RecommendedItem
from moodtape.recommender.strategies import progress, resolve_strategy, target_path
from moodtape.store import Store
from moodtape.types import Mood, Track

KINDS: Final[tuple[str, ...]] = ("tracks", "videos")
#: The longest list one call may ask for: enough for an evening, small enough to rank in milliseconds.
MAX_ITEMS: Final[int] = 100
#: Before an enricher's failure in ``fallback_reasons``: the tracks still came, only without what it
#: adds ("Deezer is unreachable" alone read as if the music had not come).
ENRICHMENT_FAILED: Final[str] = "No previews or artwork: "


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
    """Makes explained lists from live providers and the catalog; pure: it records nothing.

    Args:
        providers: live providers, asked in order; empty when none is configured or offline.
        catalog: the built-in (or a user) catalog, asked when live providers fail or fall short.
        store: where the session shell (:class:`moodtape.sessions.SessionService`) keeps history,
            feedback and corrections; :meth:`recommend` never touches it. None keeps no memory.
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
        preferences: Preferences | None = None,
        genres: Sequence[str] = (),
    ) -> Recommendation:
        """A list of ``n`` tracks or videos for ``mood``, in playlist order, each with its reason.

        ``preferences`` (taste, seen and disliked items) come from the caller, usually
        :meth:`moodtape.sessions.SessionService.preferences`; nothing is read from or written to a store.
        """
        check_request(kind, n)
        chosen_strategy = resolve_strategy(strategy, mood)
        targets = target_path(mood, chosen_strategy, n)
        # No keywords: text-search providers turn the targets into their own mood words, region by region.
        query = Query(targets, genres=tuple(genres), limit=candidate_limit(n))
        candidates, fallbacks, shortfalls = self._live_candidates(query, kind)
        preferences = preferences or Preferences()
        missed = tuple(dict.fromkeys(point for shortfall in shortfalls for point in shortfall.missed))
        if missed:
            # A slow service's answer lacks part of the path (a search it had no time for): the
            # catalog's candidates for those targets only, so they win the slots nothing came for
            # and leave those the service answered to it.
            candidates.extend(_fetch(self.catalog, replace(query, targets=missed), kind))
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
        chosen = [replace(entry, item=item) for entry, item in zip(ranked, items, strict=True)]
        progresses = [progress(e.position, n, chosen_strategy) for e in chosen]
        lines = explain(chosen, chosen_strategy, mood.emotion, progresses, targets)
        entries = tuple(entry.with_reason(line) for entry, line in zip(chosen, lines, strict=True))
        from_catalog = sum(entry.source == self.catalog.name for entry in entries)
        fallbacks += [cut_short_reason(s, from_catalog, len(entries), kind) for s in shortfalls]
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

    # --- steps ---

    def _live_candidates(self, query: Query, kind: str) -> tuple[list[Item], list[str], list[Shortfall]]:
        """Candidates from every live provider that answers, the reasons of those that fail, and
        what those that answered in part went without (a search cut short by its time budget)."""
        candidates: list[Item] = []
        fallbacks: list[str] = []
        shortfalls: list[Shortfall] = []
        for provider in self.providers:
            try:
                found = _fetch(provider, query, kind)
            except ProviderError as error:
                fallbacks.append(str(error))
                continue
            candidates.extend(found)
            if (shortfall := shortfall_of(provider)) is not None:
                shortfalls.append(shortfall)
        return candidates, fallbacks, shortfalls

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
                fallbacks.append(f"{ENRICHMENT_FAILED}{error}")
                continue
            failure = getattr(enricher, "last_failure", None)  # ours keep what they filled and say why
            if failure:
                fallbacks.append(f"{ENRICHMENT_FAILED}{failure}")
            if len(enriched) == len(tracks) and all(a.key == b.key for a, b in zip(enriched, tracks, strict=True)):
                tracks = enriched
        replacement = iter(tracks)
        return [next(replacement) if isinstance(item, Track) else item for item in items], fallbacks


def _fetch(provider: Provider, query: Query, kind: str) -> list[Item]:
    if kind == "tracks":
        return list(provider.tracks(query))
    return list(provider.videos(query))


def _notes(entries: Sequence[RecommendedItem], n: int) -> tuple[str, ...]:
    notes: list[str] = []
    if len(entries) < n:
        notes.append(f"only {len(entries)} of {n} items: not enough different artists for this mood")
    if any(entry.repeat for entry in entries):
        notes.append("some items were already recommended in this session: nothing new was left near this mood")
    return tuple(notes)
