"""Helpers for the browser tests: Chromium lookup, test pictures, the fake camera video, pages.

Fixtures live in ``conftest.py``; these are plain functions the tests import.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from services import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
#: Generous: the CPU may be shared with a training job.
TIMEOUT_MS = 20_000
SERVER_START_S = 60.0

BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Records CSP violations in the page, where the test can read them (console text varies by version).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def chromium_path() -> str | None:
    """The system Chromium, or None; never a downloaded browser."""
    configured = os.environ.get("MOODTAPE_E2E_CHROMIUM")
    for candidate in (configured, "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


# ---- test images ---------------------------------------------------------------------------------


def astronaut_rgb() -> np.ndarray:
    """The astronaut photo (512×512 RGB, a real smiling face)."""
    skimage_data = pytest.importorskip("skimage.data")
    image: np.ndarray = skimage_data.astronaut()
    return image


def jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def gradient_rgb(width: int = 480, height: int = 320) -> np.ndarray:
    """A smooth colour gradient: a valid picture with no face in it."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    red = np.broadcast_to(x, (height, width))
    green = np.broadcast_to(y, (height, width))
    blue = np.full((height, width), 160.0, np.float32)
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def _rgb_to_yuv420(rgb: np.ndarray) -> bytes:
    """BT.601 full-range RGB → planar Y, U, V with 2×2 chroma subsampling (as Y4M C420jpeg)."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0
    v = 0.5 * r - 0.418688 * g - 0.081312 * b + 128.0
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        small: np.ndarray = c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        return small

    planes = [np.clip(p + 0.5, 0, 255).astype(np.uint8) for p in (y, sub(u), sub(v))]
    return b"".join(p.tobytes() for p in planes)


def write_face_video(path: Path, *, width: int = 640, height: int = 480, fps: int = 15, seconds: float = 2.0) -> Path:
    """A YUV4MPEG2 video of the astronaut on a grey background, drifting slowly (a live-ish face)."""
    from PIL import Image

    face = np.asarray(Image.fromarray(astronaut_rgb()).resize((height, height), Image.Resampling.BILINEAR))
    frames = int(fps * seconds)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for i in range(frames):
            canvas = np.full((height, width, 3), 118, np.uint8)
            shift = round(12 * float(np.sin(2 * np.pi * i / frames)))
            left = (width - height) // 2 + shift
            canvas[:, left : left + height] = face
            out.write(b"FRAME\n")
            out.write(_rgb_to_yuv420(canvas))
    return path


# ---- the server ----------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"moodtape serve exited early:\n{server.log.read_text(errors='replace')[-3000:]}")
        try:
            reply = httpx.get(f"{server.url}healthz", timeout=2.0)
            if reply.status_code == 200 and reply.json().get("model_ready", True):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"moodtape serve did not become ready in {SERVER_START_S:.0f} s")


def start_server(tmp: Path) -> Server:
    """Start ``moodtape serve`` on a free loopback port, offline, with its own data folder; wait for it."""
    port = free_port()
    env = {
        **os.environ,
        "MOODTAPE_OFFLINE": "true",
        "MOODTAPE_DATA_DIR": str(tmp / "data"),
        "MOODTAPE_DATABASE_URL": "",
        "PYTHONUNBUFFERED": "1",
        # Most page tests fake or count /api/analyze: the server path. test_ondevice.py asks for
        # the device path with ?frames=device.
        "MOODTAPE_FRAMES": "server",
    }
    for secret in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "YOUTUBE_API_KEY"):
        env.pop(secret, None)
    log = tmp / "serve.log"
    command = [sys.executable, "-c", "from moodtape.cli import main; main()", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=tmp, stdout=sink, stderr=subprocess.STDOUT)
    running = Server(f"http://127.0.0.1:{port}/", process, log)
    try:
        _wait_until_ready(running)
    except BaseException:
        stop_server(running)
        raise
    return running


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# ---- the browser ---------------------------------------------------------------------------------


def camera_flags(video: Path) -> list[str]:
    """Chromium flags for a fake camera that plays ``video`` and is allowed without a prompt."""
    return [
        *BASE_FLAGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


@dataclass
class PageWatch:
    """Errors seen on a page: JavaScript exceptions and console lines about the CSP."""

    errors: list[str] = field(default_factory=list)

    def check(self, page: Any) -> None:
        violations = page.evaluate("window.__cspViolations || []")
        assert not violations, f"Content-Security-Policy violations: {violations}"
        assert not self.errors, f"errors in the page: {self.errors}"


def open_page(
    browser: Any,
    server: Server,
    *,
    width: int = 1280,
    height: int = 900,
    init_script: str = "",
    touch: bool = False,
) -> tuple[Any, Any, PageWatch]:
    """A fresh context (own cookies) and page at ``/``, watched for errors; returns (context, page, watch).
    ``touch``: the screen is a touch screen too (``page.tap`` works)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=server.url, permissions=["camera"], has_touch=touch
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_RECORDER + init_script)
    page = context.new_page()
    watch = PageWatch()
    page.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))

    def console(message: Any) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            watch.errors.append(f"console: {text}")

    page.on("console", console)
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='true']")
    return context, page, watch


