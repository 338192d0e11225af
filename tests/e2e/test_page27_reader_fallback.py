"""When the on-device reader cannot start, the server reads the frames, and the page says so in plain
words (session 27).

Before: the note under the camera showed ONNX Runtime Web's own message ("Frames are read on this
moodtape server, in memory. (on-device reading is unavailable: no available backend found. ERR:
[wasm] SecurityError: …)", or "… Aborted(CompileError: WebAssembly.instantiate(): expected 4 bytes,
fell off end @+0). Build with -sASSERTIONS for more info."); and a runtime whose worker never
started (its files held up) left "Loading the on-device reader…" under a live picture for good:
nothing read the frames, no mood, no list, nothing said.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsertools import TIMEOUT_MS, Server, camera_flags, watched_page

from moodtape.web.ondevice import runtime_installed

STATIC = Path(__file__).resolve().parents[2] / "src" / "moodtape" / "web" / "static"
SERVER_PATH = "#camera-mode[data-path=server]"
#: Words of the runtime's own that mean nothing to the person at the camera.
JARGON = ("ERR", "wasm", "backend", "Aborted", "SecurityError", "ASSERTIONS")

#: Installed before the page's scripts: no worker can start (as under a policy that blocks them).
NO_WORKERS = """
window.Worker = class {
  constructor() { throw new DOMException("Worker blocked", "SecurityError"); }
};
"""

#: The page's own module instance (same address as app.js imports it), its waits shortened to 3 s.
SHORT_WAIT = """async () => {
  const entry = document.querySelector('script[type="module"]').src;
  const mode = await import(entry.replace("app.js", "ondevice/mode.js"));
  mode.readerStart.deadlineMs = 3000;
  mode.readerStart.configMs = 3000;
}"""
#: A name for this machine that is not a loopback name: there `auto` (the shipped default) reads
#: the frames on the device, as for anyone who opens the page from another machine.
LAN_NAME = "moodtape.test"

pytestmark = pytest.mark.skipif(
    not runtime_installed(STATIC), reason="ONNX Runtime Web is not in static/vendor/ort (run make, which needs npm)"
)


@pytest.fixture
def device_page(browser: Any, server: Server) -> Iterator[Any]:
    """A page at ``/?frames=device`` whose runtime's worker cannot start."""
    with watched_page(browser, server, init_script=NO_WORKERS) as opened:
        opened.goto(server.url + "?frames=device")
        opened.wait_for_selector("body[data-ready='true']")
        yield opened


def test_a_reader_that_cannot_start_is_explained_in_plain_words(device_page: Any) -> None:
    page = device_page
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_selector(SERVER_PATH, state="attached", timeout=60_000)
    page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=TIMEOUT_MS)
    note = page.inner_text("#camera-mode")
    assert note == (
        "Frames are read on this moodtape server, in memory. The on-device reader could not start in this browser."
    ), note
    assert not [word for word in JARGON if word in note], note
    # A status region: a screen reader hears that the frames now go to the server.
    assert page.get_by_role("status").filter(has_text="read on this moodtape server").count() == 1


