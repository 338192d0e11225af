"""Batched augmentation: shapes and range kept, seeded, and actually changing the faces."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from moodtape.training.augment import augment  # noqa: E402


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.rand(16, 1, 48, 48, generator=torch.Generator().manual_seed(0))


def test_shape_dtype_and_range_are_kept(batch: torch.Tensor) -> None:
    out = augment(batch, torch.Generator().manual_seed(1))
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_input_is_not_modified(batch: torch.Tensor) -> None:
    before = batch.clone()
    augment(batch, torch.Generator().manual_seed(1))
    assert torch.equal(batch, before)


def test_same_seed_same_output_other_seed_other_output(batch: torch.Tensor) -> None:
    first = augment(batch, torch.Generator().manual_seed(7))
    again = augment(batch, torch.Generator().manual_seed(7))
    other = augment(batch, torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


def test_each_face_is_changed(batch: torch.Tensor) -> None:
    out = augment(batch, torch.Generator().manual_seed(2))
    per_face = (out - batch).abs().flatten(1).mean(dim=1)
    assert bool((per_face > 0.01).all())


def test_a_face_is_mirrored_or_not_but_stays_recognisable() -> None:
    # A bright left half: after augmentation the bright side is on the left or the right
    # (mirroring), and the two halves still differ clearly (rotation ≤ 15°, shift ≤ 10 %).
    face = torch.zeros(64, 1, 48, 48)
    face[..., :24] = 1.0
    out = augment(face, torch.Generator().manual_seed(3))
    left, right = out[..., 8:40, 4:20].mean(dim=(1, 2, 3)), out[..., 8:40, 28:44].mean(dim=(1, 2, 3))
    contrast = (left - right).abs()
    assert bool((contrast > 0.3).float().mean() > 0.8)
    mirrored = (right > left).float().mean()
    assert 0.2 < float(mirrored) < 0.8  # about half the faces are flipped


def test_robust_augmentation_keeps_range_repeats_and_adds_conditions(batch: torch.Tensor) -> None:
    from moodtape.training.robust_augment import robust_augment

    out = robust_augment(batch, torch.Generator().manual_seed(4))
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(out, robust_augment(batch, torch.Generator().manual_seed(4)))
    # On a flat gray face geometry and erasing change little; the webcam conditions (noise, JPEG,
    # gamma, bands) change some faces' pixels far more than brightness jitter alone would.
    flat = torch.full((64, 1, 48, 48), 0.5)
    plain = augment(flat, torch.Generator().manual_seed(5))
    robust = robust_augment(flat, torch.Generator().manual_seed(5))
    assert float((robust - plain).abs().flatten(1).amax(1).max()) > 0.3