@contextmanager
def watched_page(browser: Any, server: Server, **options: Any) -> Iterator[Any]:
    """:func:`open_page` (``options`` are its keywords) for the ``with`` block; the page must have
    seen no error by the block's end, and its context is closed however the block ends."""
    context, page, watch = open_page(browser, server, **options)
    try:
        yield page
        watch.check(page)
    finally:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save ``artifacts/e2e/<name>.png`` (git-ignored) for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def write_changing_face_video(path: Path, *, width: int = 640, height: int = 480, fps: int = 15) -> Path:
    """A face that comes and goes every 2–9 frames (0.13–0.6 s), as a restless person in front of a
    camera does: the astronaut, then an empty grey frame, in a fixed pseudo-random rhythm (6 s loop)."""
    from PIL import Image

    face = np.asarray(Image.fromarray(astronaut_rgb()).resize((height, height), Image.Resampling.BILINEAR))
    with_face = np.full((height, width, 3), 118, np.uint8)
    left = (width - height) // 2
    with_face[:, left : left + height] = face
    empty = np.full((height, width, 3), 118, np.uint8)
    frames: list[np.ndarray] = []
    rng = np.random.default_rng(13)
    showing = True
    while len(frames) < 6 * fps:
        frames += [with_face if showing else empty] * int(rng.integers(2, 10))
        showing = not showing
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in frames[: 6 * fps]:
            out.write(b"FRAME\n")
            out.write(_rgb_to_yuv420(frame))
    return path


# ---- accessibility -------------------------------------------------------------------------------

#: An init script (``.format(percent=…)``) that raises the browser's text size as its font-size
#: setting does: rem grows, and so does the body's 16px that an em (the buttons' labels,
#: style.css .btn) is counted from, so all text is the given size.
TEXT_SIZE = """(() => {{
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`html {{ font-size: {percent}% !important; }}
    body {{ font-size: calc(16px * {percent} / 100) !important; }}`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}})();"""

#: The calibration prompt's advice after a neutral step that read as an expression (calibration31/32 tests).
REST_AGAIN = (
    'Choose "Calibrate again" with a relaxed face; if this is how your face rests, the neutral baseline alone is used.'
)

AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


#: A Deezer preview address; the host is made unreachable, so the player says it cannot load.
PREVIEW_URL = "https://cdnt-preview.dzcdn.net/api/1/1/a/b/c/0/preview.mp3"


def serve_previews(page: Any, *, title: str | None = None) -> None:
    """Give every item of the lists the page loads a preview (the offline catalog has none), the
    preview host unreachable; ``title`` replaces every item's title (a long one, for layout)."""

    def with_previews(route: Any) -> None:
        reply = route.fetch()
        data = reply.json()
        for item in data["items"]:
            item["preview_url"] = PREVIEW_URL
            if title is not None:
                item["title"] = title
        route.fulfill(response=reply, body=json.dumps(data))

    page.route("**/api/lists?*", with_previews)
    page.route("https://*.dzcdn.net/**", lambda route: route.abort("internetdisconnected"))


