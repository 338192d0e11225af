"""The preview bar, and the camera's offer above it, stay on the screen at twice and three times the
text size on a phone, with the focus in sight inside them (WCAG 1.4.4, 2.4.7, 2.4.11); session 35.

Before: the bar floated at the foot of the screen however tall its words made it. At twice the text
size on a 320 × 568 phone it was 944–1042 px tall (with the title of the list's first track), its
top 397–493 px above the screen: Previous, Next and the audio (which takes focus when a preview
opens) were out of sight and out of reach, and the offer of a new list, standing above the bar, was
off the screen altogether (-1034..-513 px). At three times the text size on a 390 × 844 phone the
bar's top was 890 px above the screen. Now a bar taller than 55 % of the
screen keeps to that and scrolls inside, and the offer above it keeps to what is left.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TEXT_SIZE, Server, inside, open_preview_with_the_camera_on, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Boxes (left, right, top, bottom), rounded, of the elements with these ids; None where hidden.
BOXES = """(ids) => Object.fromEntries(ids.map((id) => {
  const el = document.getElementById(id);
  if (el.hidden) return [id, null];
  const r = el.getBoundingClientRect();
  return [id, [r.left, r.right, r.top, r.bottom].map(Math.round)];
}))"""


def _focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def _boxes(page: Any) -> dict[str, Any]:
    """The bar's, the offer's and the focused control's boxes."""
    return dict(page.evaluate(BOXES, ["mini-player", "new-list", _focused_id(page)]))


@pytest.mark.parametrize(
    ("width", "height", "percent"),
    [(320, 568, 200), (390, 844, 300)],
    ids=["320-2x", "390-3x"],
)
def test_the_bar_and_the_offer_stay_on_the_screen_with_the_focus_in_sight(
    browser: Any, server: Server, width: int, height: int, percent: int
) -> None:
    init = TEXT_SIZE.format(percent=percent)
    with watched_page(browser, server, width=width, height=height, init_script=init) as page:
        open_preview_with_the_camera_on(page)
        screen = [0, width, 0, height]
        for key in ["", "Shift+Tab"]:  # the audio, which has focus as the bar opens; then Previous
            if key:
                page.keyboard.press(key)
                expect(page.locator("#mini-previous")).to_be_focused()
            page.wait_for_timeout(300)  # a scroll into view, if any, is over
            seen = _boxes(page)
            focused = seen[_focused_id(page)]
            assert inside(seen["mini-player"], screen), f"the bar runs off the screen: {seen}"
            assert inside(focused, seen["mini-player"]), f"focus is outside the bar's visible box: {seen}"
            assert inside(seen["new-list"], screen), f"the offer runs off the screen: {seen}"
            assert seen["new-list"][3] <= seen["mini-player"][2], f"the offer covers the bar: {seen}"


@pytest.mark.parametrize(("width", "height"), [(320, 568), (390, 844)])
def test_at_the_usual_text_size_the_bar_is_not_capped(browser: Any, server: Server, width: int, height: int) -> None:
    """A cap (and its scrolling) only where needed: it would clip the audio controls' own menu."""
    with watched_page(browser, server, width=width, height=height) as page:
        serve_previews(page)
        page.get_by_role("tab", name="Pick by hand").click()
        page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
        page.locator("#result-list .preview-btn").first.click()
        expect(page.locator("#mini-status")).to_contain_text("can't load")
        expect(page.locator("#mini-player")).not_to_have_class("mini-player tall")
        assert page.evaluate("getComputedStyle(document.getElementById('mini-player')).overflowY") == "visible"
