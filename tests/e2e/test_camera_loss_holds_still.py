"""The camera going by itself (unplugged, switched off) moves nothing on the page, and its empty space
goes as soon as the person does something.

Nobody pressed anything: before, the picture's box gave way to the shorter explanation and the mood
card moved 376 px up, the list 82 px (its offer's reserved place let go), a layout shift of 0.18 at
1280×900. The places are kept until the person acts: a press or key anywhere, a mood picked by hand,
another mode, the camera back, a window of another width. Before an earlier mend, the card kept 396
px of empty space (727 px tall at 1280×900, the mood plane below the fold) after a press elsewhere
or a mood picked by hand. A failed "Try the camera again" keeps the card held until the next input:
let go when the try ended, long after the press, it moved the page unasked. On a phone the explanation
and its buttons are taller than the small preview they replace: the card grew and the list went
72 px down (0.045 at 390×844); the card now keeps its height exactly until then, what does not fit
scrolling inside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import KEEP_STREAMS, RECORD_SHIFTS, TIMEOUT_MS, Server, fake_analyzer, open_page
from test_camera_loss import END_TRACKS

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: The height the camera's card is held at ("" once let go).
HELD = "document.querySelector('.input-card').style.minHeight"
#: The layout shifts that no input explains (RECORD_SHIFTS leaves out those just after one).
SHIFTED = "window.__shifts.reduce((sum, s) => sum + s.value, 0)"


#: The sizes the page is tried at: a desktop, and a phone (the small preview beside its controls).
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def _lose_the_camera(browser: Any, server: Server, size: tuple[int, int] = SIZES["desktop"]) -> tuple[Any, Any, Any]:
    """The camera running with a list, then gone by itself; shifts recorded from just before.
    Returns (context, page, watch)."""
    context, page, watch = open_page(browser, server, width=size[0], height=size[1], init_script=KEEP_STREAMS)
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#result-list > li").first).to_be_visible()
    page.wait_for_timeout(500)
    page.evaluate(RECORD_SHIFTS)
    page.evaluate(END_TRACKS)
    expect(page.locator("#camera-problem-text")).to_contain_text("The camera stopped")
    expect(page.locator("#camera-problem-text")).to_be_focused()
    page.wait_for_timeout(500)  # the shifts of the next frames are reported too
    return context, page, watch


def _let_go(page: Any, *, camera_back: bool = False) -> None:
    """The card's held height is gone, and the offer's place too while the camera is not back."""
    page.wait_for_function(f"() => {HELD} === ''", timeout=TIMEOUT_MS)
    reserved = "reserved" in (page.locator("#new-list").get_attribute("class") or "")
    assert reserved == camera_back


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_unplugged_camera_moves_nothing(browser: Any, server: Server, size: tuple[int, int]) -> None:
    """On a phone the explanation and its buttons are taller than the small preview they replace:
    the card grew and the list went 72 px down (layout shift 0.045 at 390×844). Now the card keeps
    its height exactly, what does not fit scrolling inside it, the explanation's words in sight."""
    context, page, watch = _lose_the_camera(browser, server, size)
    try:
        page.wait_for_timeout(1000)
        assert page.evaluate(SHIFTED) == 0, page.evaluate("window.__shifts")
        assert page.evaluate(HELD) != ""  # nobody has done anything yet: still held
        card = page.locator(".input-card").bounding_box()
        words = page.locator("#camera-problem-text").bounding_box()
        assert card["y"] <= words["y"] and words["y"] + words["height"] <= card["y"] + card["height"]
        watch.check(page)
    finally:
        context.close()


def test_on_a_phone_the_first_key_shows_the_whole_explanation(browser: Any, server: Server) -> None:
    """What scrolled inside the held card is all in the card again once the person presses a key:
    "Try the camera again", the last button, is not cut off."""
    context, page, watch = _lose_the_camera(browser, server, SIZES["phone"])
    try:
        page.keyboard.press("Tab")
        _let_go(page)
        card = page.locator(".input-card").bounding_box()
        retry = page.get_by_role("button", name="Try the camera again").bounding_box()
        assert retry["y"] + retry["height"] <= card["y"] + card["height"]
        assert page.evaluate(
            "(() => { const c = document.querySelector('.input-card'); return c.scrollHeight <= c.clientHeight; })()"
        )
        watch.check(page)
    finally:
        context.close()


