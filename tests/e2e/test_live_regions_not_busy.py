"""No live region speaks from inside a busy element (session 21).

WAI-ARIA lets assistive technology hold back the changes inside an element marked
``aria-busy="true"`` until it is no longer busy; NVDA and JAWS do. Before, a loading list marked
its whole card busy, and the card holds the list's status line (``#results-status``): "Finding
music for this mood…" was written inside a busy element, so a screen reader could keep it back
for as long as it mattered and then merge it with, or drop it for, the list's own line, which was
written while the card was still busy too. Now only the list being replaced (``#result-list``) is
busy, and the status line is outside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import hold_requests, pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Every text change of every live region into ``window.__liveWrites`` ({region, text, busy}), with
#: whether the region or an ancestor was ``aria-busy="true"`` at the moment of the change. The
#: observer sees a task's changes only after the task, when the script may already have cleared
#: aria-busy (the list's line and the end of the busy state come in one task), so it replays the
#: batch's aria-busy changes from their old values instead of reading the attribute afterwards.
RECORD_LIVE_WRITES = """() => {
  window.__liveWrites = [];
  const LIVE = '[role="status"], [role="alert"], [role="log"], [aria-live]:not([aria-live="off"])';
  const regionOf = (node) => {
    const el = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return el ? el.closest(LIVE) : null;
  };
  new MutationObserver((records) => {
    // Each aria-busy change's new value: the next change's old value, or the attribute as now.
    const after = new Map();
    const newValues = new Map();
    for (const r of [...records].reverse()) {
      if (r.type !== "attributes") continue;
      newValues.set(r, after.has(r.target) ? after.get(r.target) : r.target.getAttribute("aria-busy"));
      after.set(r.target, r.oldValue);
    }
    const busy = after; // from here on: each changed element's value at the point of the replay
    const valueOf = (el) => (busy.has(el) ? busy.get(el) : el.getAttribute("aria-busy"));
    const busyAt = (el) => {
      for (let node = el; node; node = node.parentElement) if (valueOf(node) === "true") return true;
      return false;
    };
    for (const r of records) {
      if (r.type === "attributes") {
        busy.set(r.target, newValues.get(r));
        continue;
      }
      const region = regionOf(r.target);
      if (!region) continue;
      const text = region === r.target && r.type === "childList"
        ? [...r.addedNodes].map((n) => n.textContent).join("")
        : region.textContent;
      window.__liveWrites.push({ region: region.id || region.className, text: text.trim(), busy: busyAt(region) });
    }
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ["aria-busy"], attributeOldValue: true,
  });
}"""

WRITES = "() => window.__liveWrites"
WRITTEN_UNDER_BUSY = "() => window.__liveWrites.filter((w) => w.busy)"


def written(page: Any, region: str) -> list[str]:
    """The texts written into the live region with id ``region``, in order."""
    return [w["text"] for w in page.evaluate(WRITES) if w["region"] == region]


def test_finding_music_and_the_lists_line_are_written_outside_any_busy_element(page: Any) -> None:
    held = hold_requests(page)
    page.get_by_role("tab", name="Pick by hand").click()
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    expect(page.locator("#results-status")).to_have_text("Finding music for this mood…")  # past 1 s
    assert page.locator("[aria-busy='true']").count() == 1, "nothing marked busy while the list loads"
    held.pop().continue_()
    expect(page.locator("#result-list > li").first).to_be_attached()
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    lines = written(page, "results-status")
    assert lines[0] == "Finding music for this mood…", lines
    assert lines[-1].startswith("12 tracks, strategy"), lines
    assert page.evaluate(WRITTEN_UNDER_BUSY) == [], page.evaluate(WRITES)


def test_feedback_answered_while_a_list_loads_is_written_outside_any_busy_element(page: Any) -> None:
    """Like pressed (its group busy until the answer), then Calm: the Like's answer comes while the
    Calm list is loading. Before, "Liked …" was written inside the busy card."""
    pick_by_hand(page, "happy")
    feedback = hold_requests(page, "**/api/feedback")
    lists = hold_requests(page)
    page.evaluate(RECORD_LIVE_WRITES)
    page.locator("#result-list > li").first.locator(".fb-like").click()
    expect(page.locator(".feedback[aria-busy='true']")).to_have_count(1)
    page.locator("#strategy-group [data-strategy=calm]").click()
    page.wait_for_function("() => document.querySelectorAll('[aria-busy=\"true\"]').length === 2")
    feedback.pop().continue_()
    expect(page.locator("#results-status")).to_contain_text("Liked")
    lists.pop().continue_()
    expect(page.locator("#results-status")).to_contain_text("tracks, strategy calm")
    expect(page.locator("[aria-busy='true']")).to_have_count(0)
    assert any(text.startswith("Liked") for text in written(page, "results-status")), page.evaluate(WRITES)
    assert page.evaluate(WRITTEN_UNDER_BUSY) == [], page.evaluate(WRITES)
