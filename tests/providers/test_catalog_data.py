"""The data shipped in the package: size, ranges, no duplicates, honest metadata."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from moodtape.identity import video_key
from moodtape.providers.catalog import Catalog
from moodtape.providers.catalog_db import item_key
from moodtape.recommender.links import page_url

DATA = resources.files("moodtape.providers").joinpath("data")
VIDEO_CATEGORIES = {"music", "comedy", "nature", "relaxation", "meditation", "breathing", "motivation", "workout",
                    "animals"}  # fmt: skip


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(DATA.joinpath(name).read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return Catalog.builtin()


def test_the_shipped_files_are_compact() -> None:
    sizes = {name: len(DATA.joinpath(name).read_bytes()) for name in ("tracks.csv", "curated_tracks.csv", "videos.csv")}
    assert sum(sizes.values()) < 1_500_000, sizes


def test_the_catalog_has_enough_tracks_and_videos(builtin: Catalog) -> None:
    assert builtin.track_count >= 3_000
    assert builtin.video_count >= 150
    origins = {t.extra["origin"] for t in builtin.all_tracks()}
    assert origins == {"deezer-mood", "curated"}


def test_no_track_or_video_appears_twice(builtin: Catalog) -> None:
    track_keys = [item_key(t.artist, t.title) for t in builtin.all_tracks()]
    assert len(track_keys) == len(set(track_keys))
    deezer_ids = [t.deezer_id for t in builtin.all_tracks() if t.deezer_id]
    assert len(deezer_ids) == len(set(deezer_ids))
    video_keys = [video_key(v.channel, v.title) for v in builtin.all_videos()]
    assert len(video_keys) == len(set(video_keys))


def test_every_value_lies_in_the_unit_interval(builtin: Catalog) -> None:
    for track in builtin.all_tracks():
        values = [track.valence, track.energy, track.acousticness, track.instrumentalness]
        assert all(v is None or 0.0 <= v <= 1.0 for v in values), track
    for video in builtin.all_videos():
        assert 0.0 <= video.valence <= 1.0 and 0.0 <= video.energy <= 1.0, video


def test_the_deezer_subset_spans_the_whole_rescaled_range() -> None:
    rows = _rows("tracks.csv")
    valence = [float(r["valence"]) for r in rows]
    energy = [float(r["energy"]) for r in rows]
    # Min–max rescaling over the full dataset: the subset keeps tracks near both ends of each axis.
    assert min(valence) < 0.05 and max(valence) > 0.95
    assert min(energy) < 0.05 and max(energy) > 0.95
    assert all(r["deezer_id"].isdigit() for r in rows)
    # The dataset gives no genre, decade or language, and we do not guess them.
    assert not any(r["genre"] or r["decade"] or r["language"] for r in rows)


def test_no_artist_dominates_the_deezer_subset() -> None:
    from collections import Counter

    counts = Counter(r["artist"].casefold() for r in _rows("tracks.csv"))
    assert max(counts.values()) <= 3


def test_curated_tracks_have_genre_and_a_plausible_decade() -> None:
    rows = _rows("curated_tracks.csv")
    assert 100 <= len(rows) <= 250
    assert all(r["genre"] for r in rows)
    decades = [int(r["decade"]) for r in rows if r["decade"]]
    assert all(1700 <= d <= 2020 and d % 10 == 0 for d in decades)
    assert len({r["genre"] for r in rows}) >= 20
    assert len({r["language"] for r in rows if r["language"]}) >= 10


def test_videos_have_known_categories_and_no_invented_ids() -> None:
    rows = _rows("videos.csv")
    assert {r["category"] for r in rows} <= VIDEO_CATEGORIES
    assert "youtube_id" not in rows[0]
    assert len([r for r in rows if r["category"] != "music"]) >= 50


def test_items_without_an_id_link_to_a_search(builtin: Catalog) -> None:
    video = builtin.all_videos()[0]
    assert video.youtube_id is None
    assert page_url(video).startswith("https://www.youtube.com/results?search_query=")
    deezer = next(t for t in builtin.all_tracks() if t.deezer_id)
    assert page_url(deezer) == f"https://www.deezer.com/track/{deezer.deezer_id}"
    assert all(t.spotify_id is None and t.youtube_id is None for t in builtin.all_tracks())


def test_the_data_readme_credits_the_dataset() -> None:
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    assert "Delbouys" in readme and "ISMIR 2018" in readme
    assert "tools/build_catalog.py" in readme
