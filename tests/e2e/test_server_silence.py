"""A server that stops answering, and one that comes back.

Requests hang (no answer, no error): after their deadline (api.js ``DEADLINE_MS``: 10 s for a camera
frame, 60 s for a list, shortened here to 4 s) the page shows the outage as it does for a refused connection, in words,
never "AbortError". A server that answers again after an outage is said to be back.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import COUNT_ANNOUNCEMENTS, fake_analyzer, hold_requests

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Longer than the deadline it waits for, with room for a busy machine.
FRAME_DEADLINE_WAIT_MS = 15_000
LIST_DEADLINE_WAIT_MS = 12_000
#: The list deadline this test sets (the page's own is 60 s: Spotify and YouTube may take their time).
SHORT_LIST_DEADLINE = """async () => {
  const app = document.querySelector('script[src*="app.js"]').src;
  const api = await import(new URL("api.js", app).href);  // the page's own module instance
  api.DEADLINE_MS.list = 4000;
}"""


def test_camera_frames_that_get_no_answer_stop_looking_live(page: Any) -> None:
    """Before: "Live mood: happy", the boxes and "15.0 frames/s" stayed for as long as the server
    hung, with no banner."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    expect(page.locator("#mood-now")).to_contain_text("Live mood")
    hold_requests(page, "**/api/analyze?stream=*")

    banner = page.locator("#banner")
    expect(banner).to_be_visible(timeout=FRAME_DEADLINE_WAIT_MS)
    expect(banner).to_have_text(
        "The moodtape server did not answer in 10 s. Is moodtape serve still running? Trying again every few seconds."
    )
    expect(page.locator("#camera-stats")).to_have_text("No answer; retrying.")
    expect(page.locator("#mood-now")).not_to_contain_text("Live mood")
    expect(page.locator("#camera-overlay .face-box")).to_have_count(0)


def test_a_list_that_gets_no_answer_ends_its_busy_state(page: Any) -> None:
    """Before: "Finding music for this mood…" and aria-busy stayed for ever, with no banner."""
    page.get_by_role("tab", name="Pick by hand").click()
    page.evaluate(SHORT_LIST_DEADLINE)
    hold_requests(page, "**/api/lists?*")
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    busy_list = page.locator("#result-list")
    expect(busy_list).to_have_attribute("aria-busy", "true")
    expect(busy_list).not_to_have_attribute("aria-busy", "true", timeout=LIST_DEADLINE_WAIT_MS)
    expect(page.locator("#results-status")).to_have_text("The list did not change: the server did not answer.")
    expect(page.locator("#banner")).to_have_text(
        "The moodtape server did not answer in 4 s. Is moodtape serve still running?"
    )


def test_the_server_coming_back_is_said_and_the_outage_alert_has_no_code_marks(page: Any) -> None:
    """Before: the banner went without a word, and the alert read out "backtick moodtape serve backtick"."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    page.evaluate(COUNT_ANNOUNCEMENTS)

    def refuse(route: Any) -> None:
        route.abort("connectionrefused")

    page.route("**/api/analyze?stream=*", refuse)
    banner = page.locator("#banner")
    expect(banner).to_contain_text("Can't reach the moodtape server.")
    page.unroute("**/api/analyze?stream=*", refuse)  # the fake analyser answers again
    expect(banner).to_be_hidden()
    # Said politely, once, in a line of its own (the mood news the same answer brings must not
    # overwrite it before it is heard).
    page.wait_for_function("() => window.__announced.includes('Connected again.')")
    expect(page.locator("#connection-status")).to_have_text("Connected again.")
    expect(page.locator("#connection-status")).to_have_attribute("role", "status")
    said = page.evaluate("window.__announced")
    assert said.count("Connected again.") == 1, said
    assert "Can't reach the moodtape server. Is moodtape serve still running? Trying again every few seconds." in said
    assert not [text for text in said if "`" in text], said


def test_deadlines_hold_in_a_browser_without_abort_signal_timeout(page: Any) -> None:
    """A reviewer: `AbortSignal.timeout` (missing before Safari 16) was called unguarded, so there
    every request threw before it was sent. Without it (and without `AbortSignal.any`) the deadline
    still ends a request that gets no answer, said as a timeout, not taken for the page's own abort."""
    page.add_init_script("delete AbortSignal.timeout; delete AbortSignal.any;")
    page.reload()
    assert page.evaluate("typeof AbortSignal.timeout") == "undefined"
    page.get_by_role("tab", name="Pick by hand").click()
    page.evaluate(SHORT_LIST_DEADLINE)
    hold_requests(page, "**/api/lists?*")
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    expect(page.locator("#banner")).to_have_text(
        "The moodtape server did not answer in 4 s. Is moodtape serve still running?", timeout=LIST_DEADLINE_WAIT_MS
    )
    expect(page.locator("#results-status")).to_have_text("The list did not change: the server did not answer.")
