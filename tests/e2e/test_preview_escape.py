"""Escape closes the preview bar from its buttons and the audio element, focus back on the Preview
button (not from inside the browser's own audio controls: Chromium keeps Escape there, and no page
listener sees it).

Before, Escape did nothing there, unlike "Not my mood" and History: the bar could only be closed by
finding its Close button.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import pick_by_hand, serve_previews

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


@pytest.mark.parametrize("inside", ["mini-audio", "mini-next"])
def test_escape_closes_the_preview_and_focus_goes_back(page: Any, inside: str) -> None:
    serve_previews(page)
    pick_by_hand(page, "sad")
    opener = page.locator("#result-list > li").nth(1).locator(".preview-btn")
    opener.focus()
    page.keyboard.press("Enter")
    bar = page.get_by_role("region", name="Preview player")
    expect(bar).to_be_visible()
    page.locator(f"#{inside}").focus()
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    expect(opener).to_be_focused()
    assert page.evaluate("document.getElementById('mini-audio').paused")
