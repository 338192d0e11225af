"""Exposure: a face from a dim room or a washed-out webcam is read as the same face well lit."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import moodtape
from moodtape.vision.classifier import load_classifier
from moodtape.vision.exposure import MIN_SPAN, PERCENTILES, stretch_contrast
from moodtape.vision.presets import get_preset


def _scaled(image: npt.NDArray[np.uint8], gain: float, bias: float = 0.0) -> npt.NDArray[np.uint8]:
    return np.clip(np.round(image.astype(np.float32) * gain + bias), 0, 255).astype(np.uint8)


def test_each_face_spans_black_to_white_and_keeps_its_order_of_levels() -> None:
    rng = np.random.default_rng(0)
    faces = np.stack([rng.integers(20, 60, (48, 48)), rng.integers(100, 255, (48, 48))]).astype(np.float32)
    stretched = stretch_contrast(faces)
    for before, after in zip(faces, stretched, strict=True):
        low, high = np.percentile(before, PERCENTILES)
        assert np.percentile(after, PERCENTILES) == pytest.approx([0.0, 255.0], abs=1e-3)
        assert after.min() == 0.0 and after.max() == 255.0  # beyond the percentiles: clipped
        order = np.argsort(before, axis=None, kind="stable")
        assert np.all(np.diff(after.ravel()[order]) >= 0)  # darker stays darker
        inside = (before > low) & (before < high)
        np.testing.assert_allclose(after[inside], (before[inside] - low) * 255 / (high - low), rtol=1e-5)


def test_a_face_of_nearly_one_level_is_left_alone() -> None:
    """Stretching 3 levels of sensor noise to 255 would invent a face-sized pattern."""
    flat = np.full((1, 48, 48), 9.0, np.float32)
    flat[0, ::2, ::2] = 9.0 + MIN_SPAN - 1
    np.testing.assert_array_equal(stretch_contrast(flat), flat)
    assert stretch_contrast(np.zeros((0, 48, 48), np.float32)).shape == (0, 48, 48)


def test_only_moodtapes_own_preset_stretches() -> None:
    """The fer presets keep the pixels their authors' models were tested with."""
    assert get_preset("moodtape").stretch
    assert not get_preset("fer-library").stretch and not get_preset("fer-tutorial").stretch


@pytest.mark.parametrize(("gain", "bias"), [(0.3, 0), (0.15, 0), (0.06, 0), (0.35, 150)])
def test_a_dark_or_washed_out_face_reads_as_the_face_well_lit(
    astronaut_gray: npt.NDArray[np.uint8], gain: float, bias: float
) -> None:
    """Unstretched, the astronaut's smile 85 % darker read as angry (34 %), 94 % darker as angry
    at 75 %: a confident wrong answer. Stretched, each reads as the lit face does."""
    face = astronaut_gray[40:190, 150:300]
    classifier = load_classifier()
    lit, dim = classifier.predict([face, _scaled(face, gain, bias)])
    assert lit.argmax() == dim.argmax() == moodtape.EMOTIONS.index("happy")
    assert np.abs(lit - dim).max() < 0.05


def test_a_dark_photo_through_the_whole_pipeline(astronaut_bgr: npt.NDArray[np.uint8]) -> None:
    dark = _scaled(astronaut_bgr, 0.1)
    faces = moodtape.analyze(dark)
    assert len(faces) == 1 and faces[0].emotion == "happy" and not faces[0].uncertain
