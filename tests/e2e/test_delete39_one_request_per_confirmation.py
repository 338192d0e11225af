""" "Delete everything" pressed twice sends one deletion, and the history says the real count (session 39).

Before: the confirmation button took every press while its request was on the way, so a double
click, or Enter pressed twice, sent two ``DELETE /api/history``. The server runs them one after
the other, the second answering ``deleted: 0``, and whichever answer came last wrote the status
line: "Deleted 0 lists" could replace "Deleted 2 lists". Now the button is aria-disabled while its
request is on the way and ignores presses; it keeps focus (a disabled button would drop it to
<body>).

The deletion's request is held here until both presses are made, so that the second press surely
comes while the first is on the way, however fast the server answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browsertools import hold_requests, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Never served: fetched after the presses, and its arrival at the routes shows that the page's
#: requests made before it were routed too (see ``_after_the_presses``).
MARKER = "/__e2e_delete39_marker"


def _deletions(page: Any) -> list[str]:
    """Every ``DELETE /api/history`` the page sends from now on (Playwright's request events)."""
    sent: list[str] = []

    def seen(request: Any) -> None:
        if request.method == "DELETE" and "/api/history" in request.url:
            sent.append(request.url)

    page.on("request", seen)
    return sent


def _to_the_confirmation(page: Any) -> None:
    """Two lists in the history, then History → Delete my history: "Delete everything" is shown."""
    pick_by_hand(page, "happy")
    pick_by_hand(page, "sad")
    page.locator("#history-open").click()
    expect(page.locator("#history-list > li")).to_have_count(2)
    page.locator("#history-delete").click()
    expect(page.locator("#history-delete-yes")).to_be_visible()


def _after_the_presses(page: Any, held: list[Any]) -> None:
    """Wait until the first deletion is held and a request made after both presses reached the
    routes: a second deletion, sent before it, would be held (and seen) by then."""
    assert page.evaluate(f"() => fetch('{MARKER}').then((r) => r.status)") == 204
    assert held, "the deletion was never sent"


def _check_one_deletion(page: Any, press_twice: Callable[[], None]) -> None:
    sent = _deletions(page)
    _to_the_confirmation(page)
    page.route(f"**{MARKER}", lambda route: route.fulfill(status=204))
    held = hold_requests(page, "**/api/history?confirm=true")
    yes = page.locator("#history-delete-yes")
    press_twice()
    _after_the_presses(page, held)
    assert len(sent) == 1, f"one confirmation sent {len(sent)} deletions"

    # While the deletion is on the way the button says so and keeps focus.
    expect(yes).to_have_attribute("aria-disabled", "true")
    expect(yes).to_be_focused()
    expect(page.locator("#history-status")).to_have_text("Deleting everything…")

    while held:
        held.pop(0).continue_()
    expect(page.locator("#history-status")).to_contain_text("Deleted 2 lists.")
    expect(page.locator("#history-close")).to_be_focused()
    assert len(sent) == 1, f"one confirmation sent {len(sent)} deletions"
    expect(yes).not_to_have_attribute("aria-disabled", "true")


def test_a_double_click_sends_one_deletion(page: Any) -> None:
    yes = page.locator("#history-delete-yes")
    _check_one_deletion(page, lambda: yes.dblclick())


def test_enter_pressed_twice_sends_one_deletion(page: Any) -> None:
    def enter_twice() -> None:
        page.locator("#history-delete-yes").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")

    _check_one_deletion(page, enter_twice)
