"""A levelled crop that runs off the photo is filled as an upright one is: the photo mirrored.

Every face found only in a turned copy (vision/rolled.py), and every face read with ``align=True``,
is cut by ``align.aligned_crop``. Until this change its part beyond the photo repeated the edge
pixel while ``Framing.crop`` mirrored the photo, so the same face cut by the edge was read from
different pixels when the photo came sideways. A face 90° off, cut exactly on pixel centres, now
gets the very crop its upright photo gives.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from moodtape.types import Box
from moodtape.vision.align import aligned_crop
from moodtape.vision.framing import mirrored
from moodtape.vision.yunet import CENTRE_BELOW_EYES, Landmarks

#: The eyes-to-mouth distance of the test faces: their square's side is round(2.7 × 10) = 27 px.
EYE_MOUTH = 10.0


def _upright_face(cx: float, cy: float) -> Landmarks:
    """A level face whose FER-framed square is centred on ``(cx, cy)`` (half-pixel centres, so the
    27-px square starts on a whole pixel and neither crop interpolates)."""
    eyes_y = cy - CENTRE_BELOW_EYES * EYE_MOUTH
    points = (
        (cx - 4, eyes_y),
        (cx + 4, eyes_y),
        (cx, eyes_y + EYE_MOUTH / 2),
        (cx - 3, eyes_y + EYE_MOUTH),
        (cx + 3, eyes_y + EYE_MOUTH),
    )
    return Landmarks(Box(0, 0, 1, 1), points, 0.9)


def _quarter_turned(face: Landmarks, width: int) -> Landmarks:
    """``face`` in the photo that ``np.rot90`` turned into the one it was found in: a photo of
    ``width`` columns whose pixel (x, y) is the turned photo's (y, width - 1 - x)."""
    points = tuple((width - 1 - y, x) for x, y in face.points)
    return Landmarks(face.box, points, face.score, turned=90.0)


@pytest.fixture
def photo() -> npt.NDArray[np.uint8]:
    return np.random.default_rng(26).integers(0, 256, (30, 40), dtype=np.uint8)


@pytest.mark.parametrize(
    "centre",
    [(20.5, 2.5), (3.5, 15.5), (15.5, 28.5), (2.5, 3.5), (-5.5, 36.5)],
    ids=["top", "left", "bottom", "corner", "outside"],
)
def test_a_sideways_face_cut_by_the_edge_gets_its_upright_photos_crop(
    photo: npt.NDArray[np.uint8], centre: tuple[float, float]
) -> None:
    upright_photo = np.ascontiguousarray(np.rot90(photo))
    upright = _upright_face(*centre)
    sideways = _quarter_turned(upright, photo.shape[1])
    assert abs(upright.roll_degrees) < 1 and abs(sideways.roll_degrees) == pytest.approx(90)
    left, top = round(centre[0] - 13.5), round(centre[1] - 13.5)
    rows, columns = np.arange(top, top + 27), np.arange(left, left + 27)
    height, width = upright_photo.shape
    mirrored_crop = upright_photo[np.ix_(mirrored(rows, height), mirrored(columns, width))]
    assert np.array_equal(aligned_crop(upright_photo, upright), mirrored_crop)  # level: Framing.crop
    assert np.array_equal(aligned_crop(photo, sideways), mirrored_crop)  # rolled 90°: turned back by warpAffine


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (4, 1)])
def test_a_one_pixel_wide_photo_gives_a_crop_of_its_own_pixels(shape: tuple[int, int]) -> None:
    photo = (np.arange(shape[0] * shape[1], dtype=np.uint8) + 7).reshape(shape)
    leaning = Landmarks(Box(0, 0, 1, 1), ((0, 0), (3, 3), (0, 4), (-1, 6), (2, 8)), 0.9)  # rolled 45°
    crop = aligned_crop(photo, leaning)
    assert crop.shape == (15, 15)
    assert set(np.unique(crop)) <= set(photo.ravel())
