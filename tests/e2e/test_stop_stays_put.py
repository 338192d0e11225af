"""What has focus when the camera starts stays where it is (a page probe, session 18).

Before: focus went to "Stop camera" as soon as the stage showed, and the picture's box was sized
only when the video's first frame came: the box grew from the video's default 150 px, and the Stop
button (the whole stage bar) moved 267 px down under the focus at 1280×900.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import fake_analyzer

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# Where "Stop camera" is when it takes focus (page coordinates).
WATCH_FOCUS = """() => {
  window.__stopAt = null;
  document.getElementById("camera-stop").addEventListener("focus", (e) => {
    const r = e.target.getBoundingClientRect();
    window.__stopAt = [r.left + scrollX, r.top + scrollY];
  });
}"""
STOP_NOW = """() => { const r = document.getElementById("camera-stop").getBoundingClientRect();
  return [r.left + scrollX, r.top + scrollY]; }"""


def test_stop_camera_does_not_move_under_the_focus_when_the_picture_comes(page: Any) -> None:
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.evaluate(WATCH_FOCUS)
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-stop")).to_be_focused()
    page.wait_for_function("() => document.getElementById('video').videoWidth > 0")
    expect(page.locator("#camera-stats")).to_contain_text("frames/s")  # frames drawn, the page settled
    at = page.evaluate("window.__stopAt")
    now = page.evaluate(STOP_NOW)
    assert at is not None
    assert abs(now[0] - at[0]) <= 1 and abs(now[1] - at[1]) <= 1, f"Stop camera moved from {at} to {now}"
