"""Live updates paused, then resumed, say the face's mood again only if it changed meanwhile
(docs/page.md, "Calm live updates": a mood is said only when it changes); session 35.

Before: resuming forgot what had been said, so the same face said "Your face looks happy." a second
time 2 s after every resume. A mood that changed while paused is still said once it has settled.

The announcer's clock is the page's frames, not the test's (session 39): the face changes while the
switch is on, whenever that is, and silence is judged over frames answered after the resume. A mood
timed from the test's start changed before it was first said when the camera was slow to start, and
a fixed wait after the resume could end before the face had settled again.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from browsertools import TIMEOUT_MS, fake_analyzer, watch_text

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

HAPPY = (0.0, "happy", 0.8, 0.35)
SAD = (0.0, "sad", -0.7, -0.4)
#: Frames answered after the resume before silence counts: longer than a mood takes to settle (2 s,
#: and the list's half second) and the gap after the line before the pause (5 s).
QUIET_S = 8.0


def _start_and_hear_happy(page: Any) -> Any:
    """Camera on by keyboard; returns the live region's record once "happy" has been said."""
    said = watch_text(page, "#mood-announce")
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#mood-announce")).to_contain_text("happy", timeout=TIMEOUT_MS)
    return said


def _toggle_pause(page: Any, paused: bool) -> None:
    """Press the switch by keyboard and wait until the page says it is in the state asked for."""
    page.locator("#pause-live").focus()
    page.keyboard.press("Space")
    expect(page.locator("#pause-live")).to_have_attribute("aria-checked", str(paused).lower())


def _answered_frames(page: Any) -> list[float]:
    """When (time.monotonic) each camera frame was answered, from now on."""
    times: list[float] = []

    def finished(request: Any) -> None:
        if "/api/analyze" in request.url:
            times.append(time.monotonic())

    page.on("requestfinished", finished)
    return times


def _wait_for_frames_over(page: Any, answered: list[float], since: float, seconds: float) -> None:
    """Wait until frames have been answered for ``seconds`` from the first one after ``since``: the
    announcer times a settling face by its frames, which a loaded machine may send late."""
    deadline = time.monotonic() + seconds + TIMEOUT_MS / 1000
    after: list[float] = []
    while time.monotonic() < deadline:
        after = [t for t in answered if t >= since]
        if after and after[-1] - after[0] >= seconds:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"frames after the resume did not span {seconds} s: {len(after)} answered")


def _lines(said: Any) -> list[str]:
    return [text for text in said() if text]


def test_the_same_mood_is_not_said_again_after_a_resume(page: Any) -> None:
    fake_analyzer(page, [HAPPY])
    said = _start_and_hear_happy(page)
    answered = _answered_frames(page)
    _toggle_pause(page, True)
    page.wait_for_timeout(1000)
    _toggle_pause(page, False)
    _wait_for_frames_over(page, answered, time.monotonic(), QUIET_S)
    happy = [line for line in _lines(said) if "happy" in line]
    assert len(happy) == 1, _lines(said)


def test_a_mood_changed_while_paused_is_said_after_the_resume(page: Any) -> None:
    moods: list[tuple[float, str | None, float, float]] = [HAPPY]
    fake_analyzer(page, moods)
    said = _start_and_hear_happy(page)
    _toggle_pause(page, True)
    moods.append(SAD)  # the face is sad from now on, while no frames are sent
    page.wait_for_timeout(1000)
    _toggle_pause(page, False)
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
