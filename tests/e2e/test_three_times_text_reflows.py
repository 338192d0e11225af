"""Three times the browser's text size on a phone scrolls nothing sideways (WCAG 1.4.10), with the
camera running, on every tab and in the History dialog.

Before: at 390 and 320 px the page was 476–553 px wide. "moodtape" (72 px type) ran 56 px past the
screen; the emotion bars' rows (name, bar, value in one row) were 403 px wide in a 174 px card; the
camera's figures kept 12.5em (480 px); "Calibrate to my face" kept 13.5em (570 px); the preview kept
7.5rem (360 px); "Dislike", "Open on Deezer" and the History dialog's "Close" ran past their cards.
Paddings in rem took 144 of the 320 px. Now paddings grow only as far as the screen allows, the
bars put the name on a line of its own where a row has no room, and buttons keep to their line.
The twice-the-text-size test (test_reflow_double_text.py) and the usual size are unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, TIMEOUT_MS, Server, fake_analyzer, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: The browser's text size tripled (48 px: rem and em grow, px do not).
TRIPLE_TEXT = """(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html { font-size: 300% !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
})();"""

#: The innermost elements that reach past the window's right edge, with how far.
PAST_THE_EDGE = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 0.5)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > innerWidth + 0.5))
  .map((e) => `${e.id || e.className || e.tagName} ${Math.round(e.getBoundingClientRect().right)}`)"""


def _scrolls_nothing_sideways(page: Any, width: int, where: str) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{where}: the page is {wide} px wide: {page.evaluate(PAST_THE_EDGE)}"


@pytest.mark.parametrize("size", [(390, 844), (320, 568)], ids=["390", "320"])
def test_three_times_the_text_size_scrolls_nothing_sideways(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    width = size[0]
    with watched_page(browser, server, width=width, height=size[1], init_script=TRIPLE_TEXT) as page:
        _scrolls_nothing_sideways(page, width, "first visit")
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_visible()
        expect(page.locator("#bars .bar.top")).to_have_count(1)  # the bars have the camera's figures
        page.locator("#calibration-fold > summary").click()  # its buttons on show
        _scrolls_nothing_sideways(page, width, "camera on")
        for tab in ("Photo", "Pick by hand"):
            page.get_by_role("tab", name=tab).click()
            expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            _scrolls_nothing_sideways(page, width, tab)
        page.get_by_role("button", name="History").click()
        expect(page.locator("#history-close")).to_be_visible()
        _scrolls_nothing_sideways(page, width, "History")
        close = page.locator("#history-close").bounding_box()
        assert close["x"] >= 0 and close["x"] + close["width"] <= width


def test_the_bars_keep_a_usable_bar_at_three_times_the_text_size(browser: Any, server: Server) -> None:
    """The name goes above its bar: the bar beside the value is at least a quarter of the row."""
    with watched_page(browser, server, width=320, height=568, init_script=TRIPLE_TEXT) as page:
        rows = page.evaluate(
            """() => [...document.querySelectorAll('#bars .bar')].map((bar) => ({
                 row: bar.getBoundingClientRect().width,
                 track: bar.querySelector('.bar-track').getBoundingClientRect().width,
                 name: bar.querySelector('.bar-name').getBoundingClientRect().right,
               }))"""
        )
        assert rows and all(r["track"] >= r["row"] / 4 for r in rows), rows
        assert all(r["name"] <= 320 for r in rows), rows


def test_three_times_the_text_size_moves_nothing_while_the_camera_runs(browser: Any, server: Server) -> None:
    """The floating offer and the frame figures keep the room of their longest words at this text
    size: before, the offer grew 48 px upward as its words changed (layout shift 0.025 at 320 px)."""
    with watched_page(browser, server, width=320, height=568, init_script=TRIPLE_TEXT) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (3.0, "sad", -0.6, 0.3), (9.0, "angry", -0.5, 0.3)])
        page.evaluate(RECORD_SHIFTS)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#new-list")).to_be_visible(timeout=TIMEOUT_MS)  # the offer for sad
        page.wait_for_timeout(7000)  # angry: the offer's words change
        assert page.evaluate("window.__shifts.reduce((sum, s) => sum + s.value, 0)") == 0, page.evaluate(
            "window.__shifts"
        )
        _scrolls_nothing_sideways(page, 320, "camera on")
