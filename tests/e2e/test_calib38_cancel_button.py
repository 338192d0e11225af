"""A calibration step under way can be cancelled with a visible Cancel, not only with Escape.

Before session 38, Escape was the only way to stop a step (the few seconds of "look neutral",
"smile", …), and nothing on the page said so: a touch screen, a mouse or a switch could only wait
it out. Now Cancel shows beside the countdown while a step runs: pressed (a click, Enter, Space) it
does what Escape does ("Calibration cancelled.", said once; a neutral step leaves no calibration,
an expression keeps the neutral one), goes, and sends focus to the button that started the step.
Its description says that Escape works too. Its line is kept while the fold is open, so that it
moves nothing as it comes and goes.

Also: a step stopped by "Stop camera" wrote "Calibration stopped: the camera was turned off." into
two live regions (the prompt, hidden with the camera's stage, and the page's status line); the
prompt is no live region while it holds words said elsewhere, so the words are announced once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import COUNT_ANNOUNCEMENTS, RECORD_SHIFTS, TIMEOUT_MS, start_camera, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

PROMPT = "#calibration .prompt"
CANCELLED = "Calibration cancelled."
NEUTRAL = "Look at the camera with a relaxed, neutral face…"


def _cancel(page: Any) -> Any:
    return page.locator("#calibration").get_by_role("button", name="Cancel", exact=True)


def _open_calibration(page: Any, *, by_keyboard: bool) -> Any:
    """Camera on, the fold open (clicked, or by keyboard); returns "Calibrate to my face"."""
    start_camera(page, by_keyboard=by_keyboard)
    summary = page.locator("#calibration-fold > summary")
    if by_keyboard:
        summary.focus()
        page.keyboard.press("Enter")
    else:
        summary.click()
    return page.get_by_role("button", name="Calibrate to my face")


def _said(page: Any, text: str) -> int:
    """How often ``text`` was written into a live region since COUNT_ANNOUNCEMENTS started."""
    count: int = page.evaluate(f"window.__announced.filter((t) => t === {json.dumps(text)}).length")
    return count


def _calibrated(page: Any) -> dict[str, Any]:
    status: dict[str, Any] = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    return status


# Each text the prompt is given, with whether it is a live region then (its aria-live).
RECORD_PROMPT = """() => {
  window.__prompt = [];
  const el = document.querySelector("#calibration .prompt");
  new MutationObserver(() => window.__prompt.push([el.getAttribute("aria-live"), el.textContent]))
    .observe(el, { childList: true, characterData: true, subtree: true });
}"""


def _step_over(page: Any) -> None:
    expect(page.locator("#calibration .start")).to_have_attribute("aria-disabled", "false", timeout=TIMEOUT_MS)


def test_a_click_on_cancel_stops_the_step_and_says_so_once(page: Any) -> None:
    start = _open_calibration(page, by_keyboard=False)
    cancel = _cancel(page)
    expect(cancel).to_be_hidden()  # no step runs: nothing to cancel
    page.evaluate(COUNT_ANNOUNCEMENTS)
    start.click()
    expect(page.locator(PROMPT)).to_have_text(NEUTRAL)
    expect(cancel).to_be_visible()
    expect(cancel).to_have_accessible_description("Escape also cancels.")
    expect(page.locator("#calibration-cancel-key")).to_be_visible()  # said to the eyes too
    cancel.click()
    expect(page.locator(PROMPT)).to_have_text(CANCELLED, timeout=TIMEOUT_MS)
    _step_over(page)
    page.wait_for_timeout(1500)  # longer than the gap between two frames: none may follow
    assert _said(page, CANCELLED) == 1, page.evaluate("window.__announced")
    expect(cancel).to_be_hidden()
    expect(start).to_be_focused()  # the button that started the step, not <body>
    # As with Escape: a neutral step cancelled leaves no calibration behind.
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    assert _calibrated(page)["calibrated"] is False


def test_cancel_by_keyboard_from_the_neutral_step_and_an_expression(page: Any) -> None:
    """Enter on Cancel (Tab from the button pressed) in the neutral step; then, calibrated, Space on
    Cancel in the Smile step, which keeps the neutral calibration, as Escape does."""
    start = _open_calibration(page, by_keyboard=True)
    page.keyboard.press("Tab")
    expect(start).to_be_focused()
    page.evaluate(COUNT_ANNOUNCEMENTS)
    page.keyboard.press("Enter")
    expect(page.locator(PROMPT)).to_have_text(NEUTRAL)
    page.keyboard.press("Tab")  # Remove and the steps are invisible until calibrated
    expect(_cancel(page)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(PROMPT)).to_have_text(CANCELLED, timeout=TIMEOUT_MS)
    expect(start).to_be_focused()
    _step_over(page)
    assert _said(page, CANCELLED) == 1, page.evaluate("window.__announced")
    assert _calibrated(page)["calibrated"] is False

    page.keyboard.press("Enter")  # a whole neutral step this time
    expect(page.locator("#calibration-state")).to_contain_text("Calibrated", timeout=TIMEOUT_MS)
    _step_over(page)
    smile = page.get_by_role("button", name="Smile")
    smile.focus()
    page.evaluate("window.__announced = []")  # the same watch, from now on
    page.keyboard.press("Space")
    expect(page.locator(PROMPT)).to_have_text("Smile!")
    for _ in range(4):  # Frown, Look sad, Look surprised, Cancel
        page.keyboard.press("Tab")
    expect(_cancel(page)).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator(PROMPT)).to_have_text(CANCELLED, timeout=TIMEOUT_MS)
    expect(smile).to_be_focused()
    _step_over(page)
    assert _said(page, CANCELLED) == 1, page.evaluate("window.__announced")
    assert _calibrated(page)["calibrated"] is True  # the neutral calibration stays


def test_a_step_that_ends_with_focus_on_cancel_gives_focus_back(page: Any) -> None:
    """Cancel goes when the step is done by itself: focus on it goes to the button pressed, not <body>."""
    start = _open_calibration(page, by_keyboard=True)
    start.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(_cancel(page)).to_be_focused()
    expect(page.locator(PROMPT)).to_contain_text("Done", timeout=TIMEOUT_MS)
    expect(_cancel(page)).to_be_hidden()
    expect(page.get_by_role("button", name="Calibrate again")).to_be_focused()


@pytest.mark.parametrize("size", [(320, 800), (1280, 900)])
def test_cancel_coming_and_going_moves_nothing(browser: Any, server: Any, size: tuple[int, int]) -> None:
    """Layout shifts no input explained (the browser's measure, as in CLS) while Cancel appears at
    the press and goes when a step ends by itself, and when pressed; its target is at least 24 px."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        _open_calibration(page, by_keyboard=True)
        start = page.locator("#calibration .start")  # "Calibrate to my face", then "Calibrate again"
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
        page.evaluate("() => document.querySelector('#calibration .prompt').scrollIntoView({ block: 'center' })")
        page.wait_for_timeout(600)
        row = page.locator("#calibration .step-row")
        height = row.bounding_box()["height"]
        page.evaluate(RECORD_SHIFTS)
        start.focus()
        page.keyboard.press("Enter")
        cancel = _cancel(page)
        expect(cancel).to_be_visible()
        # The press gave the prompt above the room of the step's last words (by design): the row is
        # lower now, and stays where it is from here on.
        before = row.bounding_box()
        assert before["height"] == height  # the same room, with or without Cancel
        page.wait_for_timeout(1500)  # the countdown's first number is in
        box = cancel.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box
        assert row.bounding_box() == before
        expect(page.locator(PROMPT)).to_contain_text("Done", timeout=TIMEOUT_MS)
        expect(cancel).to_be_hidden()
        page.wait_for_timeout(800)
        assert row.bounding_box() == before
        start.focus()
        page.keyboard.press("Enter")  # Calibrate again, then Cancel by mouse
        cancel.click()
        expect(page.locator(PROMPT)).to_have_text(CANCELLED, timeout=TIMEOUT_MS)
        _step_over(page)
        page.wait_for_timeout(800)
        shifts = page.evaluate("window.__shifts")
        assert sum(shift["value"] for shift in shifts) < 0.001, shifts
        assert row.bounding_box() == before


def test_a_step_stopped_with_the_camera_is_said_once(page: Any) -> None:
    """Before: "Stop camera" mid-step wrote the words into the prompt (a live region, hidden with the
    camera's stage) and into the page's status line: two live regions said them. The prompt still
    shows them when the camera is back, as no live region, and is one again for the next step."""
    said = "Calibration stopped: the camera was turned off."
    start = _open_calibration(page, by_keyboard=True)
    start.focus()
    page.evaluate(COUNT_ANNOUNCEMENTS)
    page.evaluate(RECORD_PROMPT)
    page.keyboard.press("Enter")
    expect(page.locator(PROMPT)).to_have_text(NEUTRAL)
    page.locator("#camera-stop").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => window.__announced.includes({json.dumps(said)})", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    assert _said(page, said) == 1, page.evaluate("window.__announced")
    heard = page.locator("main [role=status]:not([aria-live=off])", has_text=said)
    expect(heard).to_have_count(1)
    assert heard.evaluate("(el) => !el.closest('[hidden]')")  # in the page, not in the hidden stage

    page.locator("#camera-start").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 1", timeout=TIMEOUT_MS)
    expect(page.locator(PROMPT)).to_have_text(said)  # for the eyes
    assert _said(page, said) == 1, page.evaluate("window.__announced")
    page.get_by_role("button", name="Calibrate to my face").click()
    expect(page.locator(PROMPT)).to_have_text(NEUTRAL)
    # Live again before the next step's words: they are heard.
    assert page.evaluate("window.__prompt") == [["polite", NEUTRAL], ["off", said], ["polite", NEUTRAL]]
