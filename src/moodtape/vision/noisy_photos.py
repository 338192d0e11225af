"""Noisy photos: where nothing is found, look again in a smoothed copy.

A phone photo taken in dim light (not dark enough for :mod:`moodtape.vision.dark_photos`) carries
sensor noise that the camera's JPEG keeps. YuNet misses many faces in it: Yale's photos at 35 % of
the light with noise σ 12 and JPEG quality 70 were found 118 of 134 times (every one as they are),
though nine tenths of each lay above gray 79, so the dark search never ran. A copy smoothed by a
Gaussian of :data:`SIGMA` pixels *of the detection copy* showed all 16 missed faces; CLAHE (the dark
search's copy) and a stretch to the full range showed none: it is the noise, not the light.

A photo with no face found whose noise (:func:`noise_level`) is at least :data:`NOISY_FROM` is
searched once more in that smoothed copy, at the capped scale only (its faces are of the usual
size). Photos with a face found, and quiet faceless photos, pay only the noise estimate (a few
milliseconds on at most :data:`SAMPLE_SIDE` pixels square). The noise is judged on that centre
square only, so a noisy photo whose centre is clipped white or black (a window, a night sky) reads
as quiet and is not searched smoothed. The faces found there are classified in the photo's own
pixels, as always.

The detection copy is smoothed once made (:func:`smoothed_copy`), not the photo before it is
shrunk: a 12-MP faceless photo blurred at its own size by about 2 pixels paid for 12 megapixels.
Only a photo whose smoothed copy shows a face is smoothed at its own size (:func:`smoothed`), for
the turned windows of :mod:`moodtape.vision.upside_down` to look in.
"""

from __future__ import annotations

import math
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

#: The smoothed copy's Gaussian, in pixels of YuNet's detection copy (1.0 showed 16 of the 16 faces
#: missed in Yale's noisy photos; 0.66 showed 15).
SIGMA: Final[float] = 1.0
#: A photo is noisy from this estimated noise σ in gray levels (:func:`noise_level`). Yale's noisy photos
#: above read 5.3-6.8 (the JPEG smooths some of the noise away), as they are 0.4-1.9; textured
#: pictures read 4-12 (gravel 4.8, grass 11.8) and pay one search more when they show no face.
NOISY_FROM: Final[float] = 4.0
#: The noise is estimated on the photo's central square of at most this side.
SAMPLE_SIDE: Final[int] = 512
#: Immerkær's kernel: it cancels flat regions and straight ramps, and leaves noise (and edges).
KERNEL: Final[npt.NDArray[np.float32]] = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)

Gray = npt.NDArray[np.uint8]


def noise_level(gray: Gray) -> float:
    """Estimated noise σ of ``gray`` in gray levels (J. Immerkær, "Fast noise variance estimation",
    1996), on its central :data:`SAMPLE_SIDE` square. Edges and fine texture count too, so a detailed
    photo reads a little noisy: that costs it one search more when it shows no face, nothing else."""
    height, width = gray.shape
    top, left = max(0, (height - SAMPLE_SIDE) // 2), max(0, (width - SAMPLE_SIDE) // 2)
    sample = gray[top : top + SAMPLE_SIDE, left : left + SAMPLE_SIDE].astype(np.float32)
    if min(sample.shape) < 3:
        return 0.0
    response = cv2.filter2D(sample, -1, KERNEL)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2) * np.abs(response).mean() / 6)


def smoothed_copy(copy: Gray) -> Gray:
    """YuNet's detection ``copy`` of a noisy photo smoothed by :data:`SIGMA` of its pixels, to search."""
    return np.asarray(cv2.GaussianBlur(copy, (0, 0), SIGMA), np.uint8)


def smoothed(gray: Gray, detect_scale: float) -> Gray:
    """``gray`` smoothed by :data:`SIGMA` pixels of a detection copy at ``detect_scale``, to search,
    not to classify."""
    sigma = SIGMA / max(detect_scale, 1e-6)
    return np.asarray(cv2.GaussianBlur(gray, (0, 0), sigma), np.uint8)
