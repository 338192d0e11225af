"""Helpers shared by the web tests (imported by name: the tests folders are not packages)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from moodtape.store import Store
from moodtape.vision.pipeline import Analyzer
from moodtape.web.multiprocess import share_state
from moodtape.web.server import make_server
from services import free_port

AppFactory = Callable[..., Flask]

#: The places a session's state can live, for tests that run on each (:func:`app_with_state_in`).
STATE_BACKENDS = ("memory", "sqlite-shared", "redis", "postgresql-shared")


def app_with_state_in(request: pytest.FixtureRequest, make_app: AppFactory) -> Flask:
    """The app with its session state in ``request.param``, one of :data:`STATE_BACKENDS` (skips when
    a server is missing): a fixture parametrised over them returns this."""
    if request.param == "memory":
        return make_app()
    if request.param == "redis":
        return make_app(MOODTAPE_REDIS_URL=request.getfixturevalue("redis_url"))
    built = (
        make_app(store=Store(request.getfixturevalue("postgres")))
        if request.param == "postgresql-shared"
        else make_app()
    )
    share_state(built, built.extensions["moodtape"].settings, processes=2)  # short-lived state in the store
    return built


def encode(image: npt.NDArray[np.uint8], ext: str = ".jpg") -> bytes:
    """``image`` (BGR) encoded by OpenCV in the format ``ext`` names."""
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """Headers carrying ``client``'s CSRF token (the call also gives the client its session cookie)."""
    return {"X-CSRF-Token": client.get("/api/config").get_json()["csrf_token"]}


def post_calibration(
    client: FlaskClient, frame: bytes, emotion: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Send ``frame`` (a JPEG) as one calibration example and give the answer, checked to be a 200.

    ``emotion`` goes in the query; None sends none (the server takes neutral). ``headers``: the CSRF
    headers a test already holds; without them they are fetched, which is one more request.
    """
    url = "/api/calibration" if emotion is None else f"/api/calibration?emotion={emotion}"
    sent = headers if headers is not None else csrf_headers(client)
    reply = client.post(url, data=frame, content_type="image/jpeg", headers=sent)
    assert reply.status_code == 200, reply.get_json()
    answer = reply.get_json()
    assert isinstance(answer, dict)
    return answer


def same_session(app: Flask, other: FlaskClient) -> FlaskClient:
    """A client of ``app`` carrying ``other``'s session cookie: the same browser on another instance or worker."""
    client = app.test_client()
    cookie = other.get_cookie("moodtape_session")
    assert cookie is not None
    client.set_cookie("moodtape_session", cookie.value)
    return client


@contextmanager
def running_server(app: Flask, threads: int = 2) -> Iterator[str]:
    """``app`` on the real server (``moodtape serve``'s) on a free loopback port; yields its base URL."""
    port = free_port()
    server = make_server(app, "127.0.0.1", port, threads=threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=10)


def closed_by_server(sock: socket.socket, wait: float) -> bool:
    """Whether the server closed ``sock`` within ``wait`` seconds (what it already sent is read and dropped)."""
    sock.settimeout(wait)
    try:
        while sock.recv(1 << 20):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


class HeldAnalyzer(Analyzer):
    """The real analyzer, except that pictures ``holds`` picks wait for :attr:`release`.

    Stands in for a slow analysis without any sleeping: :attr:`started` says one is waiting.
    """

    def __init__(self, real: Analyzer, holds: Callable[[npt.NDArray[np.uint8]], bool]) -> None:
        super().__init__(real.detector, real.classifier, real.framing, real.max_pixels, real.align)
        self.holds = holds
        self.started = threading.Event()
        self.release = threading.Event()

    def analyze_gray(self, gray: npt.NDArray[np.uint8], *args: Any, **kwargs: Any) -> Any:
        if self.holds(gray):
            self.started.set()
            assert self.release.wait(60), "the test never released the held analysis"
        return super().analyze_gray(gray, *args, **kwargs)