@pytest.mark.parametrize("how", ["key", "press"])
def test_the_first_press_or_key_lets_the_empty_space_go(browser: Any, server: Server, how: str) -> None:
    """A Tab from the explanation, or a press on an empty part of the page: the card shrinks to its
    words, within the half second after the input that is not counted as a layout shift."""
    context, page, watch = _lose_the_camera(browser, server)
    try:
        held = page.locator(".input-card").bounding_box()["height"]
        if how == "key":
            page.keyboard.press("Tab")
        else:
            page.mouse.click(4, 450)  # the window's margin, left of the cards
        _let_go(page)
        assert page.locator(".input-card").bounding_box()["height"] < held - 200
        page.wait_for_timeout(500)
        assert page.evaluate(SHIFTED) == 0, page.evaluate("window.__shifts")
        watch.check(page)
    finally:
        context.close()


def test_a_mood_picked_on_the_plane_lets_the_empty_space_go(browser: Any, server: Server) -> None:
    """As the explanation suggests; clicked with no press or key the page sees (as some assistive
    software clicks), so that the mood picked, not the input, lets go."""
    context, page, watch = _lose_the_camera(browser, server)
    try:
        box = page.locator("#plane").bounding_box()
        where = {"clientX": box["x"] + 0.3 * box["width"], "clientY": box["y"] + 0.7 * box["height"]}
        with page.expect_request("**/api/lists?*"):
            page.locator("#plane").dispatch_event("click", where)
        _let_go(page)
        watch.check(page)
    finally:
        context.close()


def test_another_mode_lets_the_empty_space_go(browser: Any, server: Server) -> None:
    """The Photo tab chosen with no press or key the page sees (a screen reader's click): the mode
    change itself lets go, not only the first input."""
    context, page, watch = _lose_the_camera(browser, server)
    try:
        page.get_by_role("tab", name="Photo").dispatch_event("click")
        expect(page.get_by_role("tab", name="Photo")).to_have_attribute("aria-selected", "true")
        _let_go(page)
        watch.check(page)
    finally:
        context.close()


def test_the_camera_back_takes_its_place_again(browser: Any, server: Server) -> None:
    """Held through the try (no shrinking at the press, then growing again), let go once it runs."""
    context, page, watch = _lose_the_camera(browser, server)
    try:
        page.get_by_role("button", name="Try the camera again").click()
        expect(page.get_by_role("button", name="Stop camera")).to_be_focused()
        _let_go(page, camera_back=True)
        watch.check(page)
    finally:
        context.close()


#: getUserMedia that fails after 1.5 s, as a camera slow to say it is busy, or a permission prompt
#: the person takes their time over, does.
SLOW_FAILURE = """() => { navigator.mediaDevices.getUserMedia = () => new Promise((_, reject) =>
    setTimeout(() => reject(new DOMException("busy", "NotReadableError")), 1500)); }"""


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_slow_failed_retry_moves_nothing_until_the_next_input(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    """Let go when the try ended, a second and a half after the press, the card moved the list with
    no input to explain it (layout shift 0.015 at 390×844, the list 24 px down; 0.19 at 1280×900).
    The card stays held, its new words inside it, until the next key lets it go."""
    context, page, watch = _lose_the_camera(browser, server, size)
    try:
        page.evaluate(SLOW_FAILURE)
        page.get_by_role("button", name="Try the camera again").click()
        expect(page.locator("#camera-problem-text")).to_contain_text("in use", timeout=TIMEOUT_MS)
        page.wait_for_timeout(600)
        assert page.evaluate(SHIFTED) == 0, page.evaluate("window.__shifts")
        assert page.evaluate(HELD) != ""
        page.keyboard.press("Tab")
        _let_go(page)
        page.wait_for_timeout(600)
        assert page.evaluate(SHIFTED) == 0, page.evaluate("window.__shifts")
        watch.check(page)
    finally:
        context.close()


#: Turned, or narrowed: (width, height) while the camera went, then after.
NEW_WIDTHS = {"phone-turned": ((844, 390), (390, 844)), "desktop-narrowed": ((1280, 900), (390, 844))}


@pytest.mark.parametrize("sizes", NEW_WIDTHS.values(), ids=NEW_WIDTHS.keys())
def test_a_new_width_lets_the_held_card_go(
    browser: Any, server: Server, sizes: tuple[tuple[int, int], tuple[int, int]]
) -> None:
    """The height held was the old width's: a phone turned upright kept its card 252 px tall while
    the words needed 405, the buttons cut off; a desktop narrowed to 390 px kept 727 px for 405 px
    of words. Now the new width lets the card go, to the height of its words."""
    context, page, watch = _lose_the_camera(browser, server, sizes[0])
    try:
        assert page.evaluate(HELD) != ""
        page.set_viewport_size({"width": sizes[1][0], "height": sizes[1][1]})
        _let_go(page)
        card = page.locator(".input-card").bounding_box()
        retry = page.get_by_role("button", name="Try the camera again").bounding_box()
        assert retry["y"] + retry["height"] <= card["y"] + card["height"] <= retry["y"] + retry["height"] + 60
        watch.check(page)
    finally:
        context.close()
