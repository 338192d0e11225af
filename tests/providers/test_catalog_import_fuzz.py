"""Fuzzing the catalog importer: mutated CSV files give rows and row problems, or a CatalogError.

Never another exception and never a hang; the database only ever receives rows that passed.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodtape.errors import CatalogError
from moodtape.providers.catalog import Catalog
from moodtape.providers.catalog_import import read_track_csv

SEED = (
    "track_name,artists,track_id,valence,energy,loudness,tempo,genre,year\n"
    "Never Gonna Give You Up,Rick Astley,4uLU6hMCjMI75M1A2tKUQC,0.92,0.86,-5.1,113,pop,1987\n"
    "\"Comma, Song\",\"['A', 'B']\",spotify:track:4uLU6hMCjMI75M1A2tKUQC,0.1,0.2,-60,60,folk,2001\n"
    "Third;Song,C,,1,0,0,200,,\n"
)
_PIECES = st.sampled_from(
    ['"', ",", ";", "\t", "\n", "\r", "\x00", "nan", "inf", "-1e400", "1e400", "9" * 500, "[", "'", "\ufeff", "é"]
)


@st.composite
def mutated_csv(draw: st.DrawFn) -> bytes:
    text = SEED
    for _ in range(draw(st.integers(1, 10))):
        position = draw(st.integers(0, len(text)))
        piece = draw(st.one_of(_PIECES, st.text(max_size=8)))
        if draw(st.booleans()):
            text = text[:position] + piece + text[position:]
        else:
            text = text[:position] + piece + text[position + len(piece) :]
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # sometimes not UTF-8 at all
        data = data.replace(b"e", b"\xe9", 1)
    return data


@given(data=mutated_csv())
def test_mutated_csv_is_parsed_or_refused_clearly(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "in.csv"
    path.write_bytes(data)
    try:
        parsed = read_track_csv(path)
    except CatalogError as error:
        assert str(error) and "\n" not in str(error)
        return
    for _, row in parsed.rows:
        assert isinstance(row, tuple)
    for problem in parsed.problems:
        assert problem.line >= 1 and problem.reason


@given(data=mutated_csv())
def test_mutated_csv_imports_or_is_refused(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("catalog")
    path = folder / "in.csv"
    path.write_bytes(data)
    catalog = Catalog(folder / "data", include_builtin=False)
    try:
        report = catalog.import_csv(path)
    except CatalogError as error:
        assert str(error) and "\n" not in str(error)
        return
    tracks = catalog.all_tracks()
    assert len(tracks) <= report.added
    for track in tracks:
        assert 0.0 <= track.valence <= 1.0 and 0.0 <= track.energy <= 1.0


@given(st.binary(max_size=1024))
def test_random_bytes_as_a_csv(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / "in.csv"
    path.write_bytes(data)
    with contextlib.suppress(CatalogError):
        read_track_csv(path)
