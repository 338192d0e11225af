"""Focus keeps its place within an item when the list changes under it (a page probe, session 16).

Before: a keyboard user on item 3's Like when a new list came ended on item 3's Play (the item was
kept, the control not), and "Close preview" after the list had changed sent focus to the whole
results card rather than to the same item.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import MARK_OLD, NEW_LIST, hold_requests, pick_by_hand, serve_previews

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

FOCUSED_ITEM = "[...document.querySelectorAll('#result-list > li')].indexOf(document.activeElement.closest('li'))"


@pytest.mark.parametrize("control", ["fb-like", "fb-skip"])
def test_focus_on_a_control_stays_on_that_control_when_a_new_list_loads(page: Any, control: str) -> None:
    pick_by_hand(page, "sad")
    held = hold_requests(page)
    page.evaluate(MARK_OLD)
    with page.expect_request("**/api/lists?*"):
        page.locator("#strategy-group [data-strategy=uplift]").focus()
        page.keyboard.press("Enter")
    # Into the old list while the new one loads: the third item, then right to its control.
    items = page.locator("#result-list > li")
    items.nth(2).locator(".ctl").first.focus()
    target = items.nth(2).locator(f".{control}")
    for _ in range(8):
        if page.evaluate(f"document.activeElement.classList.contains('{control}')"):
            break
        page.keyboard.press("ArrowRight")
    expect(target).to_be_focused()
    for route in held:
        route.continue_()
    page.unroute("**/api/lists?*")
    page.wait_for_function(NEW_LIST)
    expect(page.locator("#results-status")).to_contain_text("uplift")
    assert page.evaluate(FOCUSED_ITEM) == 2
    classes = page.evaluate("document.activeElement.className")
    assert control in classes.split(), f"focus on {classes!r}, not on the new item's {control}"


def test_closing_the_preview_after_the_list_changed_returns_to_the_same_item(page: Any) -> None:
    serve_previews(page)
    pick_by_hand(page, "sad")
    page.locator("#result-list > li").nth(1).locator(".preview-btn").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mini-audio")).to_be_focused()
    page.evaluate(MARK_OLD)
    page.locator("#strategy-group [data-strategy=energize]").click()
    page.wait_for_function(NEW_LIST)
    page.locator("#mini-close").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mini-player")).to_be_hidden()
    expect(page.locator("#result-list > li").nth(1).locator(".preview-btn")).to_be_focused()
