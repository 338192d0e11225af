"""FER2013 readers: the Kaggle folder layout and the original CSV, and their error messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from moodtape.emotions import EMOTIONS
from moodtape.errors import DatasetError
from moodtape.training.datasets import load_dataset


def test_folder_layout(make_face_folder: Callable[..., Path]) -> None:
    root = make_face_folder(per_class=2, labels=("happy", "sad", "angry"))
    dataset = load_dataset(root)
    assert len(dataset) == 6
    assert dataset.images.shape == (6, 48, 48) and dataset.images.dtype == np.uint8
    assert dataset.labels.tolist() == [0, 0, 3, 3, 4, 4]  # FER2013 order, whatever the folder order
    assert dataset.class_counts().tolist() == [2, 0, 0, 2, 2, 0, 0]
    assert all(Path(s).exists() for s in dataset.sources)
    # Pixels survive the round trip through JPEG closely.
    original = cv2.imread(dataset.sources[0], cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(dataset.images[0], original)


def test_folder_names_are_case_insensitive_and_odd_files_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "set" / "Happy"
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "big.png"), np.full((96, 96), 200, dtype=np.uint8))
    (folder / "notes.txt").write_text("not an image")
    dataset = load_dataset(tmp_path / "set")
    assert len(dataset) == 1
    assert dataset.images.shape == (1, 48, 48)  # resized to FER2013's size
    assert dataset.labels.tolist() == [EMOTIONS.index("happy")]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"happy": 1, "bored": 1}, r"unknown emotion folders \['bored'\]"),
        ({}, "no <emotion>/ sub-folders"),
        ({"happy": 0}, "no images"),
    ],
)
def test_folder_errors(tmp_path: Path, layout: dict[str, int], message: str) -> None:
    root = tmp_path / "set"
    root.mkdir()
    for name, count in layout.items():
        (root / name).mkdir()
        for i in range(count):
            cv2.imwrite(str(root / name / f"{i}.png"), np.zeros((48, 48), dtype=np.uint8))
    with pytest.raises(DatasetError, match=message):
        load_dataset(root)


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "set" / "sad" / "broken.jpg"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DatasetError, match=r"broken\.jpg"):
        load_dataset(tmp_path / "set")


def test_missing_dataset_and_wrong_file_type(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "nowhere")
    other = tmp_path / "data.txt"
    other.write_text("x")
    with pytest.raises(DatasetError, match=r"\.csv"):
        load_dataset(other)


def pixels(value: int, count: int = 48 * 48) -> str:
    return " ".join([str(value)] * count)


@pytest.fixture
def fer_csv(tmp_path: Path) -> Path:
    rows = [
        (3, pixels(10), "Training"),
        (4, pixels(20), "Training"),
        (0, pixels(30), "PublicTest"),
        (6, pixels(40), "PublicTest"),
        (6, pixels(50), "PublicTest"),
        (5, pixels(60), "PrivateTest"),
    ]
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows))
    return path


@pytest.mark.parametrize(
    ("split", "labels", "first_value"),
    [("train", [3, 4], 10), ("publictest", [0, 6, 6], 30), ("PrivateTest", [5], 60), ("all", [3, 4, 0, 6, 6, 5], 10)],
)
def test_csv_split_selection(fer_csv: Path, split: str, labels: list[int], first_value: int) -> None:
    dataset = load_dataset(fer_csv, split)
    assert dataset.labels.tolist() == labels
    assert dataset.images.shape == (len(labels), 48, 48)
    assert int(dataset.images[0, 0, 0]) == first_value


def test_csv_sources_name_file_and_line(fer_csv: Path) -> None:
    dataset = load_dataset(fer_csv, "publictest")
    assert dataset.sources[0] == f"{fer_csv}:4"  # header is line 1


def test_csv_unknown_split(fer_csv: Path) -> None:
    with pytest.raises(DatasetError, match="unknown split 'validation'"):
        load_dataset(fer_csv, "validation")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"happy,{pixels(1)},Training", "malformed row"),
        (f"3,{pixels(1)} x,Training", "malformed row"),
        (f"3,{pixels(1, 2303)},Training", "2304 pixels"),
        (f"7,{pixels(1)},Training", "label 0-6"),
        (f"3,{pixels(300)},Training", "0-255"),
    ],
    ids=["label-not-a-number", "pixel-not-a-number", "wrong-pixel-count", "label-out-of-range", "pixel-out-of-range"],
)
def test_csv_bad_rows_name_their_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"emotion,pixels,Usage\n3,{pixels(0)},Training\n{row}\n")
    with pytest.raises(DatasetError, match=message) as caught:
        load_dataset(path, "train")
    assert f"{path}:3" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_csv_missing_column_and_empty_split(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text(f"label,pixels\n3,{pixels(0)}\n")
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['emotion'\]"):
        load_dataset(path)
    only_train = tmp_path / "train.csv"
    only_train.write_text(f"emotion,pixels,Usage\n3,{pixels(0)},Training\n")
    with pytest.raises(DatasetError, match="no rows for split 'publictest'"):
        load_dataset(only_train, "publictest")
