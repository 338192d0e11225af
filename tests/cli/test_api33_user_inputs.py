"""What a developer passes the Python API and the command line from a notebook or a shell:
a ``~/…`` path, a seed that is not a whole number, a file pattern no shell expanded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.cli.cli_helpers import run_moodtape

from moodtape.errors import DataError, ImageError
from moodtape.providers.base import Query
from moodtape.recommender import api
from moodtape.recommender.engine import Recommender
from moodtape.types import Track, Video
from moodtape.vision.images import load_image


class _Catalog:
    """A few tracks in code, so no list reaches the network or the built-in catalog."""

    name = "catalog"

    def tracks(self, query: Query) -> list[Track]:
        rng = np.random.default_rng(0)
        return [
            Track(title=f"Song {i}", artist=f"Artist {i}", valence=float(v), energy=float(e))
            for i, (v, e) in enumerate(rng.uniform(size=(40, 2)))
        ]

    def videos(self, query: Query) -> list[Video]:
        return []


@pytest.fixture
def engine() -> Iterator[Recommender]:
    recommender = Recommender([], _Catalog())
    api.set_default_recommender(recommender)
    yield recommender
    api.set_default_recommender(None)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of the test's own, holding one small picture, ``~/me.png``."""
    folder = tmp_path / "home"
    folder.mkdir()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(folder / "me.png")
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.mark.parametrize("given", ["~/me.png", Path("~/me.png")], ids=["str", "Path"])
def test_a_path_from_the_home_folder_is_read(home: Path, given: str | Path) -> None:
    assert load_image(given).shape == (16, 24, 3)


def test_a_missing_home_path_names_where_it_was_looked_for(home: Path) -> None:
    with pytest.raises(ImageError, match=f"{home / 'gone.png'}: file not found"):
        load_image("~/gone.png")


def test_a_folder_named_tilde_is_read_before_the_home_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here" / "~").mkdir(parents=True)
    Image.new("L", (5, 7)).save(tmp_path / "here" / "~" / "me.png")
    monkeypatch.chdir(tmp_path / "here")
    assert load_image("~/me.png").shape == (7, 5, 3)


def test_the_command_line_reads_a_quoted_home_path(home: Path) -> None:
    done = run_moodtape("analyze", "~/me.png", "--json", "--detector", "haar")
    assert done.returncode == 0, done.stderr
    assert '"faces": []' in done.stdout


@pytest.mark.parametrize("seed", ["7", 1.0, -1, True, b"1", [1, 2], (3,)], ids=repr)
def test_a_seed_that_is_no_whole_number_is_a_data_error(engine: Recommender, seed: object) -> None:
    with pytest.raises(DataError, match="seed must be a whole number"):
        api.recommend("sad", n=3, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 7, np.int64(7), 2**70], ids=repr)
def test_whole_number_seeds_still_give_the_same_list(engine: Recommender, seed: int) -> None:
    first = api.recommend("sad", n=5, seed=seed)
    again = api.recommend("sad", n=5, seed=int(seed))
    assert [entry.item.title for entry in first.items] == [entry.item.title for entry in again.items]


def test_a_negative_seed_on_the_command_line_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODTAPE_OFFLINE", "1")  # the built-in catalog alone
    done = run_moodtape("recommend", "sad", "--n", "2", "--seed", "-1")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "--seed" in done.stderr


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder of three small faceless pictures and one text file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("rest1.png", "rest2.png", "smile1.png"):
        Image.new("RGB", (20, 20), (90, 90, 90)).save(folder / name)
    (folder / "notes.txt").write_text("not a picture")
    return folder


def test_a_pattern_the_shell_left_alone_reads_the_files_it_matches(photos: Path) -> None:
    done = run_moodtape("analyze", "rest*.png", "--json", "--detector", "haar", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert [line.split('"')[3] for line in done.stdout.splitlines()] == ["rest1.png", "rest2.png"]


def test_a_pattern_that_matches_nothing_says_so(photos: Path) -> None:
    done = run_moodtape("analyze", "frown*.png", "smile1.png", "--json", "--detector", "haar", cwd=photos)
    assert done.returncode == 1
    assert "frown*.png: no file matches this pattern" in done.stderr
    assert '"image": "smile1.png", "faces": []' in done.stdout  # the others are still read


def test_a_file_whose_name_looks_like_a_pattern_is_that_file(photos: Path) -> None:
    Image.new("RGB", (20, 20)).save(photos / "me[1].png")
    done = run_moodtape("analyze", "me[1].png", "--json", "--detector", "haar", cwd=photos)
    assert done.returncode == 0, done.stderr
    assert '"image": "me[1].png"' in done.stdout


def test_calibration_examples_take_patterns(photos: Path) -> None:
    from moodtape.cli.calibrate import parse_examples

    examples = parse_examples((f"neutral={photos}/rest*.png", f"Happy={photos}/smile*"))
    assert examples == {
        "neutral": [str(photos / "rest1.png"), str(photos / "rest2.png")],
        "happy": [str(photos / "smile1.png")],
    }


def test_a_calibration_pattern_that_matches_nothing_is_refused_before_the_model_loads(photos: Path) -> None:
    from moodtape.cli.calibrate import parse_examples

    with pytest.raises(ImageError, match="no file matches this pattern"):
        parse_examples((f"neutral={photos}/frown*.png",))


def test_a_url_with_a_query_is_still_refused_as_a_url(photos: Path) -> None:
    done = run_moodtape("analyze", "https://example.com/me.jpg?size=2", cwd=photos)
    assert done.returncode == 1
    assert "moodtape reads no URL" in done.stderr
