"""Helpers shared by the web tests (imported by name: the tests folders are not packages)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
from flask import Flask

AppFactory = Callable[..., Flask]


def encode(image: npt.NDArray[np.uint8], ext: str = ".jpg") -> bytes:
    """``image`` (BGR) encoded by OpenCV in the format ``ext`` names."""
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()
