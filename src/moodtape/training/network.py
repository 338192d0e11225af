"""The emotion CNN: a compact VGG-style network for 48×48 gray faces.

Four stages of two 3×3 convolutions (batch-norm, ReLU) and a 2×2 max-pool take the face from
48×48 to 3×3; a small fully connected head keeps the spatial layout (where the mouth and brows
are matters for expressions, so we flatten rather than average-pool). ``width=32`` gives
channel counts 32-64-128-256, about 1.9 M parameters and 0.14 G multiply-adds per face: fast
enough to classify several faces per webcam frame on a laptop CPU under ONNX Runtime.

Input: ``(n, 1, 48, 48)`` float32 in [0, 1] (gray pixel / 255). Output: ``(n, 7)`` logits in
FER2013 label order.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from moodtape.emotions import NUM_EMOTIONS

INPUT_SIZE = 48
_STAGES = 4


def _stage(in_channels: int, out_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(2):
        layers += [
            nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class EmotionNet(nn.Module):
    """VGG-style emotion classifier; see the module docstring for shapes."""

    def __init__(self, width: int = 32, hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        channels = [1] + [width * 2**i for i in range(_STAGES)]
        self.features = nn.Sequential(*(_stage(a, b) for a, b in itertools.pairwise(channels)))
        side = INPUT_SIZE // 2**_STAGES
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels[-1] * side * side, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout / 2),
            nn.Linear(hidden, NUM_EMOTIONS),
        )
        self.width = width
        self.hidden = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result: torch.Tensor = self.head(self.features(x))
        return result
