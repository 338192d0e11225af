"""The Catalog provider: nearest-candidate search, genre filter, links, user data, other sources."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from moodtape.errors import CatalogError
from moodtape.providers.base import Provider, Query
from moodtape.providers.catalog import USER_DB_NAME, Catalog, resolve_data_dir
from moodtape.recommender.links import page_url
from moodtape.types import Track, Video

SPOTIFY_ID = "4uLU6hMCjMI75M1A2tKUQC"


def grid_tracks(step: int = 10) -> list[Track]:
    """One track per point of a step × step grid over the unit square; genre by quadrant."""
    tracks = []
    for i in range(step + 1):
        for j in range(step + 1):
            v, e = i / step, j / step
            genre = "folk rock" if v < 0.5 else "hip-hop"
            tracks.append(Track(title=f"Song {i}-{j}", artist=f"Artist {i}-{j}", valence=v, energy=e, genre=genre))
    return tracks


VIDEOS = [
    Video(title="Calm Lake", channel="Nature Channel", valence=0.6, energy=0.1, category="nature"),
    Video(title="Big Laughs", channel="Comedy Club", valence=0.9, energy=0.7, category="comedy"),
    Video(title="Breathe In", channel="Breath Lab", valence=0.55, energy=0.05, category="breathing"),
    Video(title="Loud Song", channel="Some Band", valence=0.4, energy=0.9, category="music"),
]


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.from_items(grid_tracks(), VIDEOS)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_it_is_a_provider_named_catalog(catalog: Catalog) -> None:
    assert isinstance(catalog, Provider)
    assert catalog.name == "catalog"


def test_the_nearest_tracks_are_returned_nearest_first(catalog: Catalog) -> None:
    target = (0.33, 0.71)
    found = catalog.tracks(Query(targets=(target,), limit=5))
    distances = [math.dist(target, (t.valence, t.energy)) for t in found]
    everything = sorted(math.dist(target, (t.valence, t.energy)) for t in catalog.all_tracks())
    assert distances == sorted(distances)
    assert distances == pytest.approx(everything[:5])
    assert (found[0].valence, found[0].energy) == (0.3, 0.7)


def test_several_targets_each_get_their_nearest_round_robin(catalog: Catalog) -> None:
    targets = ((0.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    found = catalog.tracks(Query(targets=targets, limit=6))
    points = [(t.valence, t.energy) for t in found]
    assert points[:3] == [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    assert len(set(points)) == 6
    # The 2nd round: each target's 2nd nearest, so each stays close to its own target.
    for target, point in zip(targets, points[3:], strict=True):
        assert math.dist(target, point) == pytest.approx(0.1)


def test_the_same_query_gives_the_same_answer(catalog: Catalog) -> None:
    query = Query(targets=((0.5, 0.5), (0.52, 0.48)), limit=12)
    assert catalog.tracks(query) == catalog.tracks(query)


def test_limit_caps_the_list_and_a_small_catalog_returns_what_it_has() -> None:
    small = Catalog.from_items(grid_tracks(step=1))
    assert len(small.tracks(Query(targets=((0.5, 0.5),), limit=50))) == 4
    assert len(small.tracks(Query(targets=((0.5, 0.5),), limit=2))) == 2


@pytest.mark.parametrize(
    ("genres", "expected"),
    [(("rock",), {"folk rock"}), (("Hip Hop",), {"hip-hop"}), (("hip-hop", "folk"), {"hip-hop", "folk rock"})],
)
def test_the_genre_filter_matches_whole_words(catalog: Catalog, genres: tuple[str, ...], expected: set[str]) -> None:
    found = catalog.tracks(Query(targets=((0.9, 0.9),), genres=genres, limit=500))
    assert found and {t.genre for t in found} == expected


def test_a_genre_nobody_has_gives_an_empty_list(catalog: Catalog) -> None:
    assert catalog.tracks(Query(targets=((0.5, 0.5),), genres=("polka",))) == []
    assert catalog.tracks(Query(targets=((0.5, 0.5),), genres=("roc",))) == []


def test_videos_are_found_by_nearness_and_filtered_by_category(catalog: Catalog) -> None:
    nearest = catalog.videos(Query(targets=((0.58, 0.08),), limit=2))
    assert [v.title for v in nearest] == ["Calm Lake", "Breathe In"]
    comedy = catalog.videos(Query(targets=((0.0, 0.0),), genres=("comedy",)))
    assert [v.title for v in comedy] == ["Big Laughs"]
    # A music genre names no video category, so it does not empty the video list.
    assert len(catalog.videos(Query(targets=((0.5, 0.5),), genres=("rock",)))) == len(VIDEOS)


def test_links_prefer_verified_ids_and_fall_back_to_a_search() -> None:
    # The catalog stores no link of its own: moodtape.recommender.links makes one from the IDs.
    tracks = [
        Track(title="With Deezer", artist="A", valence=0.5, energy=0.5, deezer_id="3135556"),
        Track(title="With Spotify", artist="B", valence=0.5, energy=0.5, spotify_id=SPOTIFY_ID),
        Track(title="Café & Co", artist="C D", valence=0.5, energy=0.5),
    ]
    urls = {t.title: page_url(t) for t in Catalog.from_items(tracks).all_tracks()}
    assert urls["With Deezer"] == "https://www.deezer.com/track/3135556"
    assert urls["With Spotify"] == f"https://open.spotify.com/track/{SPOTIFY_ID}"
    assert urls["Café & Co"] == "https://www.youtube.com/results?search_query=C+D+Caf%C3%A9+%26+Co"
    video = Catalog.from_items(videos=VIDEOS[:1]).all_videos()[0]
    assert page_url(video) == "https://www.youtube.com/results?search_query=Nature+Channel+Calm+Lake"


def test_from_items_keeps_the_first_of_two_equal_songs() -> None:
    first = Track(title="Song (Live)", artist="The Band", valence=0.1, energy=0.1)
    second = Track(title="song", artist="band", valence=0.9, energy=0.9)
    (kept,) = Catalog.from_items([first, second]).all_tracks()
    assert (kept.title, kept.artist, kept.valence) == ("Song (Live)", "The Band", 0.1)


def test_nothing_is_written_until_an_import(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path, include_builtin=False)
    assert catalog.track_count == 0
    assert catalog.tracks(Query(targets=((0.5, 0.5),))) == []
    assert list(tmp_path.iterdir()) == []


def test_user_additions_join_the_builtin_tracks(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "mine.csv", "name,artist,valence,energy\nMy Song,Me,0.999,0.001\n")
    catalog = Catalog(tmp_path / "data")
    before = catalog.track_count
    catalog.import_csv(csv_file)
    assert catalog.track_count == before + 1
    assert catalog.tracks(Query(targets=((1.0, 0.0),), limit=1))[0].title == "My Song"
    # A fresh Catalog on the same folder sees the addition too.
    assert Catalog(tmp_path / "data").tracks(Query(targets=((1.0, 0.0),), limit=1))[0].title == "My Song"


def test_changes_from_another_connection_are_picked_up(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "a.csv", "name,artist,valence,energy\nFirst,Me,0.5,0.5\n")
    reader = Catalog(tmp_path, include_builtin=False)
    writer = Catalog(tmp_path, include_builtin=False)
    writer.import_csv(csv_file)
    assert reader.track_count == 0  # reader had no user database yet when it opened
    reader = Catalog(tmp_path, include_builtin=False)
    write_csv(csv_file, "name,artist,valence,energy\nSecond,Me,0.4,0.4\n")
    writer.import_csv(csv_file)
    assert {t.title for t in reader.all_tracks()} == {"First", "Second"}


def test_from_file_reads_a_csv_and_nothing_else(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "list.csv", "track_name,artists,valence,energy\nA,X,0.1,0.2\nB,Y,0.8,0.9\n,,,\n")
    catalog = Catalog.from_file(csv_file)
    assert [t.title for t in catalog.all_tracks()] == ["A", "B"]
    assert catalog.all_videos() == ()
    with pytest.raises(CatalogError, match="read-only"):
        catalog.import_csv(csv_file)


def test_from_file_reports_the_rows_it_skipped(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "list.csv", "name,artist,valence,energy\nA,X,0.1,0.2\nB,Y,high,0.9\n")
    assert [str(p) for p in Catalog.from_file(csv_file).skipped] == ["line 3: valence must be a number, got 'high'"]


def test_from_file_reads_a_catalog_database(tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "mine.csv", "name,artist,valence,energy\nMine,Me,0.3,0.3\n")
    Catalog(tmp_path, include_builtin=False).import_csv(csv_file)
    catalog = Catalog.from_file(tmp_path / USER_DB_NAME)
    assert [t.title for t in catalog.all_tracks()] == ["Mine"]
    with pytest.raises(CatalogError, match="read-only"):
        catalog.import_csv(csv_file)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such catalog file"),
        ("name,artist,valence,energy\nA,X,2,0.5\n", "holds no valid tracks — line 2: valence must lie in"),
        ("", "is empty"),
        ("title,singer\nA,B\n", "lacks required column"),
    ],
)
def test_from_file_refuses_what_it_cannot_use(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        write_csv(path, content)
    with pytest.raises(CatalogError, match=message):
        Catalog.from_file(path)


def test_from_file_refuses_a_sqlite_file_that_is_not_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE songs (name TEXT)")
    with pytest.raises(CatalogError, match="not a moodtape catalog"):
        Catalog.from_file(path)


def test_the_data_dir_comes_from_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert Catalog(include_builtin=False).user_path == tmp_path / USER_DB_NAME
