"""What a programmer hands ``moodtape.analyze``: a long, thin picture, and a string that is no path.

A picture one or two pixels across is read like any other and has no face in it; a URL, a ``data:``
URL and a ``file:`` URL each get an answer that fits them, not "https:/example.com/me.jpg: file not
found" (the "//" folded by the path) nor a bare ``OSError`` for a name too long to look up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import moodtape
from moodtape.errors import ImageError
from moodtape.vision.images import load_image


@pytest.mark.parametrize("shape", [(100_000, 2), (2, 100_000), (1, 2_000), (4_096, 2)])
def test_a_thin_array_has_no_face_rather_than_a_crash(shape: tuple[int, int]) -> None:
    assert moodtape.analyze(np.full(shape, 128, np.uint8)) == []


def test_a_thin_png_file_has_no_face_rather_than_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "line.png"
    Image.fromarray(np.full((1, 2_000), 128, np.uint8)).save(path)
    assert moodtape.analyze(path) == []


@pytest.mark.parametrize("shape", [(5_000, 300), (17_000, 1_000), (20_001, 1_000)])
def test_a_long_array_is_read_whatever_its_shape(shape: tuple[int, int]) -> None:
    """An array in memory is no decoder bomb: only its pixel count is bounded, not its sides' ratio."""
    assert load_image(np.zeros(shape, np.uint8), gray=True).shape == shape


@pytest.mark.parametrize("url", ["https://example.com/me.jpg", "http://example.com/me.jpg", "s3://bucket/me.jpg"])
def test_a_url_is_named_in_full_and_moodtape_says_it_downloads_nothing(url: str) -> None:
    with pytest.raises(ImageError) as refused:
        moodtape.analyze(url)
    assert str(refused.value).startswith(f"{url}: no such file, and moodtape reads no URL (it downloads nothing)")


def test_a_missing_file_in_a_folder_named_like_a_scheme_is_still_said_to_be_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, astronaut_jpeg_bytes: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ab:").mkdir()
    (tmp_path / "ab:" / "me.jpg").write_bytes(astronaut_jpeg_bytes)
    assert load_image("ab:/me.jpg").shape[2] == 3  # a path that looks like a URL is read as the path it is
    with pytest.raises(ImageError) as refused:
        load_image("ab:/missing.jpg")
    assert str(refused.value).startswith("ab:/missing.jpg: no such file, and moodtape reads no URL")


def test_a_file_url_is_read_as_the_file_it_names(astronaut_jpeg: Path) -> None:
    assert np.array_equal(load_image(astronaut_jpeg.as_uri()), load_image(astronaut_jpeg))
    assert moodtape.analyze(astronaut_jpeg.as_uri())[0].emotion == "happy"


def test_a_file_url_to_no_file_names_the_path_it_names() -> None:
    with pytest.raises(
        ImageError, match=r"^file:///nowhere/me%20too\.jpg: file not found \(it names /nowhere/me too\.jpg\)$"
    ):
        load_image("file:///nowhere/me%20too.jpg")


@pytest.mark.parametrize("length", [10, 5_000])  # 5,000: a name too long to look up, a bare OSError before
def test_a_data_url_is_named_as_one(length: int) -> None:
    given = "data:image/png;base64," + "iVBO/x" * (length // 6)
    with pytest.raises(ImageError) as refused:
        load_image(given)
    message = str(refused.value)
    assert "a data: URL, not a file path; moodtape takes a file path or the picture's bytes" in message
    assert message.startswith(given[:40]) and len(message) < 200


def test_a_missing_file_and_a_windows_drive_path_are_still_files_not_found() -> None:
    for path in ("C:/photos/me.jpg", "nowhere/me.jpg"):
        with pytest.raises(ImageError, match=r": file not found$"):
            load_image(path)
