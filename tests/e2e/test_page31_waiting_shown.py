"""A camera slow to answer, seen by a sighted keyboard user (session 31).

Before: while the browser asked for the camera, the wait was said to a screen reader only ("Waiting
for the camera…" in a visually hidden status line); on screen, "Start camera" was merely drawn at
0.85 opacity, which a person who pressed Enter and saw nothing else happen took for a press lost.
Now the waiting words take the place of "No camera, or rather not?" under the button, in the same
grid cell, so that nothing moves.

The first version's words were written into an empty paragraph only when needed: at 125 % text on a
phone they wrapped to more lines than the question, and the buttons under them moved 26 px down a
second after the press. They also stayed on screen after "Stop camera" pressed before the start had
finished (the picture's play() or the on-device reader still pending). And camera mode left while
"Try the camera again" waited, then chosen again, showed the intro and the problem together.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsertools import Server, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: A browser that never answers (a permission prompt left open).
NEVER_ANSWERS = "navigator.mediaDevices.getUserMedia = () => new Promise(() => {});"
#: The camera given 3 s after it is asked for: the words, shown at 1 s, stay 2 s, long enough for
#: ``expect``'s checks (up to 500 ms apart) on a busy machine.
SLOW_CAMERA = """
const __realCamera = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (c) => new Promise((resolve, reject) =>
  setTimeout(() => __realCamera(c).then(resolve, reject), 3000));
"""
#: The picture's play() never settles (a start still busy after the picture shows, as when the
#: on-device reader takes seconds to load).
PLAY_NEVER_SETTLES = "HTMLMediaElement.prototype.play = () => new Promise(() => {});"
#: The camera refused 3 s after each ask (a permission prompt answered "Block").
SLOW_REFUSAL = """
navigator.mediaDevices.getUserMedia = () =>
  new Promise((resolve, reject) => setTimeout(() => reject(new DOMException("no", "NotAllowedError")), 3000));
"""
#: No camera at the first ask (at once); every later ask ("Try the camera again") is never answered.
MISSING_THEN_NEVER_ANSWERS = """
window.__asks = 0;
navigator.mediaDevices.getUserMedia = () => (window.__asks++ === 0
  ? Promise.reject(new DOMException("no", "NotFoundError"))
  : new Promise(() => {}));
