"""Robustness conditions: each keeps shape and dtype, changes the face the way its name says, and repeats."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from moodtape.vision import conditions as c


@pytest.fixture(scope="module")
def face(astronaut_gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The astronaut's head as a 48×48 FER2013-style crop."""
    return np.asarray(cv2.resize(astronaut_gray[30:230, 150:350], (48, 48), interpolation=cv2.INTER_AREA))


@pytest.mark.parametrize("condition", c.CONDITIONS, ids=lambda item: item.name)
def test_every_condition_keeps_shape_dtype_and_repeats(condition: c.Condition, face: npt.NDArray[np.uint8]) -> None:
    out = condition.transform(face)
    assert out.shape == face.shape and out.dtype == np.uint8
    assert np.array_equal(out, condition.transform(face))
    if condition.name == "clean":
        assert np.array_equal(out, face)
    else:
        assert np.abs(out.astype(int) - face).mean() > 1.0, "the condition left the face (almost) unchanged"


def test_names_are_unique_and_looked_up() -> None:
    names = [item.name for item in c.CONDITIONS]
    assert len(names) == len(set(names))
    assert c.condition("blur").name == "blur"
    with pytest.raises(KeyError, match="known: clean, blur"):
        c.condition("fog")


def test_gamma_darkens_above_one_and_brightens_below(face: npt.NDArray[np.uint8]) -> None:
    assert c.gamma(face, 2.2).mean() < face.mean() < c.gamma(face, 0.45).mean()


def test_low_contrast_keeps_the_mean_and_shrinks_the_spread(face: npt.NDArray[np.uint8]) -> None:
    out = c.contrast(face, 0.4)
    assert abs(float(out.mean()) - float(face.mean())) < 1.0
    assert out.std() == pytest.approx(0.4 * face.std(), rel=0.05)


def test_blur_and_downscale_remove_fine_detail(face: npt.NDArray[np.uint8]) -> None:
    def detail(image: npt.NDArray[np.uint8]) -> float:
        return float(np.abs(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F)).mean())

    assert detail(c.blur(face, 1.5)) < 0.6 * detail(face)
    assert detail(c.downscale(face, 16)) < 0.6 * detail(face)


def test_noise_is_seeded_and_of_the_asked_strength() -> None:
    flat = np.full((48, 48), 128, np.uint8)
    assert np.array_equal(c.noise(flat, 20.0, seed=1), c.noise(flat, 20.0, seed=1))
    assert not np.array_equal(c.noise(flat, 20.0, seed=1), c.noise(flat, 20.0, seed=2))
    assert c.noise(flat, 20.0).astype(float).std() == pytest.approx(20.0, rel=0.1)


def test_rotation_moves_a_bright_bar_off_the_horizontal() -> None:
    bar = np.zeros((48, 48), np.uint8)
    bar[22:26, 4:44] = 255
    rows = np.nonzero(c.rotate(bar, 20.0)[:, 8] > 128)[0]
    # Rolled anticlockwise by 20°, the bar's left end rises about tan(20°) · 16 px ≈ 6 px.
    assert rows.size and rows.mean() > 28


def test_reframe_zooms_in_when_tight_and_out_when_loose() -> None:
    square = np.zeros((48, 48), np.uint8)
    square[12:36, 12:36] = 255
    assert (c.reframe(square, 0.8) > 128).sum() > (square > 128).sum() > (c.reframe(square, 1.25) > 128).sum()
    shifted = c.reframe(square, 1.0, 0.12, 0.12)
    assert np.argwhere(shifted > 128).mean(axis=0).tolist() < np.argwhere(square > 128).mean(axis=0).tolist()


def test_glasses_and_mask_cover_their_rows(face: npt.NDArray[np.uint8]) -> None:
    assert (c.glasses(face)[14:20] == 25).all()
    assert (c.face_mask(face)[32:] == 200).all()
    assert np.array_equal(c.glasses(face)[24:], face[24:])
