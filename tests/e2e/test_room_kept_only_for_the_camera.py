"""The room the page keeps for what the camera brings looks kept, and is kept only for the camera
(session 20).

Before: in one column on the Camera tab the list's card is a window tall from the start (so that the
first list moves nothing), but its dashed "no list yet" box stood at the card's top with 384 px
(390 × 844) or 538 px (800 × 900) of blank card under it until the first list came, 2.4 s after
"Start camera". And the live mood's line kept the lines of its longest wording on every
tab: with a photo or by hand, "No mood yet." had three empty lines under it at 390 px, and the mood
plane that picking by hand needs stood 72 px further down.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, Server, fake_analyzer, hold_requests, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Where the empty-list box and the list's card end, and where the box starts below the status line.
BOXES = """() => {
  const rect = (id) => document.getElementById(id).getBoundingClientRect();
  const style = getComputedStyle(document.getElementById("results"));
  const padding = parseFloat(style.paddingBottom) + parseFloat(style.borderBottomWidth);
  return {
    cardHeight: rect("results").height,
    roomUnder: rect("results").bottom - padding - rect("results-empty").bottom,
    boxBelowStatus: rect("results-empty").top - rect("results-status").top,
  };
}"""

#: How far the mood line's box reaches below its words, in lines.
EMPTY_LINES = """() => {
  const el = document.getElementById("mood-now");
  const words = document.createRange();
  words.selectNodeContents(el);
  const lineHeight = parseFloat(getComputedStyle(el).lineHeight);
  return (el.getBoundingClientRect().height - words.getBoundingClientRect().height) / lineHeight;
}"""


@pytest.mark.parametrize("size", [(390, 844), (800, 900)], ids=["phone", "800x900"])
def test_the_empty_list_box_fills_the_room_kept_for_the_first_list(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        fake_analyzer(page, [(0.0, None, 0.0, 0.0)])  # no face: no list comes, the room stays empty
        before = page.evaluate(BOXES)
        assert before["cardHeight"] >= size[1], before  # the room is kept (test_camera_start_holds_still.py)
        assert before["roomUnder"] < 1, before  # the box reaches the card's foot, no blank card under it
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#camera-stats")).to_contain_text("frames/s")
        running = page.evaluate(BOXES)
        assert running["roomUnder"] < 1, running
        # The box sits where it does on the other tabs: switching tabs moves nothing in the card.
        page.get_by_role("tab", name="Pick by hand").click()
        by_hand = page.evaluate(BOXES)
        assert by_hand["boxBelowStatus"] == pytest.approx(before["boxBelowStatus"], abs=0.5), (before, by_hand)
        assert by_hand["cardHeight"] < 0.7 * size[1], by_hand  # its own height off the Camera tab


def test_the_mood_line_keeps_empty_lines_only_in_camera_mode(browser: Any, server: Server) -> None:
    with watched_page(browser, server, width=390, height=844) as page:
        # The camera's line changes unasked, between one and four lines here: their room is kept.
        assert page.evaluate(EMPTY_LINES) >= 2.5
        page.get_by_role("tab", name="Photo").click()
        assert page.evaluate(EMPTY_LINES) < 0.5  # "No mood yet." and nothing under it
        page.get_by_role("tab", name="Pick by hand").click()
        assert page.evaluate(EMPTY_LINES) < 0.5
        page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
        expect(page.locator("#mood-now")).to_contain_text("Mood of the list: happy")
        assert page.evaluate(EMPTY_LINES) < 0.5


def test_a_slow_list_picked_on_the_plane_does_not_move_the_plane(browser: Any, server: Server) -> None:
    """The mood line now grows with its words by hand: it is written at the press, with the plane's
    mark, not when the list comes (a list 1.5 s late moved the plane 24 px down under the cursor)."""
    with watched_page(browser, server) as page:
        held = hold_requests(page)  # answered by the test, 1.5 s later
        page.get_by_role("tab", name="Pick by hand").click()
        page.evaluate(RECORD_SHIFTS)
        page.locator("#plane").focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)
        held.pop().continue_()
        expect(page.locator("#result-list > li").first).to_be_attached()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__shifts") == []


def test_a_slow_pick_that_fails_does_not_move_the_plane(browser: Any, server: Server) -> None:
    """The mood line said "Mood of the list: happy …" (two lines) at the press; when the list failed
    1.5 s later it went back to "No mood yet." (one line), moving the plane up 24 px (review)."""
    with watched_page(browser, server) as page:
        held = hold_requests(page)
        page.get_by_role("tab", name="Pick by hand").click()
        page.evaluate(RECORD_SHIFTS)
        page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
        expect(page.locator("#mood-now")).to_contain_text("Mood of the list: happy")
        page.wait_for_timeout(1500)
        busy = {"error": {"code": "store_unavailable", "message": "the store is not answering"}}
        held.pop().fulfill(status=503, headers={"Retry-After": "1"}, json=busy)
        expect(page.locator("#mood-now")).to_have_text("No mood yet.")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__shifts") == []
