"""The camera's offer of a new list: "Show it" says which list it shows (session 35).

A screen reader user who Tabs to the offer hears the focused control alone: before, that was "Show
it, button", with nothing to say what "it" is (the words beside it, "Your face has looked sad for a
few seconds. New list ready —", are not part of the button). Now the button keeps its short name and
is described by those words, as the list's Like, Skip and Dislike are by their track.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS, fake_analyzer

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def test_show_it_is_described_by_the_offer_s_words(page: Any) -> None:
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (3.0, "sad", -0.7, -0.4)])
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#new-list")).to_be_visible(timeout=TIMEOUT_MS)
    show = page.locator("#new-list-show")
    show.focus()
    expect(show).to_have_accessible_name("Show it")
    expect(show).to_have_accessible_description("Your face has looked sad for a few seconds. New list ready —")
    page.locator("#camera-stop").focus()
    page.keyboard.press("Enter")
