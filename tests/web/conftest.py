"""Fixtures for the web app: a fresh app per test on a temporary data folder and a tiny catalog."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, csrf_headers, encode

from moodtape.config import Settings
from moodtape.providers.catalog import Catalog
from moodtape.recommender.engine import Recommender
from moodtape.store import Store
from moodtape.types import Track, Video
from moodtape.vision.pipeline import Analyzer, get_analyzer
from moodtape.web import create_app


def small_catalog() -> Catalog:
    """30 tracks spread over the mood plane (every 3rd with a Deezer id) and 10 videos."""
    tracks = [
        Track(
            f"Song {i}",
            f"Artist {i}",
            valence=(i % 6) / 5,
            energy=(i // 6) / 4,
            genre="pop" if i % 2 else "folk",
            deezer_id=str(1000 + i) if i % 3 == 0 else None,
            spotify_id="4uLU6hMCjMI75M1A2tKUQC" if i == 1 else None,
        )
        for i in range(30)
    ]
    videos = [
        Video(f"Clip {i}", f"Channel {i}", valence=i / 9, energy=(9 - i) / 9, youtube_id=f"vid{i:08d}")
        for i in range(10)
    ]
    return Catalog.from_items(tracks, videos)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``localhost`` (PEM), made once; skips without ``openssl``."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    from benchmarks.slow_clients_single import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def real_analyzer() -> Analyzer:
    """The bundled model with one ONNX thread, loaded once for the whole test run."""
    return get_analyzer(None, None, 1)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**values: str) -> Settings:
        base = {"MOODTAPE_DATA_DIR": str(tmp_path / "data"), "MOODTAPE_OFFLINE": "true"}
        return Settings.load(overrides={**base, **values}, environ={}, dotenv=None)

    return make


@pytest.fixture
def make_app(tmp_path: Path, make_settings: Callable[..., Settings], real_analyzer: Analyzer) -> AppFactory:
    """Build an app; keywords are settings overrides, ``analyzer=`` replaces the model, ``store=`` the store."""

    def make(
        analyzer: Any = real_analyzer, recommender: Recommender | None = None, store: Store | None = None, **values: str
    ) -> Flask:
        engine = recommender or Recommender([], small_catalog(), store=store or Store(tmp_path / "store.db"))
        app = create_app(make_settings(**values), analyzer=analyzer, recommender=engine)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def still_limiter_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the clock of the in-memory rate limiter, mid-window.

    Its sliding-window counter keeps windows aligned to the clock and weighs the previous window's
    hits down (and floors the sum) once a new one starts, so "N requests, then 429" depends on
    whether a boundary falls inside the test: on a loaded machine it sometimes does. With a still
    clock every hit lands in one window and the count is exact.
    """
    import limits.storage.memory

    instant = 1_800_000_000.25  # a quarter second into a window of 1, 2, 4 or 5 seconds
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: instant))


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def csrf(client: FlaskClient) -> dict[str, str]:
    """Headers carrying this client's CSRF token (the session cookie comes with the first call)."""
    return csrf_headers(client)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event that work a test holds (a hanging ping, a slow build) waits on; set when the test
    ends, passed or failed, so that no thread of it is left waiting into the next test."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def frame_640(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    """The astronaut pasted into a 640×480 gray frame, as JPEG."""
    frame = np.full((480, 640, 3), 90, np.uint8)
    frame[40:440, 120:520] = cv2.resize(astronaut_bgr, (400, 400))
    return encode(frame)
