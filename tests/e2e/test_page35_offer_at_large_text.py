"""The camera's "New list ready" offer stays on the screen at twice and three times the text size
(WCAG 1.4.4, 1.4.10), and "Show it", reached by Tab, is in sight (2.4.7, 2.4.11); session 35.

Before: the offer kept its words and "Show it" on one row however large the text. At twice the
text size on a 320 px phone "Show it" ran 77 px past the screen's right edge (252..397 px), at three
times on a 390 px phone it was off the screen altogether (378..587 px), and so on a desktop at
1280 px (1060..1312 px): a keyboard user's focus went to a button nobody could see. On the phone the
floating offer also grew taller than the screen at three times the text size, its first lines above
the top (-96 px at 320 × 568), where no scrolling reached them. The page itself scrolled nothing
sideways, so the reflow tests (which measure the page's width) passed.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TEXT_SIZE, TIMEOUT_MS, Server, fake_analyzer, inside, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Happy first (the camera's first list), then a face that settles on disgust: its offer's words
#: are the longest the offer has.
MOODS = [(0.0, "happy", 0.8, 0.35), (3.0, "disgust", -0.6, 0.3)]

#: The boxes (left, right, top, bottom) of the offer, its words and "Show it", and how wide the words
#: are drawn against the room they have.
BOXES = """() => {
  const box = (id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return [r.left, r.right, r.top, r.bottom].map(Math.round);
  };
  const words = document.getElementById("new-list-text");
  return { offer: box("new-list"), words: box("new-list-text"), show: box("new-list-show"),
           wordsWide: words.scrollWidth, wordsRoom: words.clientWidth,
           window: [innerWidth, innerHeight] };
}"""


def _across(inner: list[int], outer: list[int], slack: int = 1) -> bool:
    """Whether the box ``inner`` (left, right, …) lies within ``outer`` from left to right."""
    return inner[0] >= outer[0] - slack and inner[1] <= outer[1] + slack


@pytest.mark.parametrize(
    ("width", "height", "percent"),
    [(320, 568, 200), (390, 844, 300), (1280, 900, 300)],
    ids=["phone-320-2x", "phone-390-3x", "desktop-3x"],
)
def test_the_offer_and_show_it_stay_on_the_screen_at_large_text(
    browser: Any, server: Server, width: int, height: int, percent: int
) -> None:
    init = TEXT_SIZE.format(percent=percent)
    with watched_page(browser, server, width=width, height=height, init_script=init) as page:
        fake_analyzer(page, MOODS)
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#new-list")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#new-list-text")).to_contain_text("disgusted")
        seen = page.evaluate(BOXES)
        screen = [0, width, 0, height]
        assert seen["wordsWide"] <= seen["wordsRoom"] + 1, f"the words run past their box: {seen}"
        assert _across(seen["words"], seen["offer"]), f"the words run past the offer: {seen}"
        if width < 960:  # floating at the foot of the screen: all of it on the screen
            assert inside(seen["offer"], screen), f"the offer runs off the screen: {seen}"
        assert _across(seen["show"], screen), f'"Show it" runs off the screen: {seen}'
        # By keyboard: Tab to it. "Show it" is in sight, inside the offer's visible box (the offer
        # scrolls inside when its words are long) and inside the window.
        page.locator("#results").focus()  # the list's card; its Stop (two columns) comes first
        for _ in range(2):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "new-list-show":
                break
        expect(page.locator("#new-list-show")).to_be_focused()
        page.wait_for_timeout(300)  # a scroll into view, if any, is over
        seen = page.evaluate(BOXES)
        assert inside(seen["show"], seen["offer"]), f'"Show it" is outside the offer\'s visible box: {seen}'
        assert inside(seen["show"], screen), f'"Show it" has focus off the screen: {seen}'
