"""Saying why a list is thinner when a live service's answer was cut short.

Spotify and YouTube keep each search within a time budget (``search_budget``, 10 s): a slow
service sends only part of what a list would use, and a call after a search's first that fails
ends it too. What came is used; the person reads what happened and where the rest of the list
came from, in the list's ``fallback_reasons`` like any other partial failure.
"""

from __future__ import annotations

from moodtape.providers.base import Shortfall


def cut_short_reason(shortfall: Shortfall, from_catalog: int, total: int, kind: str) -> str:
    """One sentence: what came in time (or before the failure), and what the list holds instead.

    ``from_catalog`` of the list's ``total`` items came from the catalog; ``kind`` is ``"tracks"``
    or ``"videos"``. For example "Spotify answered slowly: 2 of 6 search pages came within the 10 s
    a search may take, so 7 of these 20 tracks are from the catalog." or "Only 1 of 6 search pages
    came from Spotify (Spotify is having trouble (HTTP 503); try again in a few minutes), so this
    list was chosen from fewer tracks than usual."
    """
    service, counted = shortfall.service, f"{shortfall.came} of {shortfall.planned} {shortfall.unit}"
    if shortfall.error is None:
        head = f"{service} answered slowly: {counted} came within the {shortfall.budget:g} s a search may take"
    else:  # the error names the service and says what happened: a 503, a spent quota…
        head = f"Only {counted} came from {service} ({shortfall.error.rstrip('.')})"
    return f"{head}, so {_what_fills(from_catalog, total, kind)}."


def _what_fills(from_catalog: int, total: int, kind: str) -> str:
    if from_catalog == 0:
        return f"this list was chosen from fewer {kind} than usual"
    if from_catalog == total:
        return f"all {total} {kind} are from the catalog" if total > 1 else f"this {kind[:-1]} is from the catalog"
    verb = "is" if from_catalog == 1 else "are"
    return f"{from_catalog} of these {total} {kind} {verb} from the catalog"
