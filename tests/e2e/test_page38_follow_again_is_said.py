"""Session 38: "Follow my face again" says what it did.

The button goes once pressed, and focus goes to "Stop camera". Before, nothing was said: a screen
reader heard "Stop camera, button" and never learnt that the list follows the face again. Now the
mood's live region says so once, and the face's next line waits the page's 5-s gap after it.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_MOOD_ANNOUNCEMENTS, fake_analyzer, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

FOLLOW_WORDS = "The list follows your face again."
#: The mood's region says at most one line in this many milliseconds (calm.js GAP_MS).
GAP_MS = 5000


def test_follow_my_face_again_is_said_once_and_the_next_line_waits(page: Any) -> None:
    fake_analyzer(page, [(0.0, "sad", -0.7, -0.4)])
    pick_by_hand(page, "happy")
    page.get_by_role("tab", name="Camera").click()
    page.evaluate(RECORD_MOOD_ANNOUNCEMENTS)
    page.get_by_role("button", name="Start camera").click()
    follow = page.get_by_role("button", name="Follow my face again")
    expect(follow).to_be_visible()
    # The face's own line first, then its gap: after the press, the next line is the face's offer,
    # ready about a second later (the list settles on the face afresh), not held back by that line.
    page.wait_for_function("() => window.__moodSaid.some(([, text]) => text.includes('sad'))")
    page.wait_for_timeout(GAP_MS + 500)

    follow.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-stop")).to_be_focused()
    expect(follow).to_be_hidden()
    expect(page.locator("#mood-announce")).to_have_text(FOLLOW_WORDS)
    pressed_at = next(t for t, text in page.evaluate("window.__moodSaid") if text == FOLLOW_WORDS)

    page.wait_for_function(
        "() => window.__moodSaid.some(([, text]) => text.includes('A new list for sad is ready'))", timeout=20_000
    )
    after = [(t, text) for t, text in page.evaluate("window.__moodSaid") if t >= pressed_at and text]
    print(f"said from the press on: {[(round(t - pressed_at), text) for t, text in after]}")
    assert [text for _, text in after].count(FOLLOW_WORDS) == 1, after
    later = [(t, text) for t, text in after if text != FOLLOW_WORDS]
    assert later[0][0] - pressed_at >= GAP_MS - 50, f"the next line talked over the press's: {after}"
    expect(page.get_by_role("button", name="Show it")).to_be_visible()
    page.get_by_role("button", name="Stop camera").click()
