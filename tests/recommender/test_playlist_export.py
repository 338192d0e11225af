from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from recommend_fakes import FakeProvider

from moodtape.errors import DataError
from moodtape.recommender.engine import Recommender
from moodtape.recommender.export import XSPF_NAMESPACE, export, to_csv, to_m3u8, to_xspf
from moodtape.recommender.mood import mood_from_emotion
from moodtape.recommender.result import Recommendation
from moodtape.types import Track

NS = {"x": XSPF_NAMESPACE}


@pytest.fixture
def result() -> Recommendation:
    tricky = [
        Track(title='Rock & Roll <Live> "1979"', artist="AC/DC & Friends", valence=0.8, energy=0.7, deezer_id="42"),
        Track(title="Line\nbreak, with comma", artist="Sigur Rós", valence=0.7, energy=0.6),
        Track(title="Plain", artist="Somebody", valence=0.9, energy=0.6, spotify_id="abc123"),
    ]
    return Recommender([], FakeProvider(tricky)).recommend(mood_from_emotion("happy"), n=3, seed=0)


def test_m3u8_has_one_entry_per_item(result: Recommendation) -> None:
    lines = to_m3u8(result).splitlines()
    assert lines[0] == "#EXTM3U"
    entries = [line for line in lines if line.startswith("#EXTINF")]
    urls = [line for line in lines if line.startswith("http")]
    assert len(entries) == len(urls) == 3
    assert "#EXTINF:-1,Sigur Rós - Line break, with comma" in lines
    assert "https://open.spotify.com/track/abc123" in urls


def test_xspf_is_valid_escaped_xml(result: Recommendation) -> None:
    root = ET.fromstring(to_xspf(result).encode("utf-8"))
    tracks = root.findall("x:trackList/x:track", NS)
    assert [t.findtext("x:title", namespaces=NS) for t in tracks] == [e.item.title for e in result.items]
    assert 'Rock & Roll <Live> "1979"' in [t.findtext("x:title", namespaces=NS) for t in tracks]
    assert all(t.findtext("x:location", namespaces=NS).startswith("https://") for t in tracks)  # type: ignore[union-attr]


def test_csv_round_trips(result: Recommendation) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert [row["title"] for row in rows] == [e.item.title for e in result.items]
    assert [row["position"] for row in rows] == ["1", "2", "3"]
    assert rows[0]["reason"] == result.items[0].reason


@pytest.mark.parametrize("suffix", [".m3u8", ".xspf", ".csv"])
def test_export_writes_the_file_and_nothing_else(result: Recommendation, tmp_path: Path, suffix: str) -> None:
    path = export(result, tmp_path / f"list{suffix}")
    assert path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_unknown_format_and_missing_folder_are_clear_errors(result: Recommendation, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"\.m3u8, \.xspf or \.csv"):
        export(result, tmp_path / "list.pls")
    with pytest.raises(DataError, match="does not exist"):
        export(result, tmp_path / "missing" / "list.csv")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_the_old_file(
    result: Recommendation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "list.csv"
    target.write_text("old", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("moodtape.recommender.export.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        export(result, target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["list.csv"]


# --- hardening (issue 10): titles come from strangers ---

HOSTILE_TITLES = (
    '=HYPERLINK("http://evil.example","click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rCarriage",
    "Null\x00byte",
    "Escape\x1b[31mred",
    "Bell\x07 and form\x0cfeed",
    "New\nline\r\nand more",
    "Lone \ud800 surrogate",
    "Del\x7f and C1\x85 next",
)


@pytest.fixture
def hostile() -> Recommendation:
    tracks = [
        Track(title=title, artist=f"Artist {i}", valence=0.8, energy=0.6, deezer_id=str(i))
        for i, title in enumerate(HOSTILE_TITLES)
    ]
    tracks.append(Track(title="Fine", artist="=cmd|' /C calc'!A0", valence=0.8, energy=0.6))
    return Recommender([], FakeProvider(tracks)).recommend(mood_from_emotion("happy"), n=len(tracks), seed=0)


def test_csv_never_starts_a_cell_with_a_formula(hostile: Recommendation) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(hostile))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    titles = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example","click")' in titles and "'@SUM(A1:A2)" in titles
    assert "'=cmd|' /C calc'!A0" in {row[2] for row in rows[1:]}


def test_xspf_parses_whatever_the_title(hostile: Recommendation) -> None:
    text = to_xspf(hostile)
    root = ET.fromstring(text.encode("utf-8", "surrogatepass"))  # raises on any forbidden character
    titles = [t.findtext("x:title", namespaces=NS) or "" for t in root.findall("x:trackList/x:track", NS)]
    assert len(titles) == len(hostile.items)
    assert "Nullbyte" in titles and "Escape[31mred" in titles
    text.encode("utf-8")  # no lone surrogate left: strict UTF-8 encoding works


def test_m3u8_fields_hold_no_control_characters(hostile: Recommendation) -> None:
    text = to_m3u8(hostile)
    lines = text.split("\n")
    assert lines[-1] == "" and lines[0] == "#EXTM3U"
    body = lines[1:-1]
    assert all(line.startswith(("#EXTINF:-1,", "#PLAYLIST:", "https://")) for line in body)
    assert len([line for line in body if line.startswith("#EXTINF")]) == len(hostile.items)
    assert not any(ch in text for ch in ("\x00", "\x1b", "\r", "\x07", "\x0c", "\x7f", "\x85"))
    assert "#EXTINF:-1,Artist 9 - New line and more" in body
