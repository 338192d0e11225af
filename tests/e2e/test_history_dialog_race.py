"""The History dialog and "Show this list" (a page probe, session 16).

Before: Escape while the chosen list was still loading closed the dialog, but the list behind the
page swapped anyway when it came, and the next time History was closed (Escape, nothing chosen)
focus went to the first track's Play instead of History. A list that could not be opened was said
only behind the modal dialog (inert, out of a screen reader's reach), and so was the line saying
which list was shown, and the server's outage alert written meanwhile was never heard.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import hold_requests, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# Every change of the watched element's text, and whether a modal dialog was open then (the page
# behind it is inert: what is written there then is not heard).
WATCH_WRITES = """(selector) => {
  window.__writes = window.__writes || {};
  const el = document.querySelector(selector);
  const log = (window.__writes[selector] = []);
  new MutationObserver(() => log.push({ text: el.textContent, modal: Boolean(document.querySelector(":modal")) }))
    .observe(el, { childList: true, characterData: true, subtree: true });
}"""

# Counts the answers the page has read (Response.json), in a task after the code awaiting them ran.
COUNT_PARSED = """() => {
  window.__parsed = [];
  const json = Response.prototype.json;
  Response.prototype.json = async function () {
    const value = await json.call(this);
    const url = this.url;
    setTimeout(() => window.__parsed.push(url));
    return value;
  };
}"""


def _open_history(page: Any) -> None:
    page.locator("#history-open").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-list .reopen").first).to_be_visible()


def _refuse_lists(page: Any, status: int = 503) -> None:
    refusal = {"error": {"code": "unavailable", "message": "the store is unavailable"}}
    page.route(
        "**/api/lists/*",
        lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(refusal)),
    )


def test_escape_while_a_list_loads_drops_it_and_focus_returns_to_history(page: Any) -> None:
    pick_by_hand(page, "sad")
    pick_by_hand(page, "happy")
    titles = page.locator("#result-list .title").all_text_contents()
    page.evaluate(COUNT_PARSED)
    held = hold_requests(page, "**/api/lists/*")
    _open_history(page)
    with page.expect_request("**/api/lists/*"):
        page.locator("#history-list .reopen").nth(1).focus()  # the older list: sad
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # changed my mind
    expect(page.locator("#history-dialog")).to_be_hidden()
    expect(page.locator("#history-open")).to_be_focused()

    # History again, and the old answer comes while it is open: it changes nothing.
    page.keyboard.press("Enter")
    expect(page.locator("#history-list .reopen").first).to_be_visible()
    held[0].continue_()
    page.wait_for_function("() => window.__parsed.some((url) => url.includes('/api/lists/'))")
    expect(page.locator("#history-dialog")).to_be_visible()
    assert page.locator("#result-list .title").all_text_contents() == titles
    expect(page.locator("#results-mood")).to_contain_text("happy")

    # Closed without choosing: focus goes back to History, not into the list.
    page.keyboard.press("Escape")
    expect(page.locator("#history-dialog")).to_be_hidden()
    expect(page.locator("#history-open")).to_be_focused()
    assert page.locator("#result-list .title").all_text_contents() == titles


def test_a_list_that_cannot_be_opened_is_said_in_the_dialog(page: Any) -> None:
    pick_by_hand(page, "sad")
    _open_history(page)
    _refuse_lists(page)
    reopen = page.locator("#history-list .reopen").first
    reopen.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-status")).to_have_text("Could not open that list: The store is unavailable.")
    expect(page.locator("#history-dialog")).to_be_visible()
    expect(reopen).to_be_focused()
    assert "Could not open that list" in page.locator("#history-dialog").aria_snapshot()
    page.keyboard.press("Escape")
    expect(page.locator("#history-open")).to_be_focused()


def test_which_list_was_opened_is_said_once_the_dialog_has_closed(page: Any) -> None:
    pick_by_hand(page, "sad")
    pick_by_hand(page, "happy")
    page.evaluate(WATCH_WRITES, "#results-status")
    _open_history(page)
    page.locator("#history-list .reopen").nth(1).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#history-dialog")).to_be_hidden()
    expect(page.locator("#result-list > li").first.locator(".ctl").first).to_be_focused()
    expect(page.locator("#results-mood")).to_contain_text("sad")
    page.wait_for_function(
        """() => window.__writes["#results-status"]
          .some((w) => w.text.startsWith("A list from your history") && !w.modal)""",
        timeout=5000,
    )


def test_the_outage_alert_written_while_the_dialog_was_open_is_said_when_it_closes(page: Any) -> None:
    pick_by_hand(page, "sad")
    _open_history(page)
    page.route("**/api/lists/*", lambda route: route.abort("internetdisconnected"))
    page.evaluate(WATCH_WRITES, "#banner")
    page.locator("#history-list .reopen").first.focus()
    page.keyboard.press("Enter")
    # The alert is written behind the dialog, where nobody hears it.
    expect(page.locator("#banner")).to_contain_text("Can't reach the moodtape server")
    page.keyboard.press("Escape")
    expect(page.locator("#history-open")).to_be_focused()
    # Written while the page was inert, then cleared and written again once it no longer is.
    page.wait_for_function(
        """() => window.__writes["#banner"].some((w) => w.text.includes("Can't reach") && !w.modal)""",
        timeout=5000,
    )
    expect(page.locator("#banner")).to_contain_text("Can't reach the moodtape server")
