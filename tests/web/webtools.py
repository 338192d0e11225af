"""Helpers shared by the web tests (imported by name: the tests folders are not packages)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
from flask import Flask
from flask.testing import FlaskClient

AppFactory = Callable[..., Flask]


def encode(image: npt.NDArray[np.uint8], ext: str = ".jpg") -> bytes:
    """``image`` (BGR) encoded by OpenCV in the format ``ext`` names."""
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """Headers carrying ``client``'s CSRF token (the call also gives the client its session cookie)."""
    return {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}


def same_session(app: Flask, other: FlaskClient) -> FlaskClient:
    """A client of ``app`` carrying ``other``'s session cookie: the same browser on another instance or worker."""
    client = app.test_client()
    cookie = other.get_cookie("moodtape_session")
    assert cookie is not None
    client.set_cookie("moodtape_session", cookie.value)
    return client
