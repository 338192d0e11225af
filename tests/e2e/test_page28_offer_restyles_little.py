"""The offer coming, with the camera running on a phone, restyles a few elements, not the page
(session 28).

The page's whole-page states were ``html:has(…)`` and ``body:has(…)`` rules (the offer floating, the
preview bar open, the camera's stage shown), and the heights of the offer and the bar were custom
properties set on the root, which every element inherits. When the offer came at 390 × 844, Chromium
restyled everything under <body> twice over: two style passes of 369-373 of the page's 537
elements (the list drawn, as here). Now the states are classes on the root (``js/pageflags.js``)
and the heights non-inherited ``@property`` values on the few elements that read them: 14 elements
at most in a pass.

Measured with a Chromium trace: each ``UpdateLayoutTree`` event's ``elementCount``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import Server, fake_analyzer, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline"]
#: A style pass over more than this share of the page's elements restyled the page, not a part of it.
MOST_OF_THE_PAGE = 0.25


#: The elements (id, or tag name) whose own style sets each foot height, in document order.
CARRIERS_OF_THE_HEIGHTS = """() => Object.fromEntries(["--offer-h", "--mini-h"].map((name) => [name,
  [...document.querySelectorAll("[style]")].filter((el) => el.style.getPropertyValue(name))
    .map((el) => el.id || el.localName)]))"""


def restyle_counts(trace: bytes) -> list[int]:
    """The number of elements each style pass of the trace recalculated."""
    data = json.loads(trace)
    events = data["traceEvents"] if isinstance(data, dict) else data
    return [
        int(e["args"]["elementCount"])
        for e in events
        if e.get("name") == "UpdateLayoutTree" and e.get("ph") in ("X", "B") and e.get("args", {}).get("elementCount")
    ]


def test_the_offer_coming_on_a_phone_does_not_restyle_the_page(browser: Any, server: Server) -> None:
    with watched_page(browser, server, width=390, height=844) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (5.0, "sad", -0.7, -0.4)])
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_attached(timeout=20_000)
        page.wait_for_timeout(1000)  # the first list drawn: its own, rightful, large style pass is over
        elements = page.evaluate("() => document.getElementsByTagName('*').length")
        # The offer must come while the trace runs: one already shown would make the test pass idle.
        expect(page.locator("#new-list")).to_be_hidden()
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        try:
            expect(page.locator("#new-list")).to_be_visible(timeout=20_000)
            page.wait_for_timeout(500)
        finally:
            counts = restyle_counts(browser.stop_tracing())
        assert counts, "the trace recorded no style pass"
        assert max(counts) <= elements * MOST_OF_THE_PAGE, f"{max(counts)} of {elements} elements restyled: {counts}"
        # Each height is set only where a rule reads it (style.css): on another element, a change of
        # it would restyle that element for nothing.
        assert page.evaluate(CARRIERS_OF_THE_HEIGHTS) == {
            "--offer-h": ["html", "body"],
            "--mini-h": ["html", "body", "new-list"],
        }
