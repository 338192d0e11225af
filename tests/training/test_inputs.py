"""Training reads faces as the shipped classifier does: the same stretch, the same scale."""

from __future__ import annotations

import numpy as np
import pytest

from fer_faces import synthetic_face

torch = pytest.importorskip("torch")

from moodtape.training.inputs import network_input, stretch_batch, to_tensor  # noqa: E402
from moodtape.training.quantize import calibration_sample  # noqa: E402
from moodtape.vision.classifier import load_classifier  # noqa: E402


def dim_faces(count: int = 14, gain: float = 0.2) -> np.ndarray:
    """Synthetic 48×48 faces with every level × ``gain``: a dim room's faces, the case the stretch is for."""
    rng = np.random.default_rng(3)
    faces = np.stack([synthetic_face(i % 7, rng) for i in range(count)]).astype(np.float32)
    return np.round(faces * gain).astype(np.uint8)


def test_network_input_is_what_the_shipped_classifier_feeds_its_model() -> None:
    faces = dim_faces()
    classifier = load_classifier(threads=1)
    assert classifier.preset.stretch
    # Bit for bit: a last-bit difference can move an input across an int8 rounding step.
    np.testing.assert_array_equal(network_input(faces), classifier.preprocess(list(faces)))


def test_without_the_stretch_only_the_scale_changes() -> None:
    faces = dim_faces()
    np.testing.assert_allclose(network_input(faces, stretch=False), faces[:, None] / np.float32(255), rtol=1e-6)
    assert to_tensor(faces, stretch=False).dtype == torch.float32


def test_a_stretched_batch_matches_the_stretched_images() -> None:
    faces = dim_faces()
    batch = torch.from_numpy(faces.astype(np.float32) / 255.0).unsqueeze(1)
    stretched = stretch_batch(batch)
    assert stretched.shape == batch.shape and stretched.dtype == torch.float32
    np.testing.assert_allclose(stretched.numpy(), network_input(faces), atol=1e-6)
    # Each dim face now spans the full range, as the classifier will show it.
    flat = stretched.reshape(len(faces), -1).numpy()
    assert np.percentile(flat, 1, axis=1).max() < 0.01 and np.percentile(flat, 99, axis=1).min() > 0.99


def test_int8_calibration_faces_are_stretched() -> None:
    sample = calibration_sample(dim_faces(40))
    assert sample.shape == (40, 1, 48, 48)
    assert np.percentile(sample.reshape(40, -1), 99, axis=1).min() > 0.99
