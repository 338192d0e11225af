from __future__ import annotations

import math
from dataclasses import replace

import pytest
from recommend_fakes import FailingProvider, FakeProvider, make_tracks

from moodtape.errors import CatalogError, DataError, ProviderError
from moodtape.recommender.engine import MAX_ITEMS, Recommender
from moodtape.recommender.features import item_point
from moodtape.recommender.mood import mood_from_emotion
from moodtape.types import Track


def test_a_list_follows_its_path_with_reasons(engine: Recommender) -> None:
    result = engine.recommend(mood_from_emotion("sad"), n=20, seed=1)
    assert result.strategy == "uplift"
    assert len(result.items) == len(result.targets) == 20
    assert [entry.position for entry in result.items] == list(range(20))
    first, last = result.items[0], result.items[-1]
    assert last.item.valence - first.item.valence > 0.4
    for entry in result.items:
        assert math.dist(item_point(entry.item), entry.target) < 0.15
        assert " — " in entry.reason
    assert result.sources == ("catalog",)
    assert result.fallback_reason is None


def test_videos_come_from_the_video_list(engine: Recommender) -> None:
    result = engine.recommend(mood_from_emotion("angry"), kind="videos", n=10, seed=0)
    assert result.strategy == "calm"
    assert all(entry.item.title.startswith("Video") for entry in result.items)
    assert result.to_list()[0]["youtube_id"] is None


@pytest.mark.parametrize(
    ("kind", "n", "message"),
    [
        ("songs", 5, "unknown kind"),
        ("tracks", 0, "n must"),
        ("tracks", MAX_ITEMS + 1, "n must"),
        ("tracks", True, "n must"),
    ],
)
def test_bad_requests_are_refused_before_any_work(
    engine: Recommender, catalog: FakeProvider, kind: str, n: int, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        engine.recommend(mood_from_emotion("sad"), kind=kind, n=n)
    assert catalog.queries == []


def test_live_failure_falls_back_to_the_catalog_with_the_reason(catalog: FakeProvider) -> None:
    engine = Recommender([FailingProvider()], catalog)
    result = engine.recommend(mood_from_emotion("happy"), n=5, seed=0)
    assert len(result.items) == 5
    assert result.sources == ("catalog",)
    assert result.fallback_reasons == ("Spotify refused the client credentials: check SPOTIFY_CLIENT_ID",)


def test_live_answers_come_first_and_catalog_tops_up(catalog: FakeProvider) -> None:
    live_tracks = [
        Track(title=f"Live {i}", artist=f"Live artist {i}", valence=0.9, energy=0.6, source="spotify", estimated=True)
        for i in range(3)
    ]
    live = FakeProvider(live_tracks, name="spotify")
    result = Recommender([live], catalog).recommend(mood_from_emotion("happy"), n=10, seed=0)
    assert set(result.sources) == {"spotify", "catalog"}
    assert live.queries[0].targets == result.targets
    plenty = FakeProvider([replace(t, source="spotify") for t in make_tracks(size=100, seed=5)], name="spotify")
    unused = FakeProvider(make_tracks(), name="catalog")
    result = Recommender([plenty], unused).recommend(mood_from_emotion("happy"), n=10, seed=0)
    assert result.sources == ("spotify",)
    assert unused.queries == []


def test_same_seed_same_list(catalog: FakeProvider) -> None:
    engine = Recommender([], catalog)
    first = engine.recommend(mood_from_emotion("neutral"), seed=3).to_list()
    assert first == engine.recommend(mood_from_emotion("neutral"), seed=3).to_list()


class _BrokenEnricher:
    name = "deezer"

    def enrich(self, tracks: list[Track]) -> list[Track]:
        raise ProviderError("Deezer could not be reached (offline?)")


class _ArtworkEnricher:
    name = "itunes"

    def enrich(self, tracks: list[Track]) -> list[Track]:
        return [replace(t, artwork_url=f"https://example.org/{i}.jpg") for i, t in enumerate(tracks)]


def test_enrichers_fill_in_and_their_failures_are_reasons(catalog: FakeProvider) -> None:
    engine = Recommender([], catalog, enrichers=[_BrokenEnricher(), _ArtworkEnricher()])
    result = engine.recommend(mood_from_emotion("happy"), n=4, seed=0)
    assert all(entry.item.artwork_url for entry in result.items)
    assert result.fallback_reasons == ("No previews or artwork: Deezer could not be reached (offline?)",)


def test_calm_prefers_quiet_acoustic_and_energize_loud_fast_at_equal_energy() -> None:
    quiet = [
        Track(title=f"Quiet {i}", artist=f"Q{i}", valence=0.65, energy=0.35, acousticness=0.95, loudness=0.2, tempo=0.1)
        for i in range(10)
    ]
    loud = [
        Track(title=f"Loud {i}", artist=f"L{i}", valence=0.65, energy=0.35, acousticness=0.0, loudness=0.95, tempo=0.95)
        for i in range(10)
    ]
    engine = Recommender([], FakeProvider(quiet + loud))
    calm = engine.recommend(mood_from_emotion("angry"), strategy="calm", n=6, seed=0)
    # same valence and energy: only loudness, tempo and acousticness tell them apart at the calm end
    assert calm.items[-1].item.title.startswith("Quiet")
    energize = engine.recommend(mood_from_emotion("sad"), strategy="energize", n=6, seed=0)
    assert energize.items[-1].item.title.startswith("Loud")


def test_catalog_fills_in_when_live_answers_share_one_artist(catalog: FakeProvider) -> None:
    one_artist = [
        Track(title=f"Hit {i}", artist="Same Band", valence=0.9, energy=0.6, source="spotify") for i in range(30)
    ]
    result = Recommender([FakeProvider(one_artist, name="spotify")], catalog).recommend(
        mood_from_emotion("happy"), n=8, seed=0
    )
    assert len(result.items) == 8
    assert result.sources[0] in {"spotify", "catalog"} and set(result.sources) == {"spotify", "catalog"}


def test_empty_catalog_is_a_clear_error() -> None:
    with pytest.raises(CatalogError, match="catalog import"):
        Recommender([], FakeProvider()).recommend(mood_from_emotion("happy"))


def test_recommend_is_pure_it_writes_nothing(engine: Recommender) -> None:
    """The engine holds a store for its shell, but ranking never writes to it (issue 11, part 1)."""
    assert engine.store is not None
    engine.recommend(mood_from_emotion("sad"), n=10, seed=0)
    engine.recommend(mood_from_emotion("angry"), kind="videos", n=5, seed=0)
    assert engine.store.row_count() == 0


def test_the_joined_reason_reads_as_sentences(catalog: FakeProvider) -> None:
    """Before: "…reached (offline?); No previews…" joined with "; ", after a sentence's own full stop too."""
    engine = Recommender([], catalog, enrichers=[_BrokenEnricher(), _BrokenEnricher()])
    result = engine.recommend(mood_from_emotion("happy"), n=4, seed=0)
    assert result.fallback_reason == (
        "No previews or artwork: Deezer could not be reached (offline?). "
        "No previews or artwork: Deezer could not be reached (offline?)."
    )
