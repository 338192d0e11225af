"""Answers that come late on a slow network must not undo what came after them (a page probe, session 18).

Before: a Dislike whose answer came after a newer list (a strategy pressed meanwhile, "Show it")
put the old list's replacement row into the new list, made the old list the one that feedback and
export spoke of, and took focus from wherever the person was into that row's Undo. An Undo whose
answer came late drew the whole old list over the new one.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import MARK_OLD, NEW_LIST, hold_requests, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

TITLES = "[...document.querySelectorAll('#result-list .title')].map((t) => t.textContent)"


def _newer_list_meanwhile(page: Any) -> list[str]:
    """Press Uplift from the keyboard and wait for its list; returns its titles (focus stays on Uplift)."""
    page.evaluate(MARK_OLD)
    uplift = page.locator("#strategy-group [data-strategy=uplift]")
    uplift.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(NEW_LIST)
    expect(page.locator("#results-status")).to_contain_text("uplift")
    expect(uplift).to_be_focused()
    titles: list[str] = page.evaluate(TITLES)
    return titles


def test_a_late_dislike_leaves_the_newer_list_and_focus_alone(page: Any) -> None:
    pick_by_hand(page, "sad")
    held = hold_requests(page, "**/api/feedback")
    dislike = page.locator("#result-list > li").nth(2).locator(".fb-dislike")
    dislike.focus()
    with page.expect_request("**/api/feedback"):
        page.keyboard.press("Enter")
    export_before = page.locator("#export-csv").get_attribute("href")
    titles = _newer_list_meanwhile(page)
    export_new = page.locator("#export-csv").get_attribute("href")
    assert export_new != export_before
    with page.expect_response("**/api/feedback"):
        for route in held:
            route.continue_()
    expect(page.locator("#results-status")).to_contain_text("Disliked")
    page.wait_for_timeout(300)  # the answer's handling is done by now (it was a few ms before)
    assert page.evaluate(TITLES) == titles, "the old list's replacement row went into the newer list"
    assert page.locator("#result-list .undo-btn").count() == 0
    expect(page.locator("#strategy-group [data-strategy=uplift]")).to_be_focused()
    # Feedback and export still speak of the list on screen, not of the old one.
    assert page.locator("#export-csv").get_attribute("href") == export_new
    like = page.locator("#result-list > li").nth(0).locator(".fb-like")
    with page.expect_request("**/api/feedback") as sent:
        like.focus()
        page.keyboard.press("Enter")
    assert sent.value.post_data_json["list"] in (export_new or "")


def test_a_late_undo_does_not_draw_the_old_list_over_the_newer_one(page: Any) -> None:
    pick_by_hand(page, "sad")
    items = page.locator("#result-list > li")
    items.nth(2).locator(".fb-dislike").focus()
    page.keyboard.press("Enter")
    undo = items.nth(2).locator(".undo-btn")
    expect(undo).to_be_focused()
    held = hold_requests(page, "**/api/lists/*/undo")
    with page.expect_request("**/api/lists/*/undo"):
        page.keyboard.press("Enter")
    titles = _newer_list_meanwhile(page)
    with page.expect_response("**/api/lists/*/undo"):
        for route in held:
            route.continue_()
    page.wait_for_timeout(300)
    assert page.evaluate(TITLES) == titles, "the undone old list was drawn over the newer one"
    expect(page.locator("#results-status")).to_contain_text("uplift")
    expect(page.locator("#strategy-group [data-strategy=uplift]")).to_be_focused()


def test_a_late_correction_is_made_with_the_choice_pressed_meanwhile_and_leaves_focus_alone(page: Any) -> None:
    """Before: "Not my mood" answered after Uplift's list had come: the answer's list (made with the
    strategy of before) replaced it while Uplift stayed pressed, and focus left Uplift for the list."""
    pick_by_hand(page, "sad")
    page.locator("#not-mine-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#not-mine-select")).to_be_focused()
    page.locator("#not-mine-select").select_option("happy")
    page.keyboard.press("Tab")
    held = hold_requests(page, "**/api/feedback")
    with page.expect_request("**/api/feedback"):
        page.keyboard.press("Enter")
    _newer_list_meanwhile(page)
    uplift_for_happy = "**/api/lists?emotion=happy&strategy=uplift*"
    with page.expect_request(uplift_for_happy):
        for route in held:
            route.continue_()
    expect(page.locator("#results-status")).to_contain_text("Using “happy”")
    expect(page.locator("#results-mood")).to_contain_text("happy")
    expect(page.locator("#strategy-group [data-strategy=uplift]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#strategy-group [data-strategy=uplift]")).to_be_focused()
