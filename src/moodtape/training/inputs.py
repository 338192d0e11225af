"""The faces as the shipped model reads them: each face's contrast stretched, gray levels scaled to [0, 1].

At inference the ``moodtape`` preset stretches every face's levels to 0–255
(:mod:`moodtape.vision.exposure`) before the network reads it. Training on faces that were not
stretched, choosing the epoch on them, calibrating the int8 activations and fitting the temperature
on them would teach and judge the network on inputs it never meets once shipped. Every step of
``moodtape train`` and its export therefore reads faces through this module, with the one stretch
the classifier applies (one implementation, so training and inference cannot drift apart).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from moodtape.vision.exposure import stretch_contrast
from moodtape.vision.presets import PRESETS

#: The shipped model's pixel scaling, with the classifier's float32 arithmetic: an input that differs
#: in the last bit can land on the other side of an int8 rounding step.
_SCALE, _OFFSET = np.float32(PRESETS["moodtape"].scale), np.float32(PRESETS["moodtape"].offset)


def network_input(images: np.ndarray[Any, Any], stretch: bool = True) -> np.ndarray[Any, Any]:
    """``(n, h, w)`` uint8 faces → ``(n, 1, h, w)`` float32 in [0, 1], stretched unless ``stretch`` is false."""
    faces = images.astype(np.float32)
    if stretch:
        faces = stretch_contrast(faces)
    return (faces * _SCALE + _OFFSET)[:, None]


def to_tensor(images: np.ndarray[Any, Any], stretch: bool = True) -> torch.Tensor:
    """:func:`network_input` as a tensor."""
    return torch.from_numpy(network_input(images, stretch))


def stretch_batch(batch: torch.Tensor) -> torch.Tensor:
    """A copy of ``batch`` (``(n, 1, h, w)`` float in [0, 1], e.g. augmented faces) with each face stretched.

    Augmentation darkens, flattens and brightens faces on purpose; stretching after it shows the
    network what the classifier will hand it for such a face, not the raw darkened one.
    """
    faces = stretch_contrast(batch[:, 0].float().numpy() * np.float32(255.0)) * _SCALE + _OFFSET
    return torch.from_numpy(np.ascontiguousarray(faces, dtype=np.float32)).unsqueeze(1)
