"""``moodtape.calibrate`` reads every example before it fails, so every unusable one is named at once."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import moodtape
from moodtape.errors import ImageError
from moodtape.vision.calibrate import NoFaceError

Image = npt.NDArray[np.uint8]


def test_every_unusable_example_is_named_in_one_error(astronaut_bgr: Image) -> None:
    blank = np.full((240, 320), 128, dtype=np.uint8)
    mirrored = np.ascontiguousarray(astronaut_bgr[:, ::-1])
    examples = {"neutral": [astronaut_bgr, b"not an image"], "happy": [mirrored, blank], "sad": [b"\x00" * 64]}
    with pytest.raises(ImageError) as caught:
        moodtape.calibrate(examples)
    message = str(caught.value)
    for name in ("neutral image #2", "happy image #2", "sad image #1"):
        assert name in message
    assert "neutral image #1" not in message and "happy image #1" not in message  # the good ones
    assert message.startswith("3 of 5 calibration images cannot be used, so no profile was made: ")
    assert getattr(caught.value, "names", None) == ("neutral image #2", "happy image #2", "sad image #1")


def test_a_lone_unusable_example_keeps_its_own_error(astronaut_bgr: Image) -> None:
    blank = np.full((240, 320), 128, dtype=np.uint8)
    with pytest.raises(NoFaceError, match=r"^no face found in happy image #1"):
        moodtape.calibrate({"neutral": [astronaut_bgr], "happy": [blank]})
