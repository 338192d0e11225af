"""The page with the camera on: double and held key presses, the frame figures, a flaky server.

- "Start camera" hands focus to "Stop camera" and back. Before, a held Enter turned the camera on and
  off with every repeat (7 camera streams opened in under a second); two separate presses, however
  quick, still count as two (test_modes_focus.py presses Start and Stop back to back).
- The frame rate's figures ("11.0 frames/s · 63 ms") changed once a second inside the accessibility
  tree; they are for the eyes only now, and words about the frames ("Paused: no frames sent.") stay.
- A server refusing one frame in two (503) wrote its own sentence and the wait in the stats line
  ("The server is busy; try again shortly. Waiting 1 s."), which wrapped onto two lines on a phone
  and pushed everything below down, then up again at the next good frame: the page moved every
  second or two.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from browsertools import Server, fake_analyzer, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

LIVE_STREAMS = "() => window.__streams.filter((s) => s.active).length"


def press_enter(page: Any, *, repeat: bool = False) -> None:
    """One Enter keydown (a held key's repeat with ``repeat``), through the DevTools protocol, which
    can say that a key repeats; the keyup is sent by ``release_enter``."""
    session = page.context.new_cdp_session(page)
    key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
    session.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", "autoRepeat": repeat, **key})
    session.detach()


def release_enter(page: Any) -> None:
    session = page.context.new_cdp_session(page)
    session.send(
        "Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
    )
    session.detach()


def test_a_held_enter_turns_the_camera_on_once(streams_page: Any) -> None:
    page = streams_page
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.locator("#camera-start").focus()
    press_enter(page)
    for _ in range(12):  # a key held for about a second repeats every 30–50 ms
        page.wait_for_timeout(60)
        press_enter(page, repeat=True)
    release_enter(page)
    page.wait_for_timeout(800)
    expect(page.locator("#camera-stage")).to_be_visible()
    expect(page.locator("#camera-stop")).to_be_focused()
    assert page.evaluate("window.__streams.length") == 1, "the camera was asked for again by the repeats"
    assert page.evaluate(LIVE_STREAMS) == 1


def ax_text(page: Any, selector: str) -> str:
    """What a screen reader finds in ``selector``: Playwright's ARIA snapshot (aria-hidden left out)."""
    return str(page.locator(selector).aria_snapshot())


def test_the_frame_figures_are_for_the_eyes_and_the_news_is_readable(page: Any) -> None:
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    stats = page.locator("#camera-stats")
    expect(stats).to_contain_text("frames/s")
    assert "frames/s" not in ax_text(page, "#camera-stage"), ax_text(page, "#camera-stage")
    page.get_by_role("switch", name="Pause live updates").click()
    expect(stats).to_have_text("Paused: no frames sent.")
    assert "Paused: no frames sent." in ax_text(page, "#camera-stage")
    page.get_by_role("switch", name="Pause live updates").click()
    expect(stats).to_contain_text("frames/s")
    assert "Paused" not in ax_text(page, "#camera-stage")


# Layout shifts and the stats line's height, from now on.
WATCH_SHIFTS = r"""() => {
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shifts.push(e.value);
  }).observe({ type: "layout-shift" });
  window.__statsHeights = new Set();
  window.__statsTexts = new Set();
  const stats = document.getElementById("camera-stats");
  new MutationObserver(() => {
    window.__statsHeights.add(Math.round(stats.getBoundingClientRect().height));
    window.__statsTexts.add(stats.textContent.replace(/\d+(\.\d+)?/g, "#"));
  }).observe(stats, { childList: true, characterData: true, subtree: true });
}"""


@pytest.mark.parametrize("size", [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_a_flaky_server_does_not_move_the_page(browser: Any, server: Server, size: tuple[int, int]) -> None:
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        started = time.monotonic()
        busy = json.dumps({"error": {"code": "busy", "message": "the server is busy; try again shortly"}})

        def flaky(route: Any) -> None:
            # Refuses every frame in one second of two once the first list is there.
            if time.monotonic() - started > 4 and int(time.monotonic() - started) % 2:
                route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=busy)
            else:
                route.fallback()

        page.route("**/api/analyze?stream=*", flaky)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_visible()
        page.wait_for_timeout(1000)  # the first list's own arrival is over
        page.evaluate(WATCH_SHIFTS)
        page.wait_for_timeout(9000)
        texts = page.evaluate("[...window.__statsTexts]")
        assert any("retrying" in t or "Waiting" in t for t in texts), texts  # refusals did come
        assert any("frames/s" in t for t in texts), texts  # and good frames between them
        heights = page.evaluate("[...window.__statsHeights]")
        shifts = page.evaluate("window.__shifts")
        assert len(heights) == 1, f"the stats line changed height: {heights} ({texts})"
        assert not shifts, f"the page moved {len(shifts)} times: {shifts}"
        # The refusal is in words a person reads, once, not the server's sentence with a countdown.
        assert "Server busy; retrying." in texts, texts


def test_a_reading_refused_for_seconds_is_no_longer_shown_as_live(page: Any) -> None:
    """Before: while the server refused every frame (429/503), "Live mood: happy" and the face's
    box stayed on screen as if live for as long as the refusals lasted (24 s in a probe)."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    refusing = {"since": None}
    busy = json.dumps({"error": {"code": "busy", "message": "the server is busy; try again shortly"}})

    def refuse(route: Any) -> None:
        if refusing["since"] is not None:
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=busy)
        else:
            route.fallback()

    page.route("**/api/analyze?stream=*", refuse)
    page.get_by_role("button", name="Start camera").click()
    mood_now = page.locator("#mood-now")
    expect(mood_now).to_contain_text("Live mood")
    expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
    refusing["since"] = time.monotonic()
    expect(page.locator("#camera-stats")).to_have_text("Server busy; retrying.")
    # A refusal or two is not news: the reading stays (no flicker between refusals and good frames).
    assert time.monotonic() - refusing["since"] < 4
    expect(mood_now).to_contain_text("Live mood")
    # Refused for longer, the reading goes, and the stats line keeps saying why.
    expect(mood_now).not_to_contain_text("Live mood", timeout=15_000)
    assert time.monotonic() - refusing["since"] >= 4.5
    expect(page.locator("#faces-summary")).to_have_text("Waiting for the server…")
    expect(page.locator("#camera-overlay .face-box")).to_have_count(0)
    expect(page.locator("#camera-stats")).to_have_text("Server busy; retrying.")
    # The server reads frames again: the live reading comes back.
    refusing["since"] = None
    expect(mood_now).to_contain_text("Live mood", timeout=15_000)
