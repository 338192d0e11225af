"""Fixtures shared across test folders: the astronaut photo and tiny FER2013-style datasets, built in code."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, settings

from fer_faces import synthetic_face
from moodtape.emotions import EMOTIONS
from redis_server import RedisServer
from redis_server import missing_reason as redis_missing_reason
from services import PostgresServer, missing_reason

# Property-based tests (fuzzing): a few dozen derandomized examples each in `make test`; set
# MOODTAPE_FUZZ=long for a longer, random run (README, Development). A deadline catches hangs.
settings.register_profile(
    "default",
    max_examples=25,
    derandomize=True,
    deadline=10_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("long", settings.get_profile("default"), max_examples=1_000, derandomize=False)
settings.load_profile("long" if os.environ.get("MOODTAPE_FUZZ") == "long" else "default")


@pytest.fixture(scope="session")
def astronaut_bgr() -> npt.NDArray[np.uint8]:
    """scikit-image's astronaut (Eileen Collins, smiling), 512×512, converted to OpenCV's BGR order."""
    data = pytest.importorskip("skimage.data")
    rgb = data.astronaut()
    return np.ascontiguousarray(rgb[..., ::-1])


@pytest.fixture(scope="session")
def astronaut_rgb(astronaut_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The astronaut in RGB order, as Pillow and the HEIC/AVIF writers take it."""
    return np.ascontiguousarray(astronaut_bgr[..., ::-1])


@pytest.fixture
def heic_read_by_moodtape_alone(monkeypatch: pytest.MonkeyPatch, astronaut_rgb: npt.NDArray[np.uint8]) -> None:
    """No HEIF opener in Pillow for this test (imageio, loading the astronaut, adds one), so that reading
    a HEIC depends on moodtape registering pillow-heif's (tests/heif_pictures.py)."""
    from heif_pictures import forget_heif_opener

    forget_heif_opener(monkeypatch)


@pytest.fixture(scope="session")
def astronaut_conditions(astronaut_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """The astronaut's head under every robustness condition, as the model's input ``(15, 1, 48, 48)``
    in [0, 1] (vision/conditions.py): faces that reach every corner of the int8 model's arithmetic."""
    from moodtape.vision import conditions

    gray = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY)[30:230, 150:350]
    face = np.asarray(cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA))
    stack = np.stack([item.transform(face) for item in conditions.CONDITIONS])
    return (stack.astype(np.float32) / 255.0)[:, None]


@pytest.fixture(scope="session")
def astronaut_jpeg_bytes(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    ok, encoded = cv2.imencode(".jpg", astronaut_bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return encoded.tobytes()


@pytest.fixture
def astronaut_jpeg(tmp_path: Path, astronaut_jpeg_bytes: bytes) -> Path:
    path = tmp_path / "astronaut.jpg"
    path.write_bytes(astronaut_jpeg_bytes)
    return path


FaceFolderFactory = Callable[..., Path]


@pytest.fixture
def make_face_folder(tmp_path: Path) -> FaceFolderFactory:
    """Write ``<root>/<emotion>/<n>.jpg`` 48×48 faces (Kaggle layout); returns the root."""

    def make(name: str = "faces", per_class: int = 3, labels: tuple[str, ...] = EMOTIONS, seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        root = tmp_path / name
        for label in labels:
            folder = root / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                face = synthetic_face(EMOTIONS.index(label), rng)
                assert cv2.imwrite(str(folder / f"{i:03d}.jpg"), face, [cv2.IMWRITE_JPEG_QUALITY, 98])
        return root

    return make


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real Redis for the whole run (tests flush what they use); skips when not installed."""
    reason = redis_missing_reason()
    if reason:
        pytest.skip(reason)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an empty Redis database."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture(autouse=True)
def _stop_key_heartbeats() -> Iterator[None]:
    """A test's app instances go without a SIGTERM: their secret-key heartbeats must not go on
    noting keys in the next test's Redis (web/secret_key.py)."""
    yield
    from moodtape.web.secret_key import stop_heartbeats

    stop_heartbeats()


@pytest.fixture(autouse=True)
def _provider_failures_news_again() -> None:
    """Each test's services log their failures as a fresh process's would: the log of what was said
    is the process's (providers/http.py, FailureLog), and a test expecting a line an earlier test
    logged would otherwise see none."""
    http = sys.modules.get("moodtape.providers.http")
    if http is not None:  # not imported yet: nothing logged yet either
        http.FAILURES_LOGGED.clear()


def _own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The logger's handlers other than pytest's own (its log capture comes and goes each phase)."""
    return [handler for handler in logger.handlers if not type(handler).__module__.startswith("_pytest")]


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Undo what a test did to logging as `moodtape serve` sets it up (web/logs.py).

    `serve` configures logging before it checks its other options, so a test of `serve --threads 0`
    (or of the start-up) left a root handler writing to that test's captured stderr, closed since:
    every later test that logged printed "--- Logging error ---" into its own stderr. The summing
    filters it puts on the flood-prone loggers would likewise hold back a later test's first line.
    """
    from moodtape.web.logs import flood_loggers

    root, alembic = logging.getLogger(), logging.getLogger("alembic")
    handlers, level, alembic_level = _own_handlers(root), root.level, alembic.level
    filters = {logger: list(logger.filters) for logger in flood_loggers()}
    yield
    pytests = [handler for handler in root.handlers if handler not in _own_handlers(root)]
    root.handlers[:] = [*pytests, *handlers]
    root.setLevel(level)
    alembic.setLevel(alembic_level)
    for logger, kept in filters.items():
        for added in [found for found in logger.filters if found not in kept]:
            getattr(added, "close", lambda: None)()
            logger.removeFilter(added)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL 15 server for the whole run (skips when PostgreSQL is not installed)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def postgres(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty PostgreSQL database on the shared server."""
    return postgres_server.create_database()


@pytest.fixture
def make_postgres() -> Iterator[Callable[[], PostgresServer]]:
    """Start private PostgreSQL servers a test may stop and restart; all are removed afterwards."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    servers: list[PostgresServer] = []

    def make() -> PostgresServer:
        server = PostgresServer()
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.cleanup()