def open_preview_with_the_camera_on(page: Any) -> None:
    """Start the camera by keyboard, the face's mood changing (so that the offer floats above the
    bar), and open the first track's preview by keyboard; its host cannot be reached."""
    from playwright.sync_api import expect

    serve_previews(page)
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (3.0, "sad", -0.7, -0.4)])
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#new-list")).to_be_visible(timeout=TIMEOUT_MS)
    page.locator("#result-list .preview-btn").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mini-status")).to_contain_text("can't load")
    expect(page.locator("#mini-audio")).to_be_focused()


def inside(inner: list[int], outer: list[int], slack: int = 1) -> bool:
    """Whether the box ``inner`` (left, right, top, bottom) lies within ``outer``, ``slack`` px
    given for the rounding of both."""
    left, right, top, bottom = inner
    o_left, o_right, o_top, o_bottom = outer
    return left >= o_left - slack and right <= o_right + slack and top >= o_top - slack and bottom <= o_bottom + slack


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core (npm package, see package.json) on the page; one line per violating node.

    The script is evaluated through the DevTools protocol, which the page's CSP does not govern, so
    the page keeps its real policy. Skips when ``make`` could not install axe-core (no npm).
    """
    if not AXE_SOURCE.is_file():
        pytest.skip("axe-core is not installed: run `make node_modules/.installed` (needs npm)")
    if not page.evaluate("Boolean(window.axe)"):
        session = page.context.new_cdp_session(page)
        session.send("Runtime.evaluate", {"expression": AXE_SOURCE.read_text(encoding="utf-8")})
        session.detach()
    results = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")),
          }));
        }"""
    )
    return [f"{v['impact']} {v['id']}: {node}" for v in results if v["impact"] in impacts for node in v["nodes"]]


# Every text change in a live region (role=status/alert/log, aria-live) while the observer runs.
COUNT_ANNOUNCEMENTS = """() => {
  window.__announced = [];
  const live = () => [...document.querySelectorAll('[role="status"], [role="alert"], [role="log"], [aria-live]')]
    .filter((el) => el.getAttribute("aria-live") !== "off");
  const last = new Map(live().map((el) => [el, el.textContent.trim()]));
  new MutationObserver(() => {
    for (const el of live()) {
      const text = el.textContent.trim();
      if (text && text !== last.get(el)) window.__announced.push(text);
      last.set(el, text);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""

# Counts /api/analyze requests when they start (an aborted one counts too).
COUNT_ANALYZE_STARTS = """() => {
  const original = window.fetch;
  window.__analyzeStarts = 0;
  window.fetch = (...args) => {
    if (String(args[0]).includes("/api/analyze")) window.__analyzeStarts++;
    return original(...args);
  };
}"""

# Makes the page believe it is hidden (another tab, a locked phone) or back in sight.
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  const state = hidden ? "hidden" : "visible";
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  document.dispatchEvent(new Event("visibilitychange"));
}"""

# Timestamps (performance.now(), ms) and texts of what the mood's live region (#mood-announce) said.
RECORD_MOOD_ANNOUNCEMENTS = """() => {
  window.__moodSaid = [];
  const el = document.querySelector("#mood-announce");
  new MutationObserver(() => window.__moodSaid.push([performance.now(), el.textContent]))
    .observe(el, { childList: true, characterData: true, subtree: true });
}"""

# Keeps every camera stream the page opens, so a test can check that its tracks ended.
KEEP_STREAMS = """
window.__streams = [];
const __gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => { const s = await __gum(c); window.__streams.push(s); return s; };
"""

#: WCAG's colour maths, for the page's scripts below: ``parse`` a computed CSS colour into its RGB
#: and alpha, ``lum`` its relative luminance.
COLOUR_MATHS = """
  const parse = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 };
  };
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
"""