@pytest.fixture
def lan_page(browser: Any, server: Server, face_video: Path) -> Iterator[Any]:
    """The page as opened from another machine (a non-loopback host name), with `auto`: the device
    path is the default there, not asked for by name. Its waits are shortened to 3 s."""
    port = server.url.rstrip("/").rsplit(":", 1)[1]
    origin = f"http://{LAN_NAME}:{port}"
    flags = [f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1", f"--unsafely-treat-insecure-origin-as-secure={origin}"]
    own = browser.browser_type.launch(
        executable_path=browser_executable(), headless=True, args=camera_flags(face_video) + flags
    )
    try:
        context = own.new_context(viewport={"width": 1280, "height": 900}, base_url=origin, permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route("**/vendor/ort/*.wasm", lambda route: None)  # never answered: the runtime never loads
        page.route("**/api/ondevice", shipped_default)
        page.goto(origin + "/")
        page.wait_for_selector("body[data-ready='true']")
        page.evaluate(SHORT_WAIT)
        yield page
        assert errors == []
    finally:
        own.close()


def shipped_default(route: Any) -> None:
    """The server's settings as shipped (MOODTAPE_FRAMES=auto; the tests' server says `server`)."""
    settings = route.fetch(url=route.request.url.replace(LAN_NAME, "127.0.0.1")).json()
    route.fulfill(json={**settings, "default": "auto"})


def browser_executable() -> str:
    from browsertools import chromium_path

    path = chromium_path()
    assert path is not None
    return str(path)


def test_a_reader_that_never_loads_hands_the_frames_to_the_server(lan_page: Any) -> None:
    """Before (session 26): "Loading the on-device reader…" stayed under a live picture for good."""
    page = lan_page
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_selector("#camera-mode[data-path=loading]", state="attached", timeout=TIMEOUT_MS)
    page.wait_for_selector(SERVER_PATH, state="attached", timeout=15_000)
    assert page.inner_text("#camera-mode") == (
        "Frames are read on this moodtape server, in memory. The on-device reader did not load in 3 s."
    )
    page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=TIMEOUT_MS)


def test_a_reader_asked_for_by_name_is_waited_for_and_no_frame_goes_to_the_server(browser: Any, server: Server) -> None:
    """With `?frames=device` a slow reader is not replaced by the server after the wait: the person
    asked for their frames to stay on the device (page27's first version sent them to the server)."""
    with watched_page(browser, server) as page:
        posted: list[str] = []
        page.on("request", lambda request: "/api/analyze" in request.url and posted.append(request.url))
        page.route("**/vendor/ort/*.wasm", lambda route: None)  # never answered
        page.goto(server.url + "?frames=device")
        page.wait_for_selector("body[data-ready='true']")
        page.evaluate(SHORT_WAIT)
        page.get_by_role("button", name="Start camera").click()
        page.wait_for_selector("#camera-mode:has-text('frames are not sent to the server')", timeout=15_000)
        page.wait_for_timeout(2000)
        assert page.get_attribute("#camera-mode", "data-path") == "loading"
        assert posted == []
        page.unroute("**/vendor/ort/*.wasm")


def test_a_settings_request_that_hangs_does_not_stop_the_server_reading(browser: Any, server: Server) -> None:
    """Before: GET /api/ondevice never answered left the picture unread in either mode, for good."""
    with watched_page(browser, server) as page:
        page.route("**/api/ondevice", lambda route: None)  # never answered
        page.evaluate(SHORT_WAIT)
        page.get_by_role("button", name="Start camera").click()
        page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=15_000)
        # The server path was wanted anyway (the shipped `auto`, on this machine): nothing to explain.
        assert page.inner_text("#camera-mode") == "Frames are read on this moodtape server, in memory."
        page.unroute("**/api/ondevice")


def test_a_server_that_refuses_its_settings_is_not_blamed_on_the_browser(browser: Any, server: Server) -> None:
    """Before: /api/ondevice answering 503 read "The on-device reader could not start in this
    browser.", on the default page too, where the server reads the frames anyway."""
    with watched_page(browser, server) as page:
        page.route(
            "**/api/ondevice", lambda route: route.fulfill(status=503, body="{}", content_type="application/json")
        )
        page.get_by_role("button", name="Start camera").click()
        page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=TIMEOUT_MS)
        assert page.inner_text("#camera-mode") == "Frames are read on this moodtape server, in memory."
        page.goto(server.url + "?frames=device")
        page.wait_for_selector("body[data-ready='true']")
        page.get_by_role("button", name="Start camera").click()
        page.wait_for_selector("#faces-summary:has-text('1 face')", timeout=TIMEOUT_MS)
        assert page.inner_text("#camera-mode") == (
            "Frames are read on this moodtape server, in memory. This moodtape server did not say whether frames"
            " can be read on this device."
        )
        page.unroute("**/api/ondevice")
