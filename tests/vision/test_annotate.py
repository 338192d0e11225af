"""Annotated images for ``--out``: a box and a label per face, grey when uncertain, input untouched."""

from __future__ import annotations

import numpy as np
import pytest

from moodtape.emotions import EMOTIONS
from moodtape.types import Box, Face
from moodtape.vision.annotate import annotate


def happy_face(box: Box, uncertain: bool = False) -> Face:
    return Face(box, {label: 0.7 if label == "happy" else 0.05 for label in EMOTIONS}, uncertain=uncertain)


@pytest.mark.parametrize("shape", [(200, 300), (200, 300, 3)], ids=["gray", "bgr"])
def test_boxes_are_drawn_on_a_bgr_copy(shape: tuple[int, ...]) -> None:
    image = np.zeros(shape, dtype=np.uint8)
    out = annotate(image, [happy_face(Box(100, 80, 60, 60))])
    assert out.shape == (200, 300, 3)
    assert not image.any()  # the input is not drawn on
    assert tuple(out[110, 100]) == (90, 200, 60)  # left edge of the box, in the "sure" colour
    assert not out[180:, :50].any()


def test_uncertain_faces_are_grey() -> None:
    out = annotate(np.zeros((200, 300, 3), dtype=np.uint8), [happy_face(Box(100, 80, 60, 60), uncertain=True)])
    assert tuple(out[110, 100]) == (160, 160, 160)


def test_no_faces_gives_an_unchanged_copy() -> None:
    image = np.arange(60, dtype=np.uint8).reshape(4, 5, 3)
    out = annotate(image, [])
    np.testing.assert_array_equal(out, image)
    assert out is not image
