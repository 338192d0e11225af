"""A preview that cannot load leaves keyboard focus in the preview bar, not on the page body, while
the camera runs (WCAG 2.4.3); session 35.

Before: with focus inside the audio's own controls (Tab from "Previous preview" into the audio, and
on to its second control), a preview whose host could not be reached took focus to the page body
as its error came: Chromium hides the controls it had for a playable track and lets their focus
go. The page replaced nothing (the <audio> stays the same element). Now the focus goes back to the
audio, where it was, and the bar's status line says why.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS, Server, fake_analyzer, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

FOCUSED = "(() => { const a = document.activeElement; return a ? a.id || a.tagName : null; })()"


def test_a_preview_failing_under_focus_in_its_controls_keeps_focus_in_the_bar(browser: Any, server: Server) -> None:
    with watched_page(browser, server) as page:
        serve_previews(page)
        # The preview's host answers only when told to: focus can reach the controls before the error.
        held: list[Any] = []
        page.unroute("https://*.dzcdn.net/**")
        page.route("https://*.dzcdn.net/**", lambda route: held.append(route))
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        opener = page.locator("#result-list .preview-btn").first
        expect(opener).to_be_visible(timeout=TIMEOUT_MS)
        opener.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#mini-audio")).to_be_focused()
        page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)
        page.wait_for_timeout(300)
        assert held, "the preview was never asked for"
        page.locator("#mini-previous").focus()
        page.keyboard.press("Tab")  # the audio's play button
        page.keyboard.press("Tab")  # the audio's next control
        expect(page.locator("#mini-audio")).to_be_focused()
        for route in held:
            route.abort("internetdisconnected")
        expect(page.locator("#mini-status")).to_contain_text("can't load")
        page.wait_for_timeout(500)  # the controls let their focus go a few ms after the error
        assert page.evaluate(FOCUSED) == "mini-audio", "focus fell out of the bar"
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) in {"mini-audio", "mini-next"}, "Tab from there left the bar"
