"""In forced colours the mood plane's and the timeline's legend still says which line is which
(WCAG 1.4.1, 1.4.11), while the camera runs with the real model.

Forced colours leave SVG's fill and stroke alone, so the plane and the timeline keep their colours,
but they redraw an HTML legend's borders in CanvasText and drop its backgrounds. Before (session 38
probe, 1280 × 900, light and dark): "mood of the list" showed no dot at all (its background became
Canvas), and the "pleasant" and "energetic" keys were both CanvasText lines beside a teal
(31, 157, 143) and an orange (184, 102, 20) line; "the list's path" was CanvasText beside a violet one.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS, Server, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# Each legend key's drawn colour, beside the colour of the SVG mark it names.
KEYS_AND_MARKS = """() => {
  const css = (selector) => getComputedStyle(document.querySelector(selector));
  return {
    live: [css(".key.live").borderTopColor, css("#plane .live-dot").stroke],
    applied: [css(".key.applied").backgroundColor, css("#plane .applied-dot").fill],
    path: [css(".key.path").borderTopColor, css("#plane .plane-path polyline").stroke],
    valence: [css(".key.valence").borderTopColor, css("#timeline .valence").stroke],
    arousal: [css(".key.arousal").borderTopColor, css("#timeline .arousal").stroke],
  };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_legend_key_is_drawn_in_the_colour_of_what_it_names(browser: Any, server: Server, scheme: str) -> None:
    with watched_page(browser, server) as page:
        page.emulate_media(forced_colors="active", color_scheme=scheme)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS * 3)
        page.wait_for_selector("#plane .applied-dot, #plane .plane-path polyline", state="attached")
        page.wait_for_selector("#plane .live-dot", state="attached")
        pairs = page.evaluate(KEYS_AND_MARKS)
        unlike = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
        assert not unlike, f"legend key colour vs the mark it names, in forced colours ({scheme}): {unlike}"
        assert pairs["valence"][0] != pairs["arousal"][0], pairs
