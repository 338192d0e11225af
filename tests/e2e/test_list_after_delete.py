"""The list on screen after "Delete everything", and failures that repeat (found by an outside review).

Before: after History → Delete my history → Delete everything, the list stayed on screen looking
usable, but it was one of the lists deleted: Like and Dislike failed ("Feedback not saved: No such
list in this session…"), the export links answered 404, and the second identical failure was not
said at all (a live region is heard only when its text changes).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import COUNT_ANNOUNCEMENTS, delete_everything_by_keyboard, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def test_deleting_everything_takes_the_list_on_screen_with_it(page: Any) -> None:
    pick_by_hand(page, "happy")
    delete_everything_by_keyboard(page)
    # Said in the dialog: while it is open, the rest of the page is out of a screen reader's reach.
    expect(page.locator("#history-status")).to_contain_text("The list on the page went with it.")
    page.keyboard.press("Escape")
    expect(page.locator("#history-open")).to_be_focused()
    expect(page.locator("#result-list > li")).to_have_count(0)
    for gone in ("#results-foot", "#not-mine", "#list-keys"):
        expect(page.locator(gone)).to_be_hidden()
    expect(page.locator("#results-empty")).to_be_visible()
    expect(page.locator("#results-status")).to_have_text("Your history was deleted, and this list with it.")
    expect(page.locator("#results-mood")).to_have_text("")
    expect(page.locator("#emotion-buttons [aria-pressed=true]")).to_have_count(0)

    # A new list works as any other: its feedback is saved.
    page.locator("#emotion-buttons").get_by_role("button", name="sad", exact=True).click()
    expect(page.locator("#results-mood")).to_contain_text("sad")
    page.locator("#result-list > li").first.locator(".fb-like").click()
    expect(page.locator("#results-status")).to_contain_text("Liked")


def test_a_failure_that_repeats_is_said_again(page: Any) -> None:
    pick_by_hand(page, "happy")
    refusal = {"error": {"code": "store_unavailable", "message": "the history store is not answering"}}
    page.route(
        "**/api/feedback",
        lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(refusal)),
    )
    page.evaluate(COUNT_ANNOUNCEMENTS)
    like = page.locator("#result-list > li").first.locator(".fb-like")
    like.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#results-status")).to_have_text("Feedback not saved: The history store is not answering.")
    page.wait_for_function("() => document.querySelector('.feedback[aria-busy]') === null")
    page.keyboard.press("Enter")
    failed = "() => window.__announced.filter((text) => text.startsWith('Feedback not saved')).length"
    page.wait_for_function(f"{failed} === 2")
    expect(like).to_be_focused()


def test_deleting_everything_while_the_first_list_loads_leaves_no_busy_line(page: Any) -> None:
    """After a reload, the page's first list was still loading when everything was deleted: the
    load was cut off, and "Finding music for this mood…" stayed in the status line (the results
    busy) with nothing loading (a review of the fix above)."""
    pick_by_hand(page, "sad")  # a list in the history, so that there is something to delete
    page.reload()
    page.route("**/api/lists?*", lambda route: None)  # this page's first list never comes back
    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    expect(page.locator("#results-status")).to_have_text("Finding music for this mood…")
    delete_everything_by_keyboard(page)
    page.keyboard.press("Escape")
    expect(page.locator("#results-status")).to_have_text("")
    expect(page.locator("#result-list")).not_to_have_attribute("aria-busy", "true")
