"""A preview that ends by itself moves nothing on screen while the camera runs (session 39).

Before, the bar's status line took no room until it had words: "Preview ended. Next preview: …",
written 30 s after the press with no input near it, grew the bar (fixed at the foot of the screen)
a line upward, and Previous, the audio, Next and Close moved 30 px up under the pointer, the
floating "New list ready" offer above the bar 31 px with them, "Show it" included, also while it
had keyboard focus (390×844, two layout shifts of 0.010 and 0.0085). The line's room is now kept
from the moment the bar opens (a press).
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, Server, fake_analyzer, serve_previews, silent_wav, start_camera, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Longer than the 0.5 s after a press in which a layout shift counts as caused by it.
PREVIEW_S = 2.0

# Where the bar's controls and the offer's "Show it" are on screen (top edges, px).
PLACES = """() => Object.fromEntries(["mini-previous", "mini-next", "mini-close", "new-list-show"]
  .map((id) => [id, Math.round(document.getElementById(id).getBoundingClientRect().top)]))"""


def test_a_preview_ending_moves_neither_the_bar_nor_the_offer(browser: Any, server: Server) -> None:
    with watched_page(browser, server, width=390, height=844) as page:
        # A short title: the ended words fit the bar's one line.
        serve_previews(page, title="Stay")
        sound = silent_wav(PREVIEW_S)
        page.route(
            "https://*.dzcdn.net/**", lambda route: route.fulfill(status=200, content_type="audio/wav", body=sound)
        )
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (3.0, "sad", -0.7, -0.4)])
        start_camera(page, by_keyboard=True)
        expect(page.locator("#new-list")).to_be_visible()
        page.locator("#result-list .preview-btn").first.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#mini-audio")).to_be_focused()
        page.wait_for_function("() => !document.getElementById('mini-audio').paused")
        page.locator("#new-list-show").focus()
        page.wait_for_timeout(700)  # past the press's input window
        before = page.evaluate(PLACES)
        page.evaluate(RECORD_SHIFTS)
        expect(page.locator("#mini-status")).to_have_text("Preview ended. Next preview: Stay.")
        page.wait_for_timeout(300)  # the shifts are reported after the next frame
        assert page.evaluate(PLACES) == before
        assert page.evaluate("window.__shifts") == []
        expect(page.locator("#new-list-show")).to_be_focused()
