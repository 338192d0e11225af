"""Which view each pass of an exported model reads: parsing, defaults and the zoom's resampling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moodtape.errors import DataError
from moodtape.training.views import Pass, default_passes, describe, parse_passes, zoom_matrix


def test_passes_round_trip_through_their_text() -> None:
    text = "0:face,1:face,0:mirror@1.05,1:face@0.92"
    passes = parse_passes(text, networks=2)
    assert passes == [Pass(0), Pass(1), Pass(0, mirrored=True, zoom=1.05), Pass(1, zoom=0.92)]
    assert describe(passes) == text
    assert parse_passes(" 0:mirror@1 ", networks=1) == [Pass(0, mirrored=True)]  # a zoom of 1 is no zoom
    assert parse_passes("0:face@.95", networks=1) == [Pass(0, zoom=0.95)]
    assert not Pass(0, zoom=1.0).zoomed and Pass(0, zoom=1.05).zoomed


@pytest.mark.parametrize(
    ("text", "networks", "message"),
    [
        ("0:side", 1, "cannot read the pass '0:side'"),
        ("0:face@", 1, "cannot read"),
        ("2:face", 2, "names network 2, but the networks are 0–1"),
        ("0:face,0:face", 1, "'0:face' is named twice"),
        ("0:face@1.23456", 1, "at most 3 decimals"),
        ("", 1, "cannot read the pass ''"),
        ("0:face,0:mirror", 2, r"no pass reads network\(s\) 1"),
        ("0:face@3", 1, "zoom must lie in"),
    ],
)
def test_a_bad_pass_is_a_clear_data_error(text: str, networks: int, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_passes(text, networks)


def test_default_passes_are_the_flip_and_ensemble_views_of_before() -> None:
    assert describe(default_passes(1)) == "0:face,0:mirror"
    assert describe(default_passes(1, flip=False)) == "0:face"
    assert describe(default_passes(2)) == "0:face,1:mirror"
    assert describe(default_passes(3, flip=False)) == "0:face,1:face,2:face"


def test_zoom_matrix_resamples_like_an_affine_warp_about_the_centre() -> None:
    assert np.array_equal(zoom_matrix(48, 1.0), np.eye(48, dtype=np.float32))
    rows = np.random.default_rng(0).integers(0, 256, (48, 48)).astype(np.float32)
    face = cv2.GaussianBlur(rows, (0, 0), 2.0)  # smooth, so interpolation details matter little
    for zoom in (0.92, 1.05, 1.2):
        matrix = zoom_matrix(48, zoom)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-6)  # bilinear weights
        warp = cv2.getRotationMatrix2D((23.5, 23.5), 0, zoom)
        expected = cv2.warpAffine(face, warp, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        np.testing.assert_allclose(matrix @ face @ matrix.T, expected, atol=0.5)


def test_zooming_in_enlarges_the_face() -> None:
    face = np.zeros((48, 48), np.float32)
    face[14:34, 14:34] = 1.0  # a 20-px square in the middle
    matrix = zoom_matrix(48, 1.2)
    zoomed = matrix @ face @ matrix.T
    assert (zoomed > 0.5).sum() == pytest.approx(20 * 20 * 1.2**2, rel=0.15)
