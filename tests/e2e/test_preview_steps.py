"""The preview bar's Previous and Next, and what happens when a preview ends (session 18).

Before: the bar had no way to the next preview: a keyboard user closed it, went back into the list,
found the next item's Preview button (a Tab and arrows) and pressed it, focus thrown into the bar's
audio each time. A preview that ended said nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browsertools import MARK_OLD, NEW_LIST, PREVIEW_URL, pick_by_hand, serve_previews, silent_wav

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _title(page: Any, index: int) -> str:
    text: str = page.locator("#result-list > li").nth(index).locator(".title").text_content()
    return text


def test_next_and_previous_step_through_the_list_and_keep_focus(page: Any) -> None:
    serve_previews(page)
    pick_by_hand(page, "sad")
    page.locator("#result-list > li").nth(1).locator(".preview-btn").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mini-audio")).to_be_focused()
    title = page.locator("#mini-title")
    expect(title).to_contain_text(_title(page, 1))
    bar = page.get_by_role("region", name="Preview player")
    following = bar.get_by_role("button", name="Next preview")
    before = bar.get_by_role("button", name="Previous preview")
    expect(following).to_have_accessible_description(re.compile(f"^{re.escape(_title(page, 2))} by "))
    page.keyboard.press("Shift+Tab")
    expect(before).to_be_focused()
    for _ in range(12):  # past the audio's own controls
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "mini-next":
            break
    expect(following).to_be_focused()
    page.keyboard.press("Enter")
    expect(title).to_contain_text(_title(page, 2))
    expect(following).to_be_focused()
    before.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(title).to_contain_text(_title(page, 0))
    # Nothing before the first: the button says so and keeps focus.
    expect(before).to_have_attribute("aria-disabled", "true")
    expect(before).to_have_accessible_description("none: this is the list's first preview")
    page.keyboard.press("Enter")
    expect(title).to_contain_text(_title(page, 0))
    expect(before).to_be_focused()

    # A new list comes under the bar while focus is on Next: focus stays; Next goes on from the
    # same place in the new list.
    following.focus()
    page.evaluate(MARK_OLD)
    page.locator("#strategy-group [data-strategy=energize]").click()
    page.wait_for_function(NEW_LIST)
    following.focus()
    expect(following).to_have_accessible_description(re.compile(f"^{re.escape(_title(page, 1))} by "))
    page.keyboard.press("Enter")
    expect(title).to_contain_text(_title(page, 1))
    expect(following).to_be_focused()
    # Closing goes back to the Preview button of the item now playing.
    page.get_by_role("button", name="Close preview").click()
    expect(page.locator("#result-list > li").nth(1).locator(".preview-btn")).to_be_focused()


def test_a_preview_that_ends_stays_ended_and_says_what_next_would_play(page: Any) -> None:
    serve_previews(page)
    sound = silent_wav(0.4)
    page.route(
        "https://*.dzcdn.net/**",
        lambda route: route.fulfill(status=200, content_type="audio/wav", body=sound),
    )
    pick_by_hand(page, "happy")
    page.locator("#result-list > li").first.locator(".preview-btn").click()
    status = page.locator("#mini-status")
    expect(status).to_have_text(f"Preview ended. Next preview: {_title(page, 1)}.")
    page.wait_for_timeout(1500)
    # No other track started by itself: the bar still holds the first, ended.
    expect(page.locator("#mini-title")).to_contain_text(_title(page, 0))
    assert page.evaluate("document.getElementById('mini-audio').ended")
    expect(status).not_to_have_class("error")


def test_after_the_list_got_shorter_next_does_not_go_backwards(page: Any) -> None:
    """Before: playing the 11th preview, a 3-item list came; "Previous" and "Next" both played the
    3rd item, Next going backwards, and Next was not marked as having nothing to play."""
    shorter = {"on": False}

    def lists(route: Any) -> None:
        reply = route.fetch()
        data = reply.json()
        for item in data["items"]:
            item["preview_url"] = PREVIEW_URL
        if shorter["on"]:
            data["items"] = data["items"][:3]
        route.fulfill(response=reply, body=json.dumps(data))

    serve_previews(page)
    page.route("**/api/lists?*", lists)  # the later route answers first
    pick_by_hand(page, "sad")
    assert page.locator("#result-list > li").count() > 10
    page.locator("#result-list > li").nth(10).locator(".preview-btn").click()
    bar = page.get_by_role("region", name="Preview player")
    following = bar.get_by_role("button", name="Next preview")
    before = bar.get_by_role("button", name="Previous preview")
    expect(page.locator("#mini-title")).to_contain_text(_title(page, 10))

    shorter["on"] = True
    page.evaluate(MARK_OLD)
    page.locator("#strategy-group [data-strategy=energize]").click()
    page.wait_for_function(NEW_LIST)
    expect(page.locator("#result-list > li")).to_have_count(3)
    expect(following).to_have_attribute("aria-disabled", "true")
    expect(following).to_have_accessible_description("none: this is the list's last preview")
    expect(before).to_have_attribute("aria-disabled", "false")
    expect(before).to_have_accessible_description(re.compile(f"^{re.escape(_title(page, 2))} by "))
    title = page.locator("#mini-title")
    playing = title.text_content()
    following.focus()
    page.keyboard.press("Enter")  # aria-disabled: Playwright's click() would wait for it
    page.wait_for_timeout(300)
    expect(title).to_have_text(playing or "")
    before.click()
    expect(title).to_contain_text(_title(page, 2))
    expect(following).to_have_attribute("aria-disabled", "true")
    expect(before).to_have_accessible_description(re.compile(f"^{re.escape(_title(page, 1))} by "))
