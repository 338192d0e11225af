"""A focused button keeps its name while what it started runs (session 30): a screen reader says a
button's name when focus comes to it, not when it changes under focus.

Failed before: "Calibrate to my face", pressed by Enter with the camera on, was renamed "Calibrate
again" 1.4 s into its step, while the step still ran (aria-disabled) and focus was on it: nothing
said it, the step was not done yet, and a step short of frames renamed it back at its end.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Every change of the focused element's name from now on: [old, new, aria-disabled at the change].
WATCH_FOCUSED_NAME = """() => {
  window.__renames = [];
  let el = null;
  let name = null;
  const nameOf = (e) => (e.getAttribute("aria-label") || e.textContent).trim();
  const check = () => {
    const now = document.activeElement;
    if (now !== el) {
      el = now;
      name = nameOf(now);
      return;
    }
    const renamed = nameOf(now);
    if (renamed !== name) window.__renames.push([name, renamed, now.getAttribute("aria-disabled")]);
    name = renamed;
  };
  check();
  const all = { subtree: true, childList: true, characterData: true, attributes: true };
  new MutationObserver(check).observe(document.body, all);
  document.addEventListener("focusin", check);
}"""


def test_calibrate_keeps_its_name_while_its_step_runs(page: Any) -> None:
    """The real server reads the fake camera's face: the step ends "Done…", and only then is the
    focused button "Calibrate again", as the prompt says how it went."""
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-stop")).to_be_focused()
    page.locator("#calibration-fold > summary").focus()
    page.keyboard.press("Enter")
    start = page.get_by_role("button", name="Calibrate to my face")
    start.focus()
    page.evaluate(WATCH_FOCUSED_NAME)
    page.keyboard.press("Enter")
    expect(page.locator("#calibration-state")).to_have_text("Calibrated (neutral)", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration [role=status]")).to_contain_text("Done", timeout=TIMEOUT_MS)
    again = page.get_by_role("button", name="Calibrate again")
    expect(again).to_be_focused()
    expect(again).not_to_have_attribute("aria-disabled", "true")
    renames = page.evaluate("window.__renames")
    assert renames == [["Calibrate to my face", "Calibrate again", "false"]], renames
