"""Fixtures for the browser tests: one real ``moodtape serve`` and one Chromium per module.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``MOODTAPE_E2E_CHROMIUM``), driven by
Playwright; nothing is downloaded, and the tests skip when no browser can be had. Its fake camera
plays a Y4M video built from ``skimage.data.astronaut()``, a real smiling face.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsertools import (
    KEEP_STREAMS,
    TIMEOUT_MS,
    Server,
    camera_flags,
    chromium_path,
    start_server,
    stop_server,
    watched_page,
    write_face_video,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``moodtape serve`` on a free loopback port, offline, with its own data folder."""
    running = start_server(tmp_path_factory.mktemp("serve"))
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_face_video(tmp_path_factory.mktemp("camera") / "face.y4m")


@pytest.fixture(scope="module")
def browser(face_video: Path) -> Iterator[Any]:
    """Chromium whose fake camera plays the astronaut video."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium), nor MOODTAPE_E2E_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=camera_flags(face_video)
            )
        except Exception as exc:  # a broken or incompatible browser: skip, don't fail the suite
            pytest.skip(f"Chromium at {executable} could not be started by Playwright: {exc}")
        # expect() has its own 5 s default, apart from the context's: on a busy CI machine that
        # is too short for a page that waits on the server's model.
        sync_api.expect.set_options(timeout=TIMEOUT_MS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh desktop-sized page at ``/``; the test fails on JavaScript errors or CSP violations."""
    with watched_page(browser, server) as opened:
        yield opened


@pytest.fixture
def streams_page(browser: Any, server: Server) -> Iterator[Any]:
    """As :func:`page`, the camera's streams kept in ``window.__streams`` (``KEEP_STREAMS``), so that
    a test can see whether their tracks were ended."""
    with watched_page(browser, server, init_script=KEEP_STREAMS) as opened:
        yield opened
