"""The skip link scrolls nothing sideways on a 320 px phone at any text size, hidden or focused,
and when focused it is drawn whole on the screen with its focus ring (WCAG 1.4.10 reflow, 2.4.7).

Before: the hidden link was only moved above the page (top: -3rem), so it kept its full width:
"recommendations", one word wider than the screen, made the page 373 px wide at 200 % text on a
320 px screen, before Tab as after it, and at 300 % its wrapped lines came down into the page. Now
it is hidden as .visually-hidden is (1 px, clipped) until focused, and then wraps, even inside a
word, within the screen; in forced colours, where its background is dropped, a border shows its edge.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TEXT_SIZE, Server, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

WIDTH = 320
#: How wide the page is against the window (a wider page scrolls sideways).
PAGE_WIDTHS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
#: The link's box, with its focus ring (outline width plus offset) around it, whether its text
#: overflows the box (drawn outside it, or cut off by a clip), and whether its edge is drawn.
LINK_BOX = """() => {
  const link = document.querySelector(".skip-link");
  const r = link.getBoundingClientRect();
  const style = getComputedStyle(link);
  const ring = style.outlineStyle === "none" ? 0
    : parseFloat(style.outlineWidth) + Math.max(0, parseFloat(style.outlineOffset));
  return {
    left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height,
    ring, clip: `${style.clip} ${style.clipPath}`,
    overflows: link.scrollWidth > link.clientWidth + 1 || link.scrollHeight > link.clientHeight + 1,
    border: parseFloat(style.borderTopWidth) > 0 && style.borderTopColor !== "rgba(0, 0, 0, 0)",
    innerWidth, innerHeight,
  };
}"""


@pytest.mark.parametrize(
    ("percent", "forced"),
    [(100, False), (200, False), (300, False), (200, True)],
    ids=["100", "200", "300", "200-forced"],
)
def test_the_skip_link_fits_a_phone_hidden_and_focused(
    browser: Any, server: Server, percent: int, forced: bool
) -> None:
    """Hidden, the link neither widens the page nor shows; after one Tab from the top it is the
    focus, the page is no wider, and the link, text and ring, lies wholly inside the window."""
    with watched_page(browser, server, width=WIDTH, height=640, init_script=TEXT_SIZE.format(percent=percent)) as page:
        if forced:
            page.emulate_media(forced_colors="active")
        wide, window = page.evaluate(PAGE_WIDTHS)
        assert wide <= window, f"hidden: the page is {wide} px wide in a {window} px window"
        hidden = page.evaluate(LINK_BOX)
        assert hidden["bottom"] <= 0 or hidden["width"] * hidden["height"] <= 1, f"hidden, yet on screen: {hidden}"

        page.keyboard.press("Tab")
        link = page.get_by_role("link", name="Skip to recommendations")
        expect(link).to_be_focused()
        wide, window = page.evaluate(PAGE_WIDTHS)
        assert wide <= window, f"focused: the page is {wide} px wide in a {window} px window"
        box = page.evaluate(LINK_BOX)
        ring = box["ring"]
        assert ring >= 2, f"no focus ring: {box}"
        assert box["clip"] == "auto none" and not box["overflows"], f"the focused link is cut off: {box}"
        assert box["left"] - ring >= 0 and box["right"] + ring <= box["innerWidth"], f"past the side: {box}"
        assert box["top"] - ring >= 0 and box["bottom"] + ring <= box["innerHeight"], f"past the top or bottom: {box}"
        if forced:  # forced colours drop its background: a border marks where it ends, over the page
            assert box["border"], f"no edge in forced colours: {box}"