"""
#: The browser's text size raised (its font-size setting: rem and em grow, px do not).
TEXT_SIZE = """(() => {{
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html {{ font-size: {percent}% !important; }}");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}})();"""
WAITING = "Waiting for the camera…"
QUESTION = "No camera, or rather not?"
#: Where each button of `box` sits in the page (x, y, width, height), to check that nothing moved.
BUTTON_BOXES = """(box) => [...document.querySelectorAll(`${box} button`)].map((b) => {
  const r = b.getBoundingClientRect();
  return [b.textContent, r.x + scrollX, r.y + scrollY, r.width, r.height];
})"""
#: Whether the waiting words are drawn anywhere, read at once (not waited for).
WORDS_DRAWN = """() => [...document.querySelectorAll(".waiting-line")].some(
  (line) => line.checkVisibility({ visibilityProperty: true }))"""


def _press(page: Any, selector: str) -> None:
    page.locator(selector).focus()
    page.keyboard.press("Enter")


def _refused_once(page: Any) -> None:
    """Start camera pressed, no camera: the problem and "Try the camera again" show."""
    _press(page, "#camera-start")
    expect(page.locator("#camera-retry")).to_be_visible()
    expect(page.locator("#camera-problem-text")).to_contain_text("camera")


@pytest.mark.parametrize(("width", "percent"), [(1280, 100), (320, 100), (320, 125), (390, 150), (320, 200)])
def test_the_wait_is_shown_under_the_button_and_moves_nothing(
    browser: Any, server: Server, width: int, percent: int
) -> None:
    """The words are on screen (visible, not only in the hidden status line) in place of the
    question, and the buttons of the intro stay where they were, at desktop and phone widths and
    with the browser's text made larger (where the bold words wrap to more lines than the question)."""
    script = NEVER_ANSWERS + TEXT_SIZE.format(percent=percent)
    with watched_page(browser, server, width=width, height=800, init_script=script) as page:
        before = page.evaluate(BUTTON_BOXES, "#camera-intro")
        _press(page, "#camera-start")
        shown = page.locator("#camera-intro").get_by_text(WAITING)
        expect(shown).to_be_visible()
        expect(page.locator("#camera-intro").get_by_text(QUESTION)).not_to_be_visible()
        assert page.evaluate(BUTTON_BOXES, "#camera-intro") == before
        expect(page.locator("#camera-start")).to_be_focused()


def test_the_shown_wait_is_found_in_place_by_a_screen_reader(browser: Any, server: Server) -> None:
    """Not hidden from screen readers: a reader moving by line finds the words where they are shown
    (they are not a live region, so they are not said twice), and nothing while there is no wait."""
    with watched_page(browser, server, init_script=NEVER_ANSWERS) as page:
        intro = page.locator("#camera-intro")
        expect(intro.get_by_role("paragraph").filter(has_text=WAITING)).to_have_count(0)
        _press(page, "#camera-start")
        expect(intro.get_by_role("paragraph").filter(has_text=WAITING)).to_have_count(1)
        assert page.locator("#camera-waiting").get_attribute("aria-hidden") is None


def test_a_second_press_shows_the_wait_at_once(browser: Any, server: Server) -> None:
    """The page's clock stopped: a first press draws nothing yet (the words wait a second), a second
    press draws them at once."""
    with watched_page(browser, server, init_script=NEVER_ANSWERS) as page:
        page.clock.install()
        page.clock.pause_at(page.evaluate("Date.now()") + 60_000)
        _press(page, "#camera-start")
        assert not page.evaluate(WORDS_DRAWN)
        page.keyboard.press("Enter")
        assert page.evaluate(WORDS_DRAWN)
        expect(page.locator("#camera-intro").get_by_text(WAITING)).to_be_visible()


def test_the_shown_wait_goes_when_camera_mode_is_left(browser: Any, server: Server) -> None:
    """Photo chosen while the browser asks, then Camera again: the question is back, not the words."""
    with watched_page(browser, server, init_script=NEVER_ANSWERS) as page:
        _press(page, "#camera-start")
        expect(page.locator("#camera-intro").get_by_text(WAITING)).to_be_visible()
        page.locator("#tab-photo").click()
        page.locator("#tab-camera").click()
        expect(page.locator("#camera-intro").get_by_text(QUESTION)).to_be_visible()
        expect(page.locator("#camera-intro").get_by_text(WAITING)).not_to_be_visible()


def test_the_shown_wait_ends_with_the_answer(browser: Any, server: Server) -> None:
    """The camera answers after 3 s: the words were shown meanwhile and are gone with the answer."""
    with watched_page(browser, server, init_script=SLOW_CAMERA) as page:
        _press(page, "#camera-start")
        expect(page.locator("#camera-intro").get_by_text(WAITING)).to_be_visible()
        page.wait_for_function("() => document.querySelector('#video').videoWidth > 0")
        expect(page.locator("#camera-stop")).to_be_focused()
        assert not page.evaluate(WORDS_DRAWN)


def test_the_shown_wait_ends_with_a_slow_refusal(browser: Any, server: Server) -> None:
    """Refused after 3 s: the words were shown, and are gone with the refusal (not left in the
    hidden intro to show again). A retry refused in the same way leaves none either."""
    with watched_page(browser, server, init_script=SLOW_REFUSAL) as page:
        _press(page, "#camera-start")
        expect(page.locator("#camera-intro").get_by_text(WAITING)).to_be_visible()
        expect(page.locator("#camera-retry")).to_be_visible()
        assert page.evaluate("document.querySelector('#camera-intro').classList.contains('waiting')") is False
        _press(page, "#camera-retry")
        expect(page.locator("#camera-problem-text")).to_contain_text("Still blocked")
        assert page.evaluate("document.querySelector('#camera-intro').classList.contains('waiting')") is False
        assert not page.evaluate(WORDS_DRAWN)


def test_stop_pressed_before_the_start_ends_takes_the_wait_away(browser: Any, server: Server) -> None:
    """The camera given after 3 s, the picture's play() never settling: focus goes to "Stop camera"
    with the picture, and pressing it brings back the intro with its question, not the waiting words,
    and "Start camera" no longer dimmed."""
    with watched_page(browser, server, init_script=SLOW_CAMERA + PLAY_NEVER_SETTLES) as page:
        _press(page, "#camera-start")
        expect(page.locator("#camera-intro").get_by_text(WAITING)).to_be_visible()
        expect(page.locator("#camera-stop")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#camera-start")).to_be_focused()
        expect(page.locator("#camera-intro").get_by_text(QUESTION)).to_be_visible()
        expect(page.locator("#camera-intro").get_by_text(WAITING)).not_to_be_visible()
        assert "asking" not in (page.locator("#camera-start").get_attribute("class") or "")


def test_a_retry_cancelled_leaves_the_problem_alone_on_screen(browser: Any, server: Server) -> None:
    """Photo chosen while a retry waits, then Camera again: the problem shows, as after leaving with
    no retry, without the intro under it (both showed), and without the waiting words."""
    with watched_page(browser, server, init_script=MISSING_THEN_NEVER_ANSWERS) as page:
        _refused_once(page)
        _press(page, "#camera-retry")
        expect(page.locator("#camera-retry")).to_have_class(re.compile(r"\basking\b"))
        page.locator("#tab-photo").click()
        page.locator("#tab-camera").click()
        expect(page.locator("#camera-problem")).to_be_visible()
        expect(page.locator("#camera-intro")).to_be_hidden()
        assert not page.evaluate(WORDS_DRAWN)
