"""Importing CSV exports with Spotify audio features: spellings, units, bad rows, duplicates, rollback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from moodtape.errors import CatalogError
from moodtape.providers.catalog import USER_DB_NAME, Catalog
from moodtape.providers.catalog_import import normalise_loudness, normalise_tempo, read_track_csv
from moodtape.recommender.links import page_url

SPOTIFY_ID = "4uLU6hMCjMI75M1A2tKUQC"
OTHER_ID = "7GhIk7Il098yCjg4BQjzvb"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def user_catalog(tmp_path: Path) -> Catalog:
    """A catalog with no built-in data, whose user database lives in ``tmp_path/data``."""
    return Catalog(tmp_path / "data", include_builtin=False)


@pytest.mark.parametrize(
    "header",
    [
        "name,artist,id,valence,energy",
        "track_name,artists,track_id,valence,energy",
        "track_name,artist_name,uri,valence,energy",
        "Track Name,Artist Name(s),Track URI,Valence,Energy",  # Exportify
        "\ufefftitle,ARTIST,spotify_id,valence,energy",  # a BOM and odd case
    ],
)
def test_each_column_spelling_is_understood(tmp_path: Path, user_catalog: Catalog, header: str) -> None:
    track_ref = f"spotify:track:{SPOTIFY_ID}" if "uri" in header.lower() else SPOTIFY_ID
    path = write(tmp_path / "in.csv", f"{header}\nNever Gonna Give You Up,Rick Astley,{track_ref},0.92,0.86\n")
    report = user_catalog.import_csv(path)
    assert (report.added, report.skipped) == (1, ())
    (track,) = user_catalog.all_tracks()
    assert (track.title, track.artist, track.spotify_id) == ("Never Gonna Give You Up", "Rick Astley", SPOTIFY_ID)
    assert (track.valence, track.energy) == (0.92, 0.86)
    assert page_url(track) == f"https://open.spotify.com/track/{SPOTIFY_ID}"
    assert track.extra["origin"] == "import"


def test_optional_features_are_kept_and_spotify_units_normalised(tmp_path: Path, user_catalog: Catalog) -> None:
    header = "track_id,artists,track_name,danceability,energy,loudness,acousticness,instrumentalness,valence,tempo,track_genre,year"  # noqa: E501
    row = f"{SPOTIFY_ID},Artist A;Artist B,Song,0.7,0.8,-6.0,0.05,0.0,0.6,125.0,Hip-Hop,1997"
    user_catalog.import_csv(write(tmp_path / "in.csv", f"{header}\n{row}\n"))
    (track,) = user_catalog.all_tracks()
    assert track.artist == "Artist A, Artist B"
    assert (track.danceability, track.acousticness, track.instrumentalness) == (0.7, 0.05, 0.0)
    assert track.loudness == pytest.approx((-6.0 + 60) / 60)
    assert track.tempo == pytest.approx((125 - 50) / 150)
    assert (track.genre, track.decade) == ("Hip-Hop", 1990)


def test_python_list_artists_and_open_spotify_links(tmp_path: Path, user_catalog: Catalog) -> None:
    text = f"name,artists,id,valence,energy\nSong,\"['A', 'B']\",https://open.spotify.com/track/{SPOTIFY_ID}?si=x,0.5,0.5\n"
    user_catalog.import_csv(write(tmp_path / "in.csv", text))
    (track,) = user_catalog.all_tracks()
    assert (track.artist, track.spotify_id) == ("A, B", SPOTIFY_ID)


def test_semicolon_separated_files_work(tmp_path: Path, user_catalog: Catalog) -> None:
    report = user_catalog.import_csv(
        write(tmp_path / "in.csv", "name;artist;valence;energy\nA;B;0,5;0.5\nC;D;0.5;0.5\n")
    )
    assert report.added == 1
    assert [str(p) for p in report.skipped] == ["line 2: valence must be a number, got '0,5'"]


@pytest.mark.parametrize(("db", "expected"), [(-60.0, 0.0), (-30.0, 0.5), (0.0, 1.0), (-75.0, 0.0), (1.5, 1.0)])
def test_loudness_is_mapped_from_minus_60_db_to_0_db(db: float, expected: float) -> None:
    assert normalise_loudness(db) == pytest.approx(expected)


@pytest.mark.parametrize(("bpm", "expected"), [(50.0, 0.0), (125.0, 0.5), (200.0, 1.0), (240.0, 1.0), (0.0, None)])
def test_tempo_is_mapped_from_50_to_200_bpm(bpm: float, expected: float | None) -> None:
    assert normalise_tempo(bpm) == (pytest.approx(expected) if expected is not None else None)


def test_bad_rows_are_skipped_with_their_line_numbers(tmp_path: Path, user_catalog: Catalog) -> None:
    text = (
        "name,artist,id,valence,energy,tempo\n"  # line 1
        "Good One,A,,0.5,0.5,120\n"  # 2
        "No Valence,B,,,0.5,120\n"  # 3
        '"A title\nover two lines",C,,0.4,0.4,100\n'  # 4-5: one record, starts on line 4
        "Too Bright,D,,1.5,0.5,120\n"  # 6
        "\n"  # 7: blank, ignored
        "Bad Id,E,not-an-id,0.5,0.5,120\n"  # 8
        "Bad Tempo,F,,0.5,0.5,fast\n"  # 9
        ",G,,0.5,0.5,120\n"  # 10
        "Infinite,H,,inf,0.5,120\n"  # 11
        "Good Two,I,,0.1,0.9,\n"  # 12
    )
    report = user_catalog.import_csv(write(tmp_path / "in.csv", text))
    assert report.added == 3
    assert [(p.line, p.reason) for p in report.skipped] == [
        (3, "valence is missing"),
        (6, "valence must lie in [0, 1], got 1.5"),
        (8, "id 'not-an-id' is not a Spotify track ID, spotify:track: URI or track link"),
        (9, "tempo must be a number, got 'fast'"),
        (10, "a track needs a title and an artist"),
        (11, "valence must be a finite number, got 'inf'"),
    ]
    assert {t.title for t in user_catalog.all_tracks()} == {"Good One", "A title\nover two lines", "Good Two"}


def test_duplicates_are_not_added_twice(tmp_path: Path, user_catalog: Catalog) -> None:
    first = write(tmp_path / "a.csv", f"name,artist,id,valence,energy\nSong,Band,{SPOTIFY_ID},0.5,0.5\n")
    assert user_catalog.import_csv(first).added == 1
    text = (
        "name,artist,id,valence,energy\n"
        f"Other Title,Other Band,{SPOTIFY_ID},0.5,0.5\n"  # same Spotify ID as the catalog's
        "song (Remastered 2011),The Band,,0.2,0.2\n"  # same artist + title once normalised
        "New,Someone,,0.3,0.3\n"
        "new,someone,,0.3,0.3\n"  # repeats line 4
    )
    report = user_catalog.import_csv(write(tmp_path / "b.csv", text))
    assert report.added == 1
    assert [(p.line, p.reason.split(" is already in ")[1]) for p in report.skipped] == [
        (2, "the catalog"),
        (3, "the catalog"),
        (5, "line 4"),
    ]
    assert user_catalog.track_count == 2
    # Importing the same file again adds nothing and is not an error.
    assert user_catalog.import_csv(first).added == 0


def test_tracks_already_built_in_are_duplicates(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path)
    builtin = catalog.all_tracks()[0]
    path = write(tmp_path / "in.csv", f'name,artist,valence,energy\n"{builtin.title}","{builtin.artist}",0.5,0.5\n')
    report = catalog.import_csv(path)
    assert report.added == 0 and len(report.skipped) == 1


def test_a_failure_midway_leaves_the_catalog_as_it_was(tmp_path: Path, user_catalog: Catalog) -> None:
    user_catalog.import_csv(write(tmp_path / "a.csv", "name,artist,valence,energy\nKept,Band,0.5,0.5\n"))
    # Make the database refuse the 3rd row of the next import, as a full disk or a crash would.
    with sqlite3.connect(tmp_path / "data" / USER_DB_NAME) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON tracks WHEN NEW.title = 'Boom' "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    text = "name,artist,valence,energy\nOne,A,0.1,0.1\nTwo,B,0.2,0.2\nBoom,C,0.3,0.3\nFour,D,0.4,0.4\n"
    with pytest.raises(CatalogError, match="nothing was added: disk on fire"):
        user_catalog.import_csv(write(tmp_path / "b.csv", text))
    assert [t.title for t in user_catalog.all_tracks()] == ["Kept"]
    with sqlite3.connect(tmp_path / "data" / USER_DB_NAME) as connection:
        assert connection.execute("SELECT title FROM tracks").fetchall() == [("Kept",)]


def test_an_interrupt_midway_also_rolls_back(
    tmp_path: Path, user_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moodtape.providers.catalog as catalog_module

    def insert_then_interrupt(connection: sqlite3.Connection, rows: object, database: str = "main") -> None:
        connection.execute(f"INSERT INTO {database}.tracks (key, title, artist, valence, energy, origin) "
                           "VALUES ('k', 'Half', 'Done', 0.5, 0.5, 'import')")  # fmt: skip
        raise KeyboardInterrupt

    monkeypatch.setattr(catalog_module, "insert_tracks", insert_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        user_catalog.import_csv(write(tmp_path / "a.csv", "name,artist,valence,energy\nA,B,0.5,0.5\n"))
    monkeypatch.undo()
    assert user_catalog.all_tracks() == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,artist,valence,energy\nA,B,7,0.5\n", r"no valid rows in .*line 2: valence must lie in \[0, 1\]"),
        ("name,artist,valence\nA,B,0.5\n", "lacks required column.*energy: energy"),
        ("", "is empty"),
    ],
)
def test_files_without_good_rows_are_refused_and_nothing_is_written(
    tmp_path: Path, user_catalog: Catalog, content: str, message: str
) -> None:
    with pytest.raises(CatalogError, match=message):
        user_catalog.import_csv(write(tmp_path / "in.csv", content))
    assert not (tmp_path / "data").exists()


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "name,artist,valence,energy\nCafé,Zoë,0.5,0.5\n", encoding="utf-16")
    with pytest.raises(CatalogError, match="not UTF-8"):
        read_track_csv(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such file"):
        read_track_csv(tmp_path / "nope.csv")