# The focused element's outline and the contrast of its colour against the background behind it.
FOCUS_RING = (
    """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;"""
    + COLOUR_MATHS
    + """  let node = el.parentElement;
  let bg = null;
  while (node && !bg) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c.a > 0.5) bg = c.rgb;
    node = node.parentElement;
  }
  bg = bg || parse(getComputedStyle(document.body).backgroundColor).rgb;
  const style = getComputedStyle(el);
  const [hi, lo] = [lum(parse(style.outlineColor).rgb), lum(bg)].sort((a, b) => b - a);
  return {
    id: el.id || el.className || el.tagName,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    contrast: (hi + 0.05) / (lo + 0.05),
  };
}"""
)


def docs_screenshot(page: Any, name: str, *, full_page: bool = False) -> None:
    """With MOODTAPE_DOCS_SCREENSHOTS=1, also save ``docs/images/page-<name>.png`` for the README."""
    path = screenshot(page, name, full_page=full_page)
    if os.environ.get("MOODTAPE_DOCS_SCREENSHOTS") == "1":
        from PIL import Image

        # 256 colours without dithering: a third of the bytes, and flat UI colours stay flat.
        with Image.open(path) as shot:
            small = shot.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            small.save(ROOT / "docs" / "images" / f"page-{name}.png", optimize=True)


def fake_analyzer(page: Any, moods: list[tuple[float, str | None, float, float]]) -> None:
    """Answer /api/analyze with one face whose mood follows ``moods``: (from second, emotion, v, a).

    An emotion of None answers "no face" from that second on. The seconds count from this call, not
    from the first answer; ``moods`` is read at every answer, so a test may append to it to change
    the face from then on (whenever the page has reached a step, however slowly it got there).
    """
    started = time.monotonic()

    def answer(route: Any) -> None:
        now = time.monotonic() - started
        _, emotion, valence, arousal = [m for m in moods if m[0] <= now][-1]
        probabilities = {
            e: (0.9 if e == emotion else 0.1 / 6)
            for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
        }
        face = {
            "box": [200, 120, 220, 220],
            "emotion": emotion,
            "confidence": 0.9,
            "uncertain": False,
            "probabilities": probabilities,
        }
        body = {
            "faces": [face] if emotion else [],
            "image": {"width": 640, "height": 480},
            "mood": {"valence": valence, "arousal": arousal, "emotion": emotion, "source": "face"} if emotion else None,
            "stream": "s",
            "elapsed_ms": 1.0,
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/analyze?stream=*", answer)


def watch_text(page: Any, selector: str) -> Callable[[], list[str]]:
    """Start recording the text of the element at ``selector`` each time it changes (what a screen
    reader would hear of a live region); returns what reads the texts recorded so far."""
    name = f"__texts{next(_watches)}"
    page.evaluate(
        """([selector, name]) => {
          window[name] = [];
          const el = document.querySelector(selector);
          new MutationObserver(() => window[name].push(el.textContent))
            .observe(el, { childList: true, characterData: true, subtree: true });
        }""",
        [selector, name],
    )
    return lambda: list(page.evaluate(f"window.{name}"))


_watches = itertools.count()


def start_camera(page: Any, *, by_keyboard: bool = False) -> None:
    """Press "Start camera" (clicked, or focused and Enter) and wait until the fake camera's frames play."""
    if by_keyboard:
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
    else:
        page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)


def open_calibration_by_keyboard(page: Any, *, camera_by_keyboard: bool = False) -> Any:
    """Camera on, then the folded calibration opened from the keyboard (Enter on its summary, Tab):
    returns "Calibrate to my face", focused and not yet pressed."""
    from playwright.sync_api import expect

    start_camera(page, by_keyboard=camera_by_keyboard)
    page.locator("#calibration-fold > summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    start = page.get_by_role("button", name="Calibrate to my face")
    expect(start).to_be_focused()
    return start


def delete_everything_by_keyboard(page: Any) -> None:
    """History → Delete my history → Delete everything, by keyboard; leaves the dialog open."""
    from playwright.sync_api import expect

    page.locator("#history-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-list > li").first).to_be_visible()
    page.locator("#history-delete").focus()
    page.keyboard.press("Enter")
    page.locator("#history-delete-yes").focus()
    page.keyboard.press("Enter")


