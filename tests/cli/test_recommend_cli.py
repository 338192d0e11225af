"""``moodtape recommend`` end to end, through the real entry point, on a catalog built in code."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from moodtape.cli import main
from moodtape.providers.base import Query
from moodtape.recommender import api
from moodtape.recommender.engine import Recommender
from moodtape.types import Track, Video

FIELDS = {"title", "artist", "spotify_id", "youtube_id", "deezer_id", "valence", "energy", "reason", "source", "url"}


class _Catalog:
    name = "catalog"

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._tracks = [
            Track(title=f"Song {i}", artist=f"Artist {i}", valence=float(v), energy=float(e), deezer_id=str(i + 1))
            for i, (v, e) in enumerate(rng.uniform(size=(300, 2)))
        ]
        self._videos = [
            Video(title=f"Video {i}", channel=f"Channel {i}", valence=float(v), energy=float(e), category="nature")
            for i, (v, e) in enumerate(rng.uniform(size=(50, 2)))
        ]

    def tracks(self, query: Query) -> list[Track]:
        return self._tracks

    def videos(self, query: Query) -> list[Video]:
        return self._videos


@pytest.fixture(autouse=True)
def _engine() -> Iterator[None]:
    api.set_default_recommender(Recommender([], _Catalog()))
    yield
    api.set_default_recommender(None)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["moodtape", "recommend", *args])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_a_list_in_playlist_order(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(monkeypatch, capsys, "sad", "--json", "--n", "12", "--seed", "1")
    assert code == 0
    items = json.loads(out)  # stdout holds only the JSON
    assert isinstance(items, list) and len(items) == 12
    for item in items:
        assert set(item) >= FIELDS
        assert item["reason"] and item["source"] == "catalog" and item["url"].startswith("https://")
        assert item["spotify_id"] is None and item["deezer_id"] is not None
    # uplift: the list ends brighter than it starts
    assert items[-1]["valence"] > items[0]["valence"] + 0.3


def test_same_seed_same_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(monkeypatch, capsys, "happy", "--json", "--seed", "4")[1]
    assert first == run(monkeypatch, capsys, "happy", "--json", "--seed", "4")[1]


def test_point_strategy_and_videos(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        monkeypatch,
        capsys,
        "--valence",
        "-0.5",
        "--arousal",
        "0.8",
        "--strategy",
        "calm",
        "--kind",
        "videos",
        "--n",
        "5",
        "--json",
    )
    assert code == 0
    items = json.loads(out)
    assert len(items) == 5 and all(item["title"].startswith("Video") for item in items)
    assert items[-1]["energy"] < items[0]["energy"]


def test_table_output_is_readable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(monkeypatch, capsys, "angry", "--n", "3")
    assert code == 0
    assert out.splitlines()[0].startswith("calm for your angry mood (valence -0.55, arousal +0.70)")
    assert "  1. Artist" in out and " — " in out


def test_one_item_is_counted_in_the_singular(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(monkeypatch, capsys, "sad", "--n", "1", "--seed", "1")
    assert code == 0
    assert "· 1 track from " in out.splitlines()[0], out  # it said "1 tracks"


def test_export_writes_a_playlist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "list.csv"
    code, out, err = run(monkeypatch, capsys, "happy", "--n", "4", "--export", str(target), "--json")
    assert code == 0 and f"wrote {target}" in err
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["title"] for row in rows] == [item["title"] for item in json.loads(out)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bored"], "unknown emotion 'bored'"),
        (["sad", "--strategy", "party"], "unknown strategy 'party'; choose one of: match, uplift, calm, energize"),
        (["sad", "--n", "0"], "n must be a whole number from 1 to 100"),
        (["sad", "--n", "100000"], "n must be a whole number from 1 to 100"),
        (["--valence", "3", "--arousal", "0"], "valence must be a number in [-1, 1]"),
        (["sad", "--export", "list.pls"], ".m3u8, .xspf or .csv"),
    ],
)
def test_bad_input_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(monkeypatch, capsys, *args, "--json")
    assert code == 1 and out == ""
    assert err.startswith("moodtape: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("args", [[], ["sad", "--valence", "0.1", "--arousal", "0.1"], ["--valence", "0.2"]])
def test_the_mood_must_be_given_one_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert "give the mood one way" in err or "go together" in err


def test_image_without_faces_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if importlib.util.find_spec("moodtape.vision.pipeline") is None:
        pytest.skip("the vision pipeline is not installed")
    import moodtape.vision.pipeline as pipeline

    monkeypatch.setattr(pipeline, "get_analyzer", lambda *_: SimpleNamespace(analyze=lambda image, **_: []))
    code, _, err = run(monkeypatch, capsys, "--image", str(tmp_path / "blank.png"), "--json")
    assert code == 1 and "no face found" in err and "--valence" in err


def test_image_faces_set_the_mood(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if importlib.util.find_spec("moodtape.vision.pipeline") is None:
        pytest.skip("the vision pipeline is not installed")
    import moodtape.vision.pipeline as pipeline
    from moodtape.emotions import EMOTIONS
    from moodtape.types import Box, Face

    probs = dict.fromkeys(EMOTIONS, 0.0)
    probs["angry"] = 1.0
    faces = [Face(Box(0, 0, 60, 60), probs)]
    monkeypatch.setattr(pipeline, "get_analyzer", lambda *_: SimpleNamespace(analyze=lambda image, **_: faces))
    code, out, err = run(monkeypatch, capsys, "--image", str(tmp_path / "face.png"), "--json", "--n", "5")
    assert code == 0 and "angry" in err
    assert len(json.loads(out)) == 5


def test_image_is_read_with_the_configured_model_and_limits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``recommend --image`` honours MOODTAPE_MODEL, _MODEL_PRESET, _THREADS and _MAX_PIXELS like the server."""
    import moodtape.vision.pipeline as pipeline

    model = tmp_path / "mine.onnx"
    model.write_bytes(b"not read: get_analyzer is faked")
    asked: list[tuple[object, ...]] = []

    def fake(*args: object) -> SimpleNamespace:
        asked.append(args)
        return SimpleNamespace(analyze=lambda image, **_: [])

    monkeypatch.setattr(pipeline, "get_analyzer", fake)
    for name, value in (("MODEL", str(model)), ("MODEL_PRESET", "fer-library"), ("THREADS", "3")):
        monkeypatch.setenv(f"MOODTAPE_{name}", value)
    monkeypatch.setenv("MOODTAPE_MAX_PIXELS", "1234")
    run(monkeypatch, capsys, "--image", str(tmp_path / "face.png"))
    assert asked == [(str(model), "fer-library", 3, 1234)]


