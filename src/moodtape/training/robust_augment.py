"""Webcam and photo conditions on top of the standard augmentation (``moodtape train --augment robust``).

FER2013's faces are web images, well framed and mostly well lit; a webcam or a phone photo adds
blur, sensor noise, JPEG blocks, low or harsh light, washed-out contrast, head roll, loose or tight
detector boxes, glasses and masks. This draws each of those at a random strength from
:mod:`moodtape.vision.conditions` (the code the robustness suite measures with), each face getting
a few of them, after the standard geometric and photometric augmentation with rotation widened to
±20° and scale to 0.8–1.25. The per-face transforms run in NumPy/OpenCV on 48×48 images, a few
milliseconds per batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from moodtape.training.augment import augment
from moodtape.vision import conditions as c

Draw = Callable[[np.ndarray, np.random.Generator], np.ndarray]

#: (probability per face, transform with a random strength). Ranges straddle the suite's fixed
#: strengths rather than sit on them, so the suite is not a copy of the training distribution;
#: about 40 % of faces get none of them, so the clean faces the epoch is chosen on stay common.
_CONDITIONS: tuple[tuple[float, Draw], ...] = (
    (0.06, lambda x, r: c.band(x, r.uniform(0.2, 0.3), r.uniform(0.4, 0.5), int(r.integers(0, 80)))),
    (0.06, lambda x, r: c.band(x, r.uniform(0.55, 0.7), 1.0, int(r.integers(120, 256)))),
    (0.18, lambda x, r: c.gamma(x, float(np.exp(r.uniform(np.log(0.35), np.log(2.8)))))),
    (0.10, lambda x, r: c.contrast(x, r.uniform(0.25, 0.9))),
    (0.10, lambda x, r: c.blur(x, r.uniform(0.5, 2.2))),
    (0.10, lambda x, r: c.downscale(x, int(r.integers(12, 33)))),
    (0.10, lambda x, r: c.noise(x, r.uniform(3.0, 28.0), seed=int(r.integers(1 << 31)))),
    (0.15, lambda x, r: c.jpeg(x, int(r.integers(10, 70)))),
)


def robust_augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard augmentation (wider roll and scale), then random webcam/photo conditions per face."""
    return add_conditions(robust_geometry(batch, generator), generator)


def robust_geometry(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The standard augmentation with roll widened to ±20° and scale to 0.8–1.25: the face before any condition.

    Distillation shows the teacher this clean face and the student the same face with conditions added.
    """
    return augment(batch, generator, max_degrees=20.0, scale=(0.8, 1.25))


def add_conditions(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A copy of ``batch`` with each face given a few webcam/photo conditions at random strengths."""
    rng = np.random.default_rng(int(torch.randint(0, 1 << 31, (1,), generator=generator)))
    faces = (batch[:, 0].numpy() * 255.0).round().astype(np.uint8)
    for i in range(len(faces)):
        for probability, draw in _CONDITIONS:
            if rng.random() < probability:
                faces[i] = draw(faces[i], rng)
    return torch.from_numpy(faces.astype(np.float32) / 255.0).unsqueeze(1)
