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
milliseconds on at most :data:`SAMPLE_SIDE` pixels square). The faces found there are classified in
the photo's own pixels, as always.

Until session 29 the noise was judged on the photo's centre square, clipped pixels and all: a pixel
clipped white or black carries no noise, so a noisy photo whose middle was a window blown out white
read as quiet and was never searched smoothed (Yale's photos at 35 % of the light with noise σ 18,
beside a clipped window in the middle of the frame: found 119 of 134, 134 when smoothed; read
2.8-3.6, where the same photos without the window read 14.3-17.7). The noise is now judged on
:data:`PATCHES` × :data:`PATCHES` squares spread over the whole photo (as many pixels as the centre
square had), leaving out each clipped pixel and its neighbours (:data:`CLIPPED_DARK`,
:data:`CLIPPED_BRIGHT`): 12.8-17.6 for those photos with the window.

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
#: The noise is estimated on at most this many pixels squared, in :data:`PATCHES` × :data:`PATCHES`
#: squares spread evenly over the photo (a photo no larger is judged whole).
SAMPLE_SIDE: Final[int] = 512
PATCHES: Final[int] = 4
#: Pixels at or under / at or over these levels are clipped, and so is their noise: they, and the
#: pixels next to them, are left out of the estimate.
CLIPPED_DARK: Final[int] = 2
CLIPPED_BRIGHT: Final[int] = 253
#: Immerkær's kernel: it cancels flat regions and straight ramps, and leaves noise (and edges).
KERNEL: Final[npt.NDArray[np.float32]] = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)

Gray = npt.NDArray[np.uint8]


def noise_level(gray: Gray) -> float:
    """Estimated noise σ of ``gray`` in gray levels (J. Immerkær, "Fast noise variance estimation",
    1996), on :func:`sample_patches` and away from clipped pixels, which hold no noise: a clipped
    window or night sky made a noisy photo read quiet. Edges and fine texture count too, so a
    detailed photo reads a little noisy: that costs it one search more when it shows no face,
    nothing else. ``0.0`` when nothing unclipped is left to judge."""
    total = 0.0
    counted = 0
    for patch in sample_patches(gray):
        if min(patch.shape) < 3:
            continue
        response = np.abs(cv2.filter2D(patch.astype(np.float32), -1, KERNEL))[1:-1, 1:-1]
        clipped = ((patch <= CLIPPED_DARK) | (patch >= CLIPPED_BRIGHT)).astype(np.uint8)
        near_clipped = cv2.dilate(clipped, np.ones((3, 3), np.uint8))[1:-1, 1:-1].astype(bool)
        kept = response[~near_clipped]
        total += float(kept.sum())
        counted += kept.size
    return math.sqrt(math.pi / 2) * total / counted / 6 if counted else 0.0


def sample_patches(gray: Gray) -> list[Gray]:
    """``gray`` itself when it fits in :data:`SAMPLE_SIDE` squared pixels; otherwise :data:`PATCHES`
    × :data:`PATCHES` squares of ``SAMPLE_SIDE / PATCHES`` pixels (or the photo's side, when less)
    spread evenly over it, corners included."""
    height, width = gray.shape
    if height * width <= SAMPLE_SIDE * SAMPLE_SIDE:
        return [gray]
    side_y, side_x = min(height, SAMPLE_SIDE // PATCHES), min(width, SAMPLE_SIDE // PATCHES)
    tops = np.linspace(0, height - side_y, PATCHES).round().astype(int)
    lefts = np.linspace(0, width - side_x, PATCHES).round().astype(int)
    return [gray[top : top + side_y, left : left + side_x] for top in tops for left in lefts]


def smoothed_copy(copy: Gray) -> Gray:
    """YuNet's detection ``copy`` of a noisy photo smoothed by :data:`SIGMA` of its pixels, to search."""
    return np.asarray(cv2.GaussianBlur(copy, (0, 0), SIGMA), np.uint8)


def smoothed(gray: Gray, detect_scale: float) -> Gray:
    """``gray`` smoothed by :data:`SIGMA` pixels of a detection copy at ``detect_scale``, to search,
    not to classify."""
    sigma = SIGMA / max(detect_scale, 1e-6)
    return np.asarray(cv2.GaussianBlur(gray, (0, 0), sigma), np.uint8)
