"""Twice the browser's text size (WCAG 1.4.4) on a phone scrolls nothing sideways (1.4.10).

Before: at 390 px the tabs ("Pick by hand" 25 px past the screen's edge: the three tabs' words
alone were wider than their bar) and the plane's legend ("mood of the list", its words kept on one
line, 12 px past it) made the page 415 px wide; at 320 px the name "moodtape" beside its logo ran
42 px past it too. Now the tabs take a second row, a legend item alone on its row wraps its words,
and the name goes under the logo, each only where it does not fit.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import Server, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")

#: The browser's text size doubled (its font-size setting: rem and em grow, px do not).
DOUBLE_TEXT = """(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html { font-size: 200% !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
})();"""

#: What reaches past the window's right edge, by id or class.
PAST_THE_EDGE = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > innerWidth + 0.5)
  .map((e) => `${e.id || e.className || e.tagName} ${Math.round(e.getBoundingClientRect().right)}`)"""


@pytest.mark.parametrize("size", [(390, 844), (320, 568)], ids=["390", "320"])
def test_twice_the_text_size_scrolls_nothing_sideways(browser: Any, server: Server, size: tuple[int, int]) -> None:
    with watched_page(browser, server, width=size[0], height=size[1], init_script=DOUBLE_TEXT) as page:
        page.wait_for_selector("body[data-ready='true']")
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0], page.evaluate(PAST_THE_EDGE)
        page.get_by_role("tab", name="Pick by hand").click()  # the tabs, on their two rows, still work
        assert page.get_by_role("tab", name="Pick by hand").get_attribute("aria-selected") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0], page.evaluate(PAST_THE_EDGE)
