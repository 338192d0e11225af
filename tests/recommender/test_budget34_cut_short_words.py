"""The sentence a list carries when a live service's answer was cut short (``cut_short_reason``).

It must say what really happened: how much came, why the rest did not, and how many of the list's
items the catalog gave (none, some or all), in words a visitor reads on the page, in the API's
``fallback_reasons`` and on the command line's notes.
"""

from __future__ import annotations

import pytest

from moodtape.providers.base import Shortfall
from moodtape.recommender.cut_short import cut_short_reason

SLOW = Shortfall("Spotify", "search pages", came=2, planned=6, budget=10.0)
FAILED = Shortfall(
    "Spotify",
    "search pages",
    came=1,
    planned=6,
    budget=10.0,
    error="Spotify is having trouble (HTTP 503); try again in a few minutes.",
)
QUOTA = Shortfall(
    "YouTube",
    "requests",
    came=2,
    planned=3,
    budget=10.0,
    error="it allows no more requests for now",  # providers/http.py shortfall_reason for a quota
)


@pytest.mark.parametrize(
    ("shortfall", "from_catalog", "total", "kind", "sentence"),
    [
        (
            SLOW,
            7,
            20,
            "tracks",
            "Spotify answered slowly: 2 of 6 search pages came within the 10 s a search may take, "
            "so 7 of these 20 tracks are from the catalog.",
        ),
        (
            SLOW,
            0,
            20,
            "tracks",
            "Spotify answered slowly: 2 of 6 search pages came within the 10 s a search may take, "
            "so this list was chosen from fewer tracks than usual.",
        ),
        (
            SLOW,
            1,
            20,
            "tracks",
            "Spotify answered slowly: 2 of 6 search pages came within the 10 s a search may take, "
            "so 1 of these 20 tracks is from the catalog.",
        ),
        (
            FAILED,
            0,
            10,
            "tracks",
            "Only 1 of 6 search pages came from Spotify (Spotify is having trouble (HTTP 503); try again in a "
            "few minutes), so this list was chosen from fewer tracks than usual.",
        ),
        (
            QUOTA,
            4,
            4,
            "videos",
            "Only 2 of 3 requests came from YouTube (it allows no more requests for now), so all 4 videos are "
            "from the catalog.",
        ),
    ],
)
def test_the_sentence_says_what_came_and_what_fills_the_list(shortfall, from_catalog, total, kind, sentence) -> None:
    assert cut_short_reason(shortfall, from_catalog, total, kind) == sentence
