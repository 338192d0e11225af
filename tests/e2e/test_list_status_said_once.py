"""One list, one line in the list's status region (session 20).

Before: every list wrote "Finding music for this mood…" at once, and its own line ("12 tracks,
strategy calm.") 50–80 ms later, when the offline catalog answered: two lines in a polite live
region within a tenth of a second, the first cut off by the second. The camera's first list said
both with no key pressed. Now the progress line waits a second, and is said only for a list that
keeps the person waiting.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import COUNT_ANNOUNCEMENTS, Server, fake_analyzer, hold_requests, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

STATUS_LINES = "() => window.__announced.filter((text) => /Finding music|tracks, strategy/.test(text))"
#: How long the first list took, request to answer, in seconds (Resource Timing).
LIST_SECONDS = """() => performance.getEntriesByType("resource")
  .filter((entry) => entry.name.includes("/api/lists?"))[0].duration / 1000"""


def test_the_cameras_first_list_is_said_in_one_line(browser: Any, server: Server) -> None:
    with watched_page(browser, server) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.evaluate(COUNT_ANNOUNCEMENTS)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_attached()
        expect(page.locator("#results-status")).to_contain_text("tracks, strategy")
        page.wait_for_timeout(1200)  # past the progress line's delay: nothing more comes
        lines = page.evaluate(STATUS_LINES)
        assert lines[-1].startswith("12 tracks, strategy"), lines
        # On a loaded machine the list may truly keep the person waiting over a second: then, and
        # only then, the progress line comes first.
        waited = page.evaluate(LIST_SECONDS)
        assert len(lines) == (2 if waited > 0.95 else 1), (lines, waited)


def test_a_list_that_keeps_the_person_waiting_still_says_so(browser: Any, server: Server) -> None:
    with watched_page(browser, server) as page:
        held = hold_requests(page)
        page.get_by_role("tab", name="Pick by hand").click()
        page.evaluate(COUNT_ANNOUNCEMENTS)
        page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
        expect(page.locator("#result-list")).to_have_attribute("aria-busy", "true")
        page.wait_for_timeout(2500)  # the list keeps the person waiting
        held.pop().continue_()
        expect(page.locator("#result-list > li").first).to_be_attached()
        expect(page.locator("#result-list")).not_to_have_attribute("aria-busy", "true")
        lines = page.evaluate(STATUS_LINES)
        assert lines[0] == "Finding music for this mood…" and len(lines) == 2, lines
        assert lines[1].startswith("12 tracks, strategy"), lines
