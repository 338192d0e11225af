"""What a camera frame writes: only what changed, and the frame-rate line at most once a second.

A screen reader's browse view is rebuilt whenever text in the accessibility tree changes, and a face
box made again every frame cuts its glide (a CSS transition) short. Before: in 20 s with a steady
face, the hidden "No face in view" note was rewritten 285 times, the face boxes were made again
every frame and the "frames/s · ms" line changed about 15 times a second.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsertools import fake_analyzer

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# Counts, per element, the mutations of its text and children (and, for the overlay, boxes added).
COUNT_WRITES = """() => {
  window.__writes = { stats: 0, note: 0, boxesAdded: 0 };
  window.__box = document.querySelector("#camera-overlay .face-box");
  const watch = (id, key) => new MutationObserver((records) => { window.__writes[key] += records.length; })
    .observe(document.getElementById(id), { childList: true, characterData: true, subtree: true, attributes: true });
  watch("camera-stats", "stats");
  watch("camera-note", "note");
  new MutationObserver((records) => {
    for (const r of records) window.__writes.boxesAdded += r.addedNodes.length;
  }).observe(document.getElementById("camera-overlay"), { childList: true });
  window.__framesAt = window.__frames || 0;
  window.__since = performance.now();
}"""

COUNT_FRAMES = """() => {
  const original = window.fetch;
  window.__frames = 0;
  window.fetch = async (...args) => {
    const answer = await original(...args);
    if (String(args[0]).includes("/api/analyze")) window.__frames++;
    return answer;
  };
}"""

STATS = r"^\d+\.\d frames/s · \d+ ms$"


@pytest.mark.parametrize("face", [True, False], ids=["face", "no-face"])
def test_a_steady_picture_rewrites_nothing_and_the_rate_once_a_second(page: Any, face: bool) -> None:
    fake_analyzer(page, [(0.0, "happy" if face else None, 0.8, 0.35)])
    page.evaluate(COUNT_FRAMES)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-stats")).to_have_text(re.compile(STATS))
    if face:
        expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    else:
        expect(page.locator("#camera-note")).to_be_visible()
    page.evaluate(COUNT_WRITES)
    page.wait_for_function("() => window.__frames - window.__framesAt >= 30")  # two seconds or more
    writes = page.evaluate("window.__writes")
    frames = page.evaluate("window.__frames - window.__framesAt")
    seconds = page.evaluate("(performance.now() - window.__since) / 1000")
    # About once a second (one write is one or two records: the text replaced), not once a frame.
    assert writes["stats"] <= 2 * (seconds + 1), (writes, frames, seconds)
    assert writes["note"] == 0, writes
    assert writes["boxesAdded"] == 0, writes
    if face:
        assert page.evaluate('window.__box === document.querySelector("#camera-overlay .face-box")')
