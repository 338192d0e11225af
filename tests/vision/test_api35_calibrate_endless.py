"""``moodtape.calibrate``: an endless generator of images is refused at once, not read forever.

Since session 34 an emotion's images may be any iterable, read into a list: ``itertools.repeat(image)``
(or a camera's frames with no stop) was read until memory ran out. Now at most
``MAX_IMAGES_PER_EMOTION`` (100) and one more are read, and more than 100 is a ``DataError`` naming
the emotion and the bound; 100 images are still learnt from.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

import moodtape
from moodtape.errors import DataError
from moodtape.vision.calibrate import MAX_IMAGES_PER_EMOTION, calibrate_with
from moodtape.vision.pipeline import Analyzer

Image = npt.NDArray[np.uint8]
#: A generator that gives this many images was read to its end before: a sign the bound is gone.
READ_TOO_FAR = 10_000


def _counted(image: Image, read: list[int]) -> Iterator[Image]:
    """``image`` without end, counting how many were taken in ``read[0]``; fails the test past
    :data:`READ_TOO_FAR` instead of filling memory as an unbounded read would."""
    for number in itertools.count(1):
        if number > READ_TOO_FAR:
            pytest.fail(f"calibrate read more than {READ_TOO_FAR:,} images of an endless generator")
        read[0] = number
        yield image


def test_an_endless_generator_is_refused_naming_the_emotion_and_the_bound(astronaut_bgr: Image) -> None:
    with pytest.raises(DataError, match=r"more than 100 images given for happy: .*itertools\.islice\(frames, 100\)"):
        moodtape.calibrate({"neutral": [astronaut_bgr], "happy": itertools.repeat(astronaut_bgr)})


def test_only_one_image_past_the_bound_is_read(astronaut_bgr: Image) -> None:
    read = [0]
    with pytest.raises(DataError, match="more than 100 images given for neutral"):
        moodtape.calibrate({"neutral": _counted(astronaut_bgr, read)})
    assert read[0] == MAX_IMAGES_PER_EMOTION + 1


def test_the_cli_way_in_is_bounded_too(astronaut_bgr: Image, bundled_analyzer: Analyzer) -> None:
    """``calibrate_with`` (the CLI's, and the one a program with its own analyzer calls)."""
    read = [0]
    with pytest.raises(DataError, match="more than 100 images given for neutral"):
        calibrate_with(bundled_analyzer, {"neutral": _counted(astronaut_bgr, read)})
    assert read[0] == MAX_IMAGES_PER_EMOTION + 1


def test_a_list_over_the_bound_is_refused_before_any_image_is_read() -> None:
    """Nothing is decoded: the names are not even files."""
    with pytest.raises(DataError, match="more than 100 images given for neutral"):
        moodtape.calibrate({"neutral": [f"missing-{i}.jpg" for i in range(101)]})


def test_names_of_one_emotion_joined_past_the_bound_are_refused(astronaut_bgr: Image) -> None:
    """``neutral`` and ``Neutral`` name one emotion: 60 + 60 images are 120 for it."""
    with pytest.raises(DataError, match="more than 100 images given for neutral"):
        moodtape.calibrate({"neutral": [astronaut_bgr] * 60, "Neutral": [astronaut_bgr] * 60})


def test_100_images_are_learnt_from(astronaut_bgr: Image, bundled_analyzer: Analyzer) -> None:
    profile = calibrate_with(bundled_analyzer, {"neutral": itertools.repeat(astronaut_bgr, MAX_IMAGES_PER_EMOTION)})
    assert profile.examples == {"neutral": MAX_IMAGES_PER_EMOTION}
