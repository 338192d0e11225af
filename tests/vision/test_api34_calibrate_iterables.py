"""``moodtape.calibrate``: an emotion's images in any iterable, read once; what is no list of images refused clearly.

A generator, ``iter([...])``, ``map(...)`` or ``dict.values()`` was refused with "must be a list of
images" though it held images; an ``os.PathLike`` other than ``Path`` given alone was refused the
same way, though ``moodtape.analyze`` reads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

import moodtape
from moodtape.errors import DataError, ImageError
from moodtape.vision.calibrate import calibrate_with
from moodtape.vision.pipeline import Analyzer

Image = npt.NDArray[np.uint8]


def _two(astronaut_bgr: Image) -> list[Image]:
    """Two different pictures of one face (the second mirrored): two neutral examples."""
    return [astronaut_bgr, np.ascontiguousarray(astronaut_bgr[:, ::-1])]


ITERABLES: dict[str, Callable[[list[Image]], Iterable[Image]]] = {
    "generator": lambda images: (image for image in images),
    "iter": iter,
    "map": lambda images: map(np.asarray, images),
    "dict-values": lambda images: {f"photo{i}": image for i, image in enumerate(images)}.values(),
    "reversed": reversed,
}


@pytest.mark.parametrize("make", ITERABLES.values(), ids=ITERABLES.keys())
def test_any_iterable_of_images_is_read_once(
    astronaut_bgr: Image, make: Callable[[list[Image]], Iterable[Image]]
) -> None:
    profile = moodtape.calibrate({"neutral": make(_two(astronaut_bgr))})
    assert profile.examples == {"neutral": 2}


def test_calibrate_with_reads_a_generator_once(astronaut_bgr: Image, bundled_analyzer: Analyzer) -> None:
    """The CLI's way in: a one-pass generator read twice would have been empty the second time."""
    profile = calibrate_with(bundled_analyzer, {"neutral": (image for image in _two(astronaut_bgr))})
    assert profile.examples == {"neutral": 2}


def test_an_empty_generator_is_an_empty_list() -> None:
    with pytest.raises(DataError, match="no images given for neutral"):
        moodtape.calibrate({"neutral": (path for path in ())})


class _Where(os.PathLike[str]):
    """A path object that is not a ``pathlib.Path`` (as some libraries' file handles are)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __fspath__(self) -> str:
        return str(self._path)


@pytest.mark.parametrize("wrap", [str, _Where], ids=["str", "os.PathLike"])
def test_one_path_alone_is_a_list_of_one(tmp_path: Path, astronaut_bgr: Image, wrap: Callable[[Path], object]) -> None:
    """Never iterated (a str by its characters): one photo, read as moodtape.analyze reads it."""
    photo = tmp_path / "me.png"
    cv2.imwrite(str(photo), astronaut_bgr)
    profile = moodtape.calibrate({"neutral": wrap(photo)})  # type: ignore[dict-item]
    assert profile.examples == {"neutral": 1}


def test_a_missing_lone_path_is_named_whole(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"me\.jpg: file not found"):
        moodtape.calibrate({"neutral": str(tmp_path / "me.jpg")})


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ({"front": "me.jpg"}, r"not a dict; give its images as a list, e\.g\. list\(photos\.values\(\)\)"),
        (None, r"must be a list of images \(paths, encoded bytes, NumPy arrays or Pillow images\), got NoneType"),
        (3, r"must be a list of images .*, got int"),
    ],
    ids=["dict", "None", "int"],
)
def test_what_is_no_list_of_images_says_what_to_give(images: object, message: str) -> None:
    """A dict was refused too, but its keys are what iterating it gives: the message now says how to pass it."""
    with pytest.raises(DataError, match=message):
        moodtape.calibrate({"neutral": images})  # type: ignore[dict-item]
