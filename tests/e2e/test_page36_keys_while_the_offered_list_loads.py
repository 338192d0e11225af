"""Keys pressed while the list "Show it" asked for is on its way leave focus where they took it
(WCAG 3.2.1, 2.4.3); session 36.

With the camera on and the face's mood changed, Enter on "Show it" loads the offered list and, when
it comes, puts focus on its first item. Before, it did so whatever the person had done meanwhile:
a keyboard user who went on with Tab to the strategy buttons ("Auto") was taken to the new list's
first Play when the list came, and one who had tabbed into the old list's second item was moved to
the first. Focus now goes to the list only if it is still on "Show it" (or fell to the page); moved
into the old list, it keeps its place there, as it does for any other list (listview.js ``load``).
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import MARK_OLD, NEW_LIST, TIMEOUT_MS, fake_analyzer, hold_requests

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: The focused element: its item's place in the list (-1 outside it), its class and its words.
FOCUSED = """() => {
  const el = document.activeElement;
  const li = el.closest("#result-list > li");
  return { item: li ? [...li.parentElement.children].indexOf(li) : -1, cls: el.className,
           text: el.textContent.trim(), marked: el.dataset.mark === "here" };
}"""


def _press_show_it_and_hold_the_list(page: Any) -> list[Any]:
    """Camera on, the face happy then sad: press "Show it" by keyboard, its list held on the way."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (3.0, "sad", -0.7, -0.4)])
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#new-list-show")).to_be_visible(timeout=TIMEOUT_MS)
    held = hold_requests(page)
    page.evaluate(MARK_OLD)
    page.locator("#new-list-show").focus()
    page.keyboard.press("Enter")
    _until_held(page, held)
    return held


def _until_held(page: Any, held: list[Any]) -> None:
    """Wait until the page has asked for the offered list (Playwright's handler holds it)."""
    for _ in range(TIMEOUT_MS // 50):
        if held:
            return
        page.wait_for_timeout(50)
    raise AssertionError("the offered list was never asked for")


def _let_the_list_come(page: Any, held: list[Any]) -> dict[str, Any]:
    while held:
        held.pop().continue_()
    page.wait_for_function(NEW_LIST)
    page.wait_for_timeout(300)  # anything the page does with focus after drawing is done
    return dict(page.evaluate(FOCUSED))


def test_focus_taken_on_to_the_strategies_stays_there(page: Any) -> None:
    held = _press_show_it_and_hold_the_list(page)
    page.keyboard.press("Tab")
    page.evaluate("document.activeElement.dataset.mark = 'here'")
    went = page.evaluate(FOCUSED)
    assert went["item"] == -1 and "seg" in went["cls"], went  # a strategy button, outside the list
    now = _let_the_list_come(page, held)
    assert now["marked"], f"focus was moved from {went['text']!r} to {now}"


def test_focus_taken_into_the_old_list_keeps_its_item(page: Any) -> None:
    held = _press_show_it_and_hold_the_list(page)
    second = page.locator("#result-list > li").nth(1).get_by_role("button", name="Like", exact=True)
    second.focus()
    page.keyboard.press("ArrowRight")  # Like → Skip, by the list's keys
    went = page.evaluate(FOCUSED)
    assert (went["item"], went["text"]) == (1, "Skip"), went
    now = _let_the_list_come(page, held)
    assert (now["item"], now["text"]) == (1, "Skip"), f"focus moved from the second item's Skip to {now}"


def test_focus_left_on_show_it_goes_to_the_new_list(page: Any) -> None:
    """Unchanged: the press alone takes focus to the list it showed."""
    held = _press_show_it_and_hold_the_list(page)
    now = _let_the_list_come(page, held)
    assert now["item"] == 0, now
