"""A list made while the address's daily history budget is spent is shown, with a short note.

The server answers such a list as usual (201) with ``kept: false`` and ``kept_note``
(store/write_budget.py). Before, it refused it with a 429 and the page showed no list at all. The
note stays beside each such list; the status line (a live region) says it once, not with every list.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import pick_by_hand

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

NOTE = "Not kept in your history: this address has saved as much history today as the server keeps."


def _not_kept(route: Any) -> None:
    """The real list answer, as the server sends it for a list over the day's budget."""
    answer = route.fetch()
    body = {**answer.json(), "kept": False, "kept_note": NOTE}
    route.fulfill(response=answer, body=json.dumps(body), status=201)


def test_a_list_not_kept_is_shown_with_its_note_said_once(page: Any) -> None:
    page.route("**/api/lists?*", _not_kept)
    pick_by_hand(page, "happy")
    expect(page.locator("#result-list > li").first).to_be_visible()
    expect(page.locator("#results-status")).to_contain_text(NOTE)
    expect(page.locator("#fallbacks")).to_contain_text(NOTE)
    pick_by_hand(page, "sad")
    expect(page.locator("#results-status")).to_contain_text("strategy")
    expect(page.locator("#results-status")).not_to_contain_text(NOTE)
    expect(page.locator("#fallbacks")).to_contain_text(NOTE)
