"""Read FER2013 in either of its two common forms, as arrays of 48×48 gray faces.

* the Kaggle folder layout ``<split>/<emotion>/<name>.jpg`` (``emotion`` a label name);
* the original CSV ``emotion,pixels,Usage`` (pixels: 2,304 space-separated ints).

Only NumPy and OpenCV are needed, so evaluation works without the ``train`` extra.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from moodtape.emotions import EMOTIONS, NUM_EMOTIONS
from moodtape.errors import DatasetError

FER_SIZE = 48
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
#: CSV ``Usage`` values and the split names we accept for them.
CSV_SPLITS = {"train": "Training", "publictest": "PublicTest", "privatetest": "PrivateTest"}


@dataclass(frozen=True)
class FaceDataset:
    """Gray faces and their FER2013 label indices.

    Attributes:
        images: ``(n, 48, 48)`` uint8 array.
        labels: ``(n,)`` int64 array of indices into :data:`moodtape.emotions.EMOTIONS`.
        sources: one name per image (file path or ``csv:<line>``), for error reports.
    """

    images: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    sources: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self) -> npt.NDArray[np.int64]:
        """Number of images per class, in label order."""
        return np.bincount(self.labels, minlength=NUM_EMOTIONS).astype(np.int64)


def load_dataset(path: str | Path, split: str = "publictest") -> FaceDataset:
    """Load a folder-layout split or one split of a FER2013 CSV.

    Args:
        path: a folder whose sub-folders are emotion names, or a ``.csv`` file.
        split: for a CSV, which ``Usage`` rows to keep (``train``, ``publictest``,
            ``privatetest``, or ``all``); ignored for folders.
    """
    source = Path(path)
    if not source.exists():
        raise DatasetError(f"dataset not found: {source}")
    if source.is_dir():
        return _load_folder(source)
    if source.suffix.lower() == ".csv":
        return _load_csv(source, split)
    raise DatasetError(f"{source}: expected a folder of <emotion>/ sub-folders or a FER2013 .csv")


def _load_folder(root: Path) -> FaceDataset:
    folders = {p.name.lower(): p for p in root.iterdir() if p.is_dir()}
    unknown = sorted(set(folders) - set(EMOTIONS))
    if unknown:
        raise DatasetError(f"{root}: unknown emotion folders {unknown}; expected {list(EMOTIONS)}")
    if not folders:
        raise DatasetError(f"{root}: no <emotion>/ sub-folders found")
    images: list[npt.NDArray[np.uint8]] = []
    labels: list[int] = []
    sources: list[str] = []
    for label, name in enumerate(EMOTIONS):
        folder = folders.get(name)
        if folder is None:
            continue
        for file in sorted(folder.iterdir()):
            if file.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            images.append(_read_gray(file))
            labels.append(label)
            sources.append(str(file))
    if not images:
        raise DatasetError(f"{root}: no images found")
    return FaceDataset(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(sources))


def _read_gray(file: Path) -> npt.NDArray[np.uint8]:
    data = np.fromfile(file, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        raise DatasetError(f"{file}: not a readable image")
    if image.shape != (FER_SIZE, FER_SIZE):
        image = cv2.resize(image, (FER_SIZE, FER_SIZE), interpolation=cv2.INTER_AREA)
    return np.asarray(image, dtype=np.uint8)


def _load_csv(file: Path, split: str) -> FaceDataset:
    wanted = None if split == "all" else CSV_SPLITS.get(split.lower())
    if split != "all" and wanted is None:
        raise DatasetError(f"unknown split {split!r}; expected one of {sorted(CSV_SPLITS)} or 'all'")
    images: list[npt.NDArray[np.uint8]] = []
    labels: list[int] = []
    sources: list[str] = []
    for line, label, pixels, usage in _csv_rows(file):
        if wanted is not None and usage != wanted:
            continue
        images.append(pixels)
        labels.append(label)
        sources.append(f"{file}:{line}")
    if not images:
        raise DatasetError(f"{file}: no rows for split {split!r}")
    return FaceDataset(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(sources))


def _csv_rows(file: Path) -> Iterator[tuple[int, int, npt.NDArray[np.uint8], str]]:
    with file.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{file}: missing column(s) {sorted(missing)}; expected emotion,pixels,Usage")
        for row in reader:
            line = reader.line_num
            try:
                label = int(row["emotion"])
                pixels = np.array(row["pixels"].split(), dtype=np.int64)
            except (TypeError, ValueError) as exc:
                raise DatasetError(f"{file}:{line}: malformed row ({exc})") from None
            if not 0 <= label < NUM_EMOTIONS or pixels.size != FER_SIZE * FER_SIZE:
                raise DatasetError(f"{file}:{line}: expected a label 0-6 and {FER_SIZE * FER_SIZE} pixels")
            if pixels.min() < 0 or pixels.max() > 255:
                raise DatasetError(f"{file}:{line}: pixel values must lie in 0-255")
            image = pixels.astype(np.uint8).reshape(FER_SIZE, FER_SIZE)
            yield line, label, image, (row.get("Usage") or "").strip()
