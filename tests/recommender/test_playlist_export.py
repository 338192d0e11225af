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
