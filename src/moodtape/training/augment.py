"""Batched data augmentation on tensors, so training needs no worker processes.

FER2013 is small (28,709 faces) and a CNN overfits it within a few epochs without strong
augmentation. Each face is randomly mirrored, rotated (±15°), scaled (0.85–1.15), shifted (±10 %),
given new brightness and contrast, and partly erased (occlusion by hands, glasses, hair).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional


def augment(
    batch: torch.Tensor,
    generator: torch.Generator,
    max_degrees: float = 15.0,
    scale: tuple[float, float] = (0.85, 1.15),
) -> torch.Tensor:
    """Return an augmented copy of ``batch`` (``(n, 1, h, w)`` float in [0, 1])."""
    n = batch.shape[0]
    out = _geometric(batch, generator, max_degrees, scale)
    out = _photometric(out, generator)
    out = _erase(out, generator)
    return out.clamp_(0.0, 1.0).view(n, *batch.shape[1:])


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low


def _geometric(
    batch: torch.Tensor, generator: torch.Generator, max_degrees: float, scales: tuple[float, float]
) -> torch.Tensor:
    n = batch.shape[0]
    angle = _uniform(n, -max_degrees, max_degrees, generator) * (math.pi / 180.0)
    scale = _uniform(n, scales[0], scales[1], generator)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    shift = _uniform(2 * n, -0.2, 0.2, generator).view(n, 2)  # normalised coords span 2: ±10 %
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, shift[:, 0]], dim=1),
            torch.stack([sin * flip, cos, shift[:, 1]], dim=1),
        ],
        dim=1,
    )
    grid = functional.affine_grid(theta, list(batch.shape), align_corners=False)
    return functional.grid_sample(batch, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _photometric(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = batch.shape[0]
    contrast = _uniform(n, 0.7, 1.3, generator).view(n, 1, 1, 1)
    brightness = _uniform(n, -0.15, 0.15, generator).view(n, 1, 1, 1)
    mean = batch.mean(dim=(1, 2, 3), keepdim=True)
    return (batch - mean) * contrast + mean + brightness


def _erase(batch: torch.Tensor, generator: torch.Generator, probability: float = 0.5) -> torch.Tensor:
    n, _, h, w = batch.shape
    area = _uniform(n, 0.02, 0.15, generator) * h * w
    aspect = torch.exp(_uniform(n, math.log(0.3), math.log(3.3), generator))
    eh = torch.sqrt(area * aspect).clamp(1, h - 1)
    ew = torch.sqrt(area / aspect).clamp(1, w - 1)
    top = torch.rand(n, generator=generator) * (h - eh)
    left = torch.rand(n, generator=generator) * (w - ew)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    inside = (
        (rows >= top.view(n, 1, 1))
        & (rows < (top + eh).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1))
        & (cols < (left + ew).view(n, 1, 1))
    )
    chosen = (torch.rand(n, generator=generator) < probability).view(n, 1, 1)
    mask = (inside & chosen).unsqueeze(1)
    noise = torch.rand(batch.shape, generator=generator)
    return torch.where(mask, noise, batch)
