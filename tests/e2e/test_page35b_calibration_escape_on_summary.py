"""Escape on the calibration fold's summary cancels a step under way, as it does from the fold's
buttons (docs/page.md: "Escape on any of its controls cancels a step under way"); session 35.

Before: the listener was on the section inside the fold, so Escape on its summary (Shift+Tab from
"Calibrate to my face" lands there) did nothing: the step ran on to its end.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def test_escape_on_the_summary_cancels_the_step_and_keeps_focus_there(page: Any) -> None:
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0", timeout=TIMEOUT_MS)
    summary = page.locator("#calibration-fold > summary")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    start = page.get_by_role("button", name="Calibrate to my face")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")
    prompt = page.locator("#calibration [role=status]")
    expect(prompt).to_contain_text("neutral face")
    page.keyboard.press("Shift+Tab")
    expect(summary).to_be_focused()
    page.keyboard.press("Escape")
    expect(prompt).to_have_text("Calibration cancelled.", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    calibrated = page.evaluate("() => fetch('/api/calibration').then((r) => r.json()).then((s) => s.calibrated)")
    assert calibrated is False
    expect(summary).to_be_focused()
    expect(page.locator("#calibration-fold")).to_have_attribute("open", "")
