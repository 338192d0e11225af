""" "Delete everything" in the page: the visit goes on in a new session, without a reload.

Before: the session cookie stayed the same after "Delete everything", so a copy of it (a shared
computer, a log line) saw everything the person did next. Now the answer sends a new cookie and
its CSRF token, which the page takes at once (saving a list, feedback and calibrating work), and
the page's other tabs take it too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browsertools import TIMEOUT_MS, PageWatch, delete_everything_by_keyboard, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _like_first(page: Any) -> None:
    page.locator("#result-list > li").first.locator(".fb-like").click()
    expect(page.locator("#results-status")).to_contain_text("Liked")


def _session_cookie(context: Any) -> str:
    [cookie] = [c["value"] for c in context.cookies() if c["name"] == "moodtape_session"]
    return str(cookie)


def _history_ids(page: Any) -> list[str]:
    items = page.evaluate("() => fetch('/api/history').then((r) => r.json()).then((body) => body.items)")
    return [str(item["list_id"]) for item in items]


def test_after_deleting_everything_the_page_goes_on_in_a_new_session(page: Any, server: Any) -> None:
    pick_by_hand(page, "happy")
    old_cookie = _session_cookie(page.context)
    delete_everything_by_keyboard(page)
    expect(page.locator("#history-status")).to_contain_text("Deleted 1 list")
    page.keyboard.press("Escape")
    assert _session_cookie(page.context) != old_cookie, "Delete everything must end the session"

    # No reload: a list, feedback and a calibration all go through with the new token.
    pick_by_hand(page, "sad")
    _like_first(page)
    page.get_by_role("tab", name="Camera").click()
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)
    page.locator("#calibration-fold > summary").click()
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral)")
    [now] = _history_ids(page)

    # A copy of the old cookie sees none of it.
    with httpx.Client(base_url=server.url, cookies={"moodtape_session": old_cookie}, timeout=30) as replayed:
        assert replayed.get("/api/history").json() == {"items": [], "history": None}
        assert replayed.get(f"/api/lists/{now}").status_code == 404
        assert replayed.get("/api/calibration").json()["calibrated"] is False


def test_another_tab_takes_the_new_session_too(page: Any, server: Any) -> None:
    """Two tabs share the cookie: the one where nothing was pressed must not be refused next."""
    pick_by_hand(page, "happy")
    other = page.context.new_page()  # the same browser: the same cookie
    watch = PageWatch()
    other.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))
    other.goto(server.url)
    other.wait_for_function("() => document.body.dataset.ready === 'true'")
    pick_by_hand(other, "neutral")

    delete_everything_by_keyboard(page)
    expect(page.locator("#history-status")).to_contain_text("Deleted 2 lists")

    # The other tab let its list go (it went with the old session), and goes on without a reload.
    expect(other.locator("#result-list > li")).to_have_count(0)
    pick_by_hand(other, "sad")
    _like_first(other)
    assert len(_history_ids(other)) == 1
    watch.check(other)
