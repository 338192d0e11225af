"""A list whose Spotify search was cut short by its time budget says so, and the catalog fills the gap.

Session 33 gave each search a 10 s budget: a slow Spotify sends only the pages that fit, its ends
first. The engine was not told: a sad → happy list cut to 2 of 6 pages was made of the start's and
the end's tracks alone, its middle slots filled with tracks searched for elsewhere on the path
(0.33 from their targets on average), and nothing said why. Now the engine asks the catalog for
the targets no page came for, ranks its tracks with Spotify's, and says what happened:
"Spotify answered slowly: 2 of 6 search pages came within the 10 s a search may take, so 7 of
these 20 tracks are from the catalog."

Fake transport, fake clock; the catalog is a fake that, like the real one, answers near the
query's targets.
"""

from __future__ import annotations

import math

import httpx
from recommend_fakes import make_tracks

from moodtape.providers.base import Query
from moodtape.providers.spotify import SpotifyProvider
from moodtape.recommender.engine import Recommender
from moodtape.recommender.mood import mood_from_emotion
from moodtape.types import Track, Video

SLOW = 4.9  # each search page answers just before the 5 s timeout: 2 pages fit in 10 s


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class NearCatalog:
    """The catalog's tracks within ``radius`` of one of the query's targets (the real catalog
    searches around each target too); records the targets it was asked for."""

    name = "catalog"

    def __init__(self, radius: float = 0.12) -> None:
        self._tracks = make_tracks(size=1200, tracks_per_artist=1)
        self.radius = radius
        self.asked: list[tuple[tuple[float, float], ...]] = []

    def tracks(self, query: Query) -> list[Track]:
        self.asked.append(query.targets)
        return [
            t for t in self._tracks if any(math.dist((t.valence, t.energy), p) <= self.radius for p in query.targets)
        ]

    def videos(self, query: Query) -> list[Video]:
        return []


def _spotify(clock: Clock, delay: float) -> SpotifyProvider:
    searches: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.spotify.com":
            return httpx.Response(200, json={"access_token": "token-1", "expires_in": 3600})
        searches.append(request)
        clock.advance(delay)
        n = 100 * len(searches)
        items = [
            {"id": f"fill34track{n + i:07d}", "name": f"Song {n + i}", "artists": [{"name": f"Spotify artist {n + i}"}]}
            for i in range(10)
        ]
        return httpx.Response(200, json={"tracks": {"items": items, "next": "more"}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return SpotifyProvider(
        "test-client-id-0001", "test-client-secret-0002", http=http, clock=clock, sleep=clock.advance
    )


def _uplift(delay: float):
    catalog = NearCatalog()
    engine = Recommender([_spotify(Clock(), delay)], catalog)
    return engine.recommend(mood_from_emotion("sad"), strategy="uplift", n=20, seed=3), catalog


def test_a_list_cut_short_by_spotify_s_budget_says_so_and_the_catalog_fills_the_middle() -> None:
    result, catalog = _uplift(SLOW)
    from_catalog = [entry.position for entry in result.items if entry.source == "catalog"]
    assert len(result.items) == 20
    assert from_catalog  # was none: the middle slots held tracks searched for the path's ends
    assert result.fallback_reasons == (
        "Spotify answered slowly: 2 of 6 search pages came within the 10 s a search may take, "
        f"so {len(from_catalog)} of these 20 tracks are from the catalog.",
    )  # was (): nothing said
    assert len(catalog.asked) == 1 and len(catalog.asked[0]) < 20  # only the targets no page came for
    assert {entry.source for entry in result.items[:3]} == {"spotify"}  # the start stays Spotify's
    assert {entry.source for entry in result.items[-3:]} == {"spotify"}  # and so does the end
    assert "slowly" in (result.to_dict()["fallback_reason"] or "")  # what the page and the API show


def test_the_catalog_brings_the_missed_middle_closer_to_its_targets() -> None:
    result, _ = _uplift(SLOW)
    middle = [entry.distance for entry in result.items[7:14]]
    assert sum(middle) / len(middle) < 0.1  # was 0.21 (at most 0.38): tracks searched for the ends


def test_a_list_whose_every_page_came_says_nothing_and_asks_no_catalog() -> None:
    result, catalog = _uplift(0.5)
    assert result.fallback_reasons == ()
    assert catalog.asked == []
    assert {entry.source for entry in result.items} == {"spotify"}
