"""A control that has keyboard focus is never hidden under what floats at the foot of the screen
(WCAG 2.4.11, Focus Not Obscured): the "New list ready" offer on a phone, the preview bar anywhere.

Found by an outside review: the page was padded at its end for the floating boxes, but Tab only
scrolled a control into the viewport, behind them (track 1's Play button 78 % under the offer on a
phone, nine stops 74–95 % under it at 320 px wide, four list buttons wholly under the preview bar).
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import Server, fake_analyzer, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: A focus ring's worth of overlap is not hiding anything.
SLACK_PX = 3
FLOATING = ("new-list", "mini-player")

# The focused control, and how many of its pixels (top to bottom) a floating box covers; a control
# inside that box is not covered by it.
FOCUSED = """(floating) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  const name = el.id || el.getAttribute("aria-label") || el.textContent.trim().slice(0, 60);
  let covered = 0;
  for (const id of floating) {
    const box = document.getElementById(id);
    if (box.hidden || box.contains(el) || getComputedStyle(box).position !== "fixed") continue;
    const b = box.getBoundingClientRect();
    const across = Math.min(r.right, b.right) - Math.max(r.left, b.left);
    const down = Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top);
    if (across > 0 && down > 0) covered = Math.max(covered, Math.round(down));
  }
  return { name, covered };
}"""


def _tab_through(page: Any, stops: int = 40) -> list[dict[str, Any]]:
    """Press Tab up to ``stops`` times; what had focus after each press (until it leaves the page)."""
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED, list(FLOATING))
        if focused is None:
            break
        seen.append(focused)
    return seen


def _assert_none_hidden(seen: list[dict[str, Any]]) -> None:
    assert any(stop["name"].startswith("Play ") for stop in seen), f"the walk never reached the list: {seen}"
    hidden = [stop for stop in seen if stop["covered"] > SLACK_PX]
    assert not hidden, f"focused controls under a floating box (px covered): {hidden}"


@pytest.mark.parametrize("size", [(390, 844), (320, 568)], ids=["phone", "phone-320"])
def test_tab_never_leaves_focus_under_the_floating_offer_on_a_phone(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    width, height = size
    with watched_page(browser, server, width=width, height=height) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35), (6.0, "sad", -0.7, -0.4)])
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#results-mood")).to_contain_text("happy")
        expect(page.locator("#new-list")).to_be_visible(timeout=20_000)
        page.locator("#camera-stop").focus()
        _assert_none_hidden(_tab_through(page))


def test_tab_never_leaves_focus_under_the_preview_bar(page: Any) -> None:
    serve_previews(page)
    page.get_by_role("tab", name="Pick by hand").click()
    page.get_by_role("button", name="happy", exact=True).click()
    expect(page.locator("#result-list > li").first).to_be_visible()
    page.locator("#result-list > li").first.locator(".preview-btn").click()
    expect(page.locator("#mini-player")).to_be_visible()
    page.locator("#strategy-group button").first.focus()
    _assert_none_hidden(_tab_through(page))


# Records how much of the focused control the offer covers at the moment it appears (a microtask
# after it is shown, before any later task: a glide would not have moved anything yet).
RECORD_COVER_AT_OFFER = (
    """(floating) => {
  window.__coverAtOffer = null;
  const offer = document.getElementById("new-list");
  const focused = """
    + FOCUSED
    + """;
  new MutationObserver(() => {
    if (!offer.hidden && window.__coverAtOffer === null) window.__coverAtOffer = focused(floating);
  }).observe(offer, { attributes: true, attributeFilter: ["hidden"] });
}"""
)
NEAR_THE_FOOT = """() => {
  const r = document.activeElement.getBoundingClientRect();
  return r.bottom > innerHeight - 90 && r.top < innerHeight;
}"""


@pytest.mark.parametrize(
    ("size", "motion"), [((390, 844), "no-preference"), ((320, 568), "reduce")], ids=["phone", "phone-320-reduced"]
)
def test_focus_left_where_the_offer_floats_in_is_scrolled_clear_of_it(
    browser: Any, server: Server, size: tuple[int, int], motion: str
) -> None:
    """Before: focus left on a list control near the foot of the screen (reading, not tabbing) was
    covered by the offer when it appeared (34.6 of the Play button's 44 px at 390×844): scroll
    padding clears a control only when focus moves to it."""
    width, height = size
    with watched_page(browser, server, width=width, height=height) as page:
        page.emulate_media(reduced_motion=motion)
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#results-mood")).to_contain_text("happy")
        page.locator("#camera-stop").focus()
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(NEAR_THE_FOOT):
                break
        else:
            pytest.fail("no control came to rest near the foot of the screen")
        page.evaluate(RECORD_COVER_AT_OFFER, list(FLOATING))
        fake_analyzer(page, [(0.0, "sad", -0.7, -0.4)])  # the face changes: the offer floats in
        expect(page.locator("#new-list")).to_be_visible(timeout=20_000)
        if motion == "reduce":
            # No glide with reduced motion: clear at once.
            at_offer = page.evaluate("window.__coverAtOffer")
            assert at_offer["covered"] <= SLACK_PX, at_offer
        page.wait_for_function(f"() => ({FOCUSED})({list(FLOATING)}).covered <= {SLACK_PX}")
