"""Framing: square crops around detector boxes, inside the image and across its edges."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.types import Box
from moodtape.vision.framing import Framing


@pytest.fixture
def image() -> npt.NDArray[np.uint8]:
    """100×120 gray image where every pixel's value encodes its position (mod 256)."""
    rows, cols = np.mgrid[0:100, 0:120]
    return ((rows * 7 + cols * 3) % 256).astype(np.uint8)


def test_default_crop_inside_is_the_box(image: npt.NDArray[np.uint8]) -> None:
    np.testing.assert_array_equal(Framing().crop(image, Box(10, 20, 30, 30)), image[20:50, 10:40])


def test_non_square_box_gives_a_square_on_its_longer_side(image: npt.NDArray[np.uint8]) -> None:
    crop = Framing().crop(image, Box(40, 20, 20, 30))
    assert crop.shape == (30, 30)
    np.testing.assert_array_equal(crop, image[20:50, 35:65])


@pytest.mark.parametrize(
    ("framing", "expected"),
    [
        (Framing(scale=1.5), (slice(27, 57), slice(27, 57))),  # side 30 around centre (42, 42)
        (Framing(scale=0.5), (slice(37, 47), slice(37, 47))),
        (Framing(shift=0.25), (slice(37, 57), slice(32, 52))),  # centre 5 px (¼ of 20) lower
        (Framing(shift=-0.5), (slice(22, 42), slice(32, 52))),
    ],
    ids=["scale-1.5", "scale-0.5", "shift-down", "shift-up"],
)
def test_scale_and_shift(image: npt.NDArray[np.uint8], framing: Framing, expected: tuple[slice, slice]) -> None:
    np.testing.assert_array_equal(framing.crop(image, Box(32, 32, 20, 20)), image[expected])


@pytest.mark.parametrize(
    "box",
    [Box(0, 0, 20, 20), Box(100, 80, 20, 20), Box(0, 80, 20, 20), Box(100, 0, 20, 20)],
    ids=["top-left", "bottom-right", "bottom-left", "top-right"],
)
def test_crops_across_corners_mirror_the_image_about_its_edges(image: npt.NDArray[np.uint8], box: Box) -> None:
    crop = Framing(scale=2.0).crop(image, box)
    assert crop.shape == (40, 40)  # square of the requested side, even where the image ends
    # Pixels inside the image are unchanged; the rest mirror it about the edge (-1 → 1, 100 → 98),
    # which gave Yale's faces cut by the edge more of their reading back than repeating the edge did.
    ys = np.abs(np.arange(40) + box.y - 10)
    xs = np.abs(np.arange(40) + box.x - 10)
    ys, xs = np.where(ys > 99, 198 - ys, ys), np.where(xs > 119, 238 - xs, xs)
    np.testing.assert_array_equal(crop, image[np.ix_(ys, xs)])


def test_colour_images_are_cropped_too(image: npt.NDArray[np.uint8]) -> None:
    colour = np.dstack([image, 255 - image, image // 2])
    crop = Framing(scale=2.0).crop(colour, Box(0, 0, 10, 10))
    assert crop.shape == (20, 20, 3)
    np.testing.assert_array_equal(crop[5:, 5:], colour[:15, :15])
    assert crop.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("options", [{"scale": 0.4}, {"scale": 2.5}, {"shift": 0.6}, {"shift": -0.6}])
def test_framing_is_validated(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="framing"):
        Framing(**options)