def pick_by_hand(page: Any, word: str) -> None:
    """Pick ``word`` in "Pick by hand" and wait until its list is on screen (``POST /api/lists``)."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name=word, exact=True).click()
    expect(page.locator("#results-mood")).to_contain_text(word)
    expect(page.locator("#result-list > li").first).to_be_visible()


#: Never served: a request the page makes only to learn that the browser routes requests (below).
ROUTE_PROBE = "/__e2e_route_probe"


def hold_requests(page: Any, pattern: str = "**/api/lists?*") -> list[Any]:
    """Hold every request matching ``pattern`` (by default the list's, ``/api/lists?…``) from now on:
    the test answers each when it chooses (``held.pop().continue_()``, or ``.fulfill(...)``), instead
    of sleeping in a route handler, which stalls Playwright's dispatcher.

    Returns only once the browser routes requests (:func:`_until_routed`): the page's first route
    turns interception on, and a request made just after it could go out unrouted and unseen."""
    held: list[Any] = []
    page.route(pattern, lambda route: held.append(route))
    _until_routed(page)
    return held


def _until_routed(page: Any) -> None:
    """Wait until a request from the page reaches a route. ``page.route`` returns before Chromium
    routes the page's requests when its CPU is busy: a press made then sent its request past every
    route, and Playwright saw no request at all (test_slow_answers waited 20 s for a feedback POST
    the page had sent; 2 of 4 runs at a 20× CPU throttle before, 0 of 3 after)."""
    routed: list[bool] = []

    def answer(route: Any) -> None:
        routed.append(True)
        route.fulfill(status=204)

    page.route(f"**{ROUTE_PROBE}", answer)
    try:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not routed and time.monotonic() < deadline:
            page.evaluate("(url) => fetch(url, { cache: 'no-store' }).then(() => null, () => null)", ROUTE_PROBE)
            # A probe that went out unrouted reached the server (a 404 its rate limiter counts):
            # fetching again at once sent dozens in a second while Chromium was busy.
            page.wait_for_timeout(50)
        assert routed, "the browser never routed a request"
    finally:
        page.unroute(f"**{ROUTE_PROBE}", answer)


#: Every layout shift not caused by input, with what moved (the browser's own measure, as in CLS),
#: into ``window.__shifts``: ``[]`` when nothing moved unasked.
RECORD_SHIFTS = """() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.hadRecentInput) continue;
      const moved = entry.sources.map((s) => `${s.node ? s.node.id || s.node.className : "?"} `
        + `${Math.round(s.previousRect.y)}→${Math.round(s.currentRect.y)}`);
      window.__shifts.push({ value: entry.value, moved });
    }
  }).observe({ type: "layout-shift" });
}"""


#: Marks the list items on screen, so that a test can wait for the list that replaces them (NEW_LIST).
MARK_OLD = "() => document.querySelectorAll('#result-list > li').forEach((li) => (li.dataset.old = '1'))"
NEW_LIST = "() => document.querySelector('#result-list > li') && !document.querySelector('#result-list > li[data-old]')"


ARROW_PRESSES = 40
TAB_PRESSES = 20


def press_keys_on_the_plane(page: Any) -> list[float]:
    """Arrow keys on the mood plane, then Tab back and forth, at about a person's pace: each
    keydown's wait before its handler ran (ms), as the page's own ``window.__keyWaits`` (an Event
    Timing observer the test installs) reported them."""
    page.evaluate("() => { window.__keyWaits.length = 0; }")
    page.locator("#plane").focus()
    for i in range(ARROW_PRESSES):
        page.keyboard.press(("ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown")[i % 4])
        page.wait_for_timeout(37)
    for i in range(TAB_PRESSES):
        page.keyboard.press("Shift+Tab" if i % 2 else "Tab")
        page.wait_for_timeout(41)
    page.wait_for_timeout(500)  # the last entries are reported
    waits: list[float] = page.evaluate("() => window.__keyWaits")
    return waits


def silent_wav(seconds: float) -> bytes:
    """A silent WAV of ``seconds``: a preview that really plays to its end (a route's answer)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return buffer.getvalue()
