"""A calibration by keyboard at 320 px wide moves nothing below it when a step ends.

Before session 38, the prompt kept the room of two lines; a step's last words ("Done, but your face
looked happy, not relaxed: …", "Your happy face was counted, not learnt, …") took six at 320 px and
came seconds after the key press: the list below moved down 84 px (a layout shift of 0.0198 no input
explained, once per step). Now the room is kept from the press on. The fake camera's astronaut
smiles, so her steps end with those longest words.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, TIMEOUT_MS, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

PROMPT = "#calibration [role=status]"


def _step_over(page: Any) -> None:
    """Wait until the step under way has ended (its buttons usable again), and a little more."""
    expect(page.locator("#calibration .start")).to_have_attribute("aria-disabled", "false", timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)


@pytest.mark.parametrize("size", [(320, 800), (1280, 900)])
def test_the_last_words_of_a_step_move_nothing(browser: Any, server: Any, size: tuple[int, int]) -> None:
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
        page.locator("#calibration-fold > summary").focus()
        page.keyboard.press("Enter")
        # The list below the prompt in view, where a shift of it is seen (and counted, as CLS does).
        page.evaluate("() => document.querySelector('#calibration .prompt').scrollIntoView({ block: 'center' })")
        page.wait_for_timeout(600)
        page.evaluate(RECORD_SHIFTS)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Calibrate to my face
        expect(page.locator(PROMPT)).to_contain_text("Done, but your face looked happy", timeout=TIMEOUT_MS)
        _step_over(page)
        page.keyboard.press("Tab")  # Remove calibration
        page.keyboard.press("Tab")  # Smile
        expect(page.get_by_role("button", name="Smile")).to_be_focused()
        page.keyboard.press("Space")
        expect(page.locator(PROMPT)).to_contain_text("counted, not learnt", timeout=TIMEOUT_MS)
        _step_over(page)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")  # Remove calibration: focus goes to the start button
        expect(page.locator(PROMPT)).to_have_text("Calibration removed.")
        page.keyboard.press("Enter")  # a second calibration
        expect(page.locator(PROMPT)).to_contain_text("Done, but", timeout=TIMEOUT_MS)
        _step_over(page)
        shifts = page.evaluate("window.__shifts")
        assert sum(shift["value"] for shift in shifts) < 0.001, shifts
        top = page.evaluate("() => document.querySelector('#calibration .prompt').getBoundingClientRect().height")
        assert top < size[1] / 2, top  # the room kept is the words', not the screen's
