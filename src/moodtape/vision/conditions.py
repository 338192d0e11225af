"""What cameras and photos do to a face that FER2013's crops rarely show, as plain image transforms.

One module serves two users: the robustness suite (``benchmarks/robustness.py``) applies each
condition at a fixed strength to every PublicTest face, and training
(:mod:`moodtape.training.augment`) draws random strengths of the same transforms, so what we
measure and what we train against are the same code. Every transform takes and returns a
``(h, w)`` uint8 gray face and needs only NumPy and OpenCV (no PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
Transform = Callable[[Gray], Gray]


def _to_uint8(image: npt.NDArray[np.floating]) -> Gray:
    return np.asarray(np.clip(np.rint(image), 0, 255), dtype=np.uint8)


def blur(image: Gray, sigma: float) -> Gray:
    """Gaussian blur (out of focus, motion-free), ``sigma`` in pixels of the 48-px face."""
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def noise(image: Gray, sigma: float, seed: int = 0) -> Gray:
    """Additive Gaussian sensor noise of ``sigma`` gray levels (seeded, so a suite run repeats)."""
    rng = np.random.default_rng(seed)
    return _to_uint8(image.astype(np.float32) + rng.normal(0.0, sigma, image.shape))


def jpeg(image: Gray, quality: int) -> Gray:
    """Encode and decode as JPEG at ``quality`` (1–100): block artefacts of compressed uploads."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid gray array
        raise ValueError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE), dtype=np.uint8)


def gamma(image: Gray, value: float) -> Gray:
    """``255 · (x / 255) ** value``: above 1 darkens (low light), below 1 brightens (over-exposure)."""
    table = _to_uint8(255.0 * (np.arange(256) / 255.0) ** value)
    return table[image]


def contrast(image: Gray, factor: float) -> Gray:
    """Scale the distance of every pixel from the face's mean by ``factor`` (below 1: washed out)."""
    mean = float(image.mean())
    return _to_uint8((image.astype(np.float32) - mean) * factor + mean)


def rotate(image: Gray, degrees: float) -> Gray:
    """Rotate about the centre (a tilted head, roll), filling the corners by reflection."""
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), degrees, 1.0)
    return np.asarray(
        cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101),
        dtype=np.uint8,
    )


def reframe(image: Gray, scale: float, dx: float = 0.0, dy: float = 0.0) -> Gray:
    """Crop a square of ``scale`` × the side, its centre moved by ``(dx, dy)`` × the side, resized back.

    ``scale`` below 1 is a tight crop (a detector box that cuts the brow or chin), above 1 a loose
    one (more background; the missing border is replicated).
    """
    h, w = image.shape
    side = scale * w
    cx, cy = w / 2 + dx * w, h / 2 + dy * h
    half = side / 2
    src = np.array([[cx - half, cy - half], [cx + half, cy - half], [cx - half, cy + half]], dtype=np.float32)
    dst = np.array([[0, 0], [w, 0], [0, h]], dtype=np.float32)
    matrix = cv2.getAffineTransform(src, dst)
    return np.asarray(
        cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def band(image: Gray, top: float, bottom: float, value: int) -> Gray:
    """Paint rows ``top``–``bottom`` (fractions of the height) with ``value``: glasses, a mask."""
    h = image.shape[0]
    out = image.copy()
    out[round(top * h) : round(bottom * h)] = value
    return out


def glasses(image: Gray) -> Gray:
    """A dark band over the eyes (sunglasses): rows 25–45 % of a FER2013-framed face."""
    return band(image, 0.25, 0.45, 25)


def face_mask(image: Gray) -> Gray:
    """A light band over mouth and chin (a surgical mask): rows 62 % to the bottom."""
    return band(image, 0.62, 1.0, 200)


def downscale(image: Gray, side: int) -> Gray:
    """Shrink to ``side`` pixels and back (a small, far face from a webcam, upscaled)."""
    h, w = image.shape
    small = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


@dataclass(frozen=True)
class Condition:
    """One named condition of the robustness suite: a transform at a fixed strength."""

    name: str
    description: str
    transform: Transform


#: The suite's conditions, in the order its report lists them. Strengths are fixed so that runs
#: compare; training draws random strengths around them (see ``training/augment.py``).
CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "the face as FER2013 gives it", lambda x: x),
    Condition("blur", "Gaussian blur, sigma 1.5 px", lambda x: blur(x, 1.5)),
    Condition("noise", "Gaussian noise, sigma 20 gray levels", lambda x: noise(x, 20.0)),
    Condition("jpeg-q20", "JPEG quality 20", lambda x: jpeg(x, 20)),
    Condition("gamma-low", "low light: gamma 2.2", lambda x: gamma(x, 2.2)),
    Condition("gamma-high", "over-exposed: gamma 0.45", lambda x: gamma(x, 0.45)),
    Condition("low-contrast", "contrast × 0.4", lambda x: contrast(x, 0.4)),
    Condition("rotate-20", "rolled 20° anticlockwise", lambda x: rotate(x, 20.0)),
    Condition("rotate+20", "rolled 20° clockwise", lambda x: rotate(x, -20.0)),
    Condition("crop-tight", "crop 0.8 × the side", lambda x: reframe(x, 0.8)),
    Condition("crop-loose", "crop 1.25 × the side", lambda x: reframe(x, 1.25)),
    Condition("crop-offset", "crop shifted 12 % right and down", lambda x: reframe(x, 1.0, 0.12, 0.12)),
    Condition("glasses", "dark band over the eyes", glasses),
    Condition("mask", "light band over mouth and chin", face_mask),
    Condition("downscale", "down to 16 px and back up", lambda x: downscale(x, 16)),
)


def condition(name: str) -> Condition:
    """The suite condition called ``name`` (raises ``KeyError`` listing the names otherwise)."""
    for item in CONDITIONS:
        if item.name == name:
            return item
    raise KeyError(f"unknown condition {name!r}; known: {', '.join(c.name for c in CONDITIONS)}")
