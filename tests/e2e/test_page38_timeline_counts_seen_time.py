"""Session 38: the timeline's summary counts only the time the camera was watched.

The page hidden (another tab, a locked phone) lets the camera go, and no frame is read until it is
back. Before, the summary spoke of the whole span since its first sample: 4 s watched, 12 s hidden
and 4 s watched again were "Over the last 20 s", as if all 20 s had been seen.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsertools import SET_HIDDEN, fake_analyzer

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# timeline.js fed with a made-up clock: a sample every 250 ms (the most it keeps) over the stretches
# given in ms.
SUMMARIES = """async (runs) => {
  const { Timeline } = await import("/static/js/timeline.js");
  const happy = { valence: 0.8, arousal: 0.35, emotion: "happy" };
  return runs.map((stretches) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    const summary = document.createElement("p");
    const timeline = new Timeline(svg, summary);
    for (const [from, to] of stretches) for (let t = from; t <= to; t += 250) timeline.add(happy, t);
    return summary.textContent.split(",")[0];
  });
}"""


def test_the_summary_says_how_much_of_its_span_was_seen(page: Any) -> None:
    summaries = page.evaluate(
        SUMMARIES,
        [
            [[0, 20_000]],  # watched throughout
            [[0, 4000], [16_000, 20_000]],  # hidden for 12 s
            [[0, 8000], [20_000, 30_000]],  # hidden for 12 s, more watched
            [[0, 10_000], [12_000, 20_000]],  # a 2-s wait (a slow frame) is still watching
        ],
    )
    assert summaries == [
        "Over the last 20 s",
        "Over a few seconds seen in the last 20 s",
        "Over 10 s seen in the last 30 s",
        "Over the last 20 s",
    ]


def test_time_the_page_was_hidden_is_not_counted(page: Any) -> None:
    """The page itself, hidden for 12 s between two stretches of about 4 s (the probe's case). Before:
    "Over the last 10 s" or "20 s", as the span came out."""
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    summary = page.locator("#timeline-summary")
    expect(summary).to_contain_text("Over the last")
    page.wait_for_timeout(4000)
    page.evaluate(SET_HIDDEN, True)
    page.wait_for_timeout(12_000)
    page.evaluate(SET_HIDDEN, False)
    page.wait_for_timeout(5000)  # the camera taken again, then about 4 s more
    text = summary.text_content() or ""
    print(f"after 4 s seen, 12 s hidden, 5 s shown: {text!r}")
    assert re.match(r"Over a few seconds seen in the last [12]0 s, on average: ", text), text
    page.get_by_role("button", name="Stop camera").click()
