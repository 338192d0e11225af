"""Live updates paused, then resumed, say the face's mood again only if it changed meanwhile
(docs/page.md, "Calm live updates": a mood is said only when it changes); session 35.

Before: resuming forgot what had been said, so the same face said "Your face looks happy." a second
time 2 s after every resume. A mood that changed while paused is still said once it has settled.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import TIMEOUT_MS, fake_analyzer, watch_text

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _start_and_hear_happy(page: Any) -> Any:
    """Camera on by keyboard; returns the live region's record once "happy" has been said."""
    said = watch_text(page, "#mood-announce")
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mood-announce")).to_contain_text("happy", timeout=TIMEOUT_MS)
    return said


def _toggle_pause(page: Any) -> None:
    page.locator("#pause-live").focus()
    page.keyboard.press("Space")


def _lines(said: Any) -> list[str]:
    return [text for text in said() if text]


def test_the_same_mood_is_not_said_again_after_a_resume(page: Any) -> None:
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    said = _start_and_hear_happy(page)
    _toggle_pause(page)
    expect(page.locator("#pause-live")).to_have_attribute("aria-checked", "true")
    page.wait_for_timeout(1000)
    _toggle_pause(page)
    expect(page.locator("#pause-live")).to_have_attribute("aria-checked", "false")
    page.wait_for_timeout(8000)  # longer than a mood takes to settle (2 s) and the gap (5 s)
    happy = [line for line in _lines(said) if "happy" in line]
    assert len(happy) == 1, _lines(said)


def test_a_mood_changed_while_paused_is_said_after_the_resume(page: Any) -> None:
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (12.0, "sad", -0.7, -0.4)])
    said = _start_and_hear_happy(page)
    _toggle_pause(page)
    page.wait_for_timeout(13000)  # paused past the change to "sad" (12 s after the answers began)
    _toggle_pause(page)
    expect(page.locator("#mood-announce")).to_contain_text("sad", timeout=TIMEOUT_MS)
    lines = _lines(said)
    assert sum("happy" in line for line in lines) == 1, lines
    assert sum("sad" in line for line in lines) == 1, lines


def test_announcer_restart_keeps_what_was_said_with_a_made_up_clock(page: Any) -> None:
    """calm.js alone: after restart() the face settles afresh (2 s), its mood is said only if it is
    not the one said last, and an offer not said before the pause is still said."""
    said = page.evaluate(
        """async () => {
          const entry = document.querySelector('script[type="module"]').src;
          const { Announcer } = await import(entry.replace("app.js", "calm.js"));
          const out = [];
          const a = new Announcer((text, label, news) => out.push(`${label}+${news}@${t}`), () => "");
          let t = 0;
          for (; t <= 2100; t += 100) a.update("happy", t);  // said at 2000
          a.restart();                                       // paused at 2200, resumed at 10000
          for (t = 10000; t <= 13000; t += 100) a.update("happy", t);  // the same face: nothing
          a.restart();
          a.addNews("happy");                                // an offer came; said with the next mood
          for (t = 20000; t <= 21000; t += 100) a.update("sad", t);    // not settled yet at 21000
          a.restart();
          for (t = 30000; t <= 32500; t += 100) a.update("sad", t);    // settles afresh: 32000
          return out;
        }"""
    )
    assert said == ["happy+undefined@2000", "sad+happy@32000"]