def test_catalog_file_is_the_only_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("moodtape.providers.catalog")
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOODTAPE_OFFLINE", "true")
    source = tmp_path / "mine.csv"
    rows = ["track_name,artists,valence,energy,loudness,tempo"]
    rows += [f"Tune {i},Band {i},{0.1 + 0.08 * i:.2f},{0.2 + 0.05 * i:.2f},-{20 - i},{80 + 5 * i}" for i in range(10)]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "happy", "--catalog", str(source), "--n", "5", "--json")
    assert code == 0, err
    items = json.loads(out)
    assert len(items) == 5 and all(item["title"].startswith("Tune ") for item in items)


def test_missing_catalog_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("moodtape.providers.catalog")
    monkeypatch.setenv("MOODTAPE_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run(monkeypatch, capsys, "happy", "--catalog", str(tmp_path / "nope.csv"), "--json")
    assert code == 1 and out == "" and "no such catalog file" in err


class _UnreachablePreviews:
    name = "deezer"

    def enrich(self, tracks: list[Track]) -> list[Track]:
        from moodtape.errors import ProviderUnreachableError

        raise ProviderUnreachableError("Deezer is unreachable (offline?).")


def test_a_preview_failure_is_one_plain_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: "Deezer is unreachable (offline?).; using the built-in catalog", as if the music had not come."""
    api.set_default_recommender(Recommender([], _Catalog(), enrichers=[_UnreachablePreviews()]))
    code, out, err = run(monkeypatch, capsys, "sad", "--n", "3", "--seed", "1")
    assert code == 0 and out.count("[catalog]") == 3
    assert err.splitlines() == ["moodtape: note: No previews or artwork: Deezer is unreachable (offline?)."]


def test_a_dash_reads_the_photo_from_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    import moodtape.vision.pipeline as pipeline

    read: list[bytes] = []

    def analyze(image: object, **_: object) -> list[object]:
        read.append(image.read())  # type: ignore[attr-defined]
        return []

    monkeypatch.setattr(pipeline, "get_analyzer", lambda *_: SimpleNamespace(analyze=analyze))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"the photo's bytes")))
    code, _, err = run(monkeypatch, capsys, "--image", "-")
    assert read == [b"the photo's bytes"]
    assert code == 1 and "no face found in <stdin>" in err
