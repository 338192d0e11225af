"""The preview bar fits a phone's width at twice and three times the text size, each of its controls
on the screen and in sight when Tab reaches it (WCAG 1.4.4, 1.4.10, 2.4.7); session 36.

Before: the bar's margins, side padding and gaps grew with the text, and so did Previous and Next,
square at 2.75rem each. At three times the text size on a 320 × 568 phone the bar left its words
174 of the 320 px: Next ran to 375 px and the title to 434 px (55 and 114 px past the screen's
right edge), the audio between Previous and Next had 0 px, and a word of the status line ran past
the bar. On a 390 × 844 phone at three times the audio had 0 px too and Next was cut off by the
bar's edge (it ran to 375 px, the bar ended at 361); at twice the size on 320 px the audio was
20 px wide, its controls not drawn. At the usual text size a word longer than the line (a title
starting "Supercalifragilisticexpialidocious-") ran past the screen as well: the title was at least
that word wide.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import (
    TEXT_SIZE,
    Server,
    inside,
    open_preview_with_the_camera_on,
    pick_by_hand,
    serve_previews,
    watched_page,
)

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: A touch target's width (WCAG 2.5.5); the audio narrower than this draws none of its controls.
TARGET_PX = 44

#: The bar's parts that show (left, right, top, bottom, rounded), what it holds sideways beyond its
#: own box, and its visible box.
PARTS = """() => {
  const bar = document.getElementById("mini-player");
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.right, r.top, r.bottom].map(Math.round);
  };
  const parts = {};
  [...bar.querySelectorAll("*")].forEach((el, i) => {
    if (el.closest("[hidden]") || el.classList.contains("visually-hidden")) return;
    const r = el.getBoundingClientRect();
    if (r.width || r.height) parts[el.id || `${el.tagName.toLowerCase()}#${i}`] = box(el);
  });
  return { parts, bar: box(bar), hiddenSideways: bar.scrollWidth - bar.clientWidth };
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  const r = el.getBoundingClientRect();
  return [el.id, [r.left, r.right, r.top, r.bottom].map(Math.round)];
}"""


@pytest.mark.parametrize(
    ("width", "height", "percent"),
    [(320, 568, 200), (320, 568, 300), (390, 844, 200), (390, 844, 300)],
    ids=["320-2x", "320-3x", "390-2x", "390-3x"],
)
def test_nothing_in_the_bar_runs_past_the_screen_and_each_control_is_in_sight(
    browser: Any, server: Server, width: int, height: int, percent: int
) -> None:
    init = TEXT_SIZE.format(percent=percent)
    with watched_page(browser, server, width=width, height=height, init_script=init) as page:
        open_preview_with_the_camera_on(page)
        page.wait_for_timeout(300)  # the bar has found its size (footroom.js markTall)
        seen = page.evaluate(PARTS)
        outside = {name: box for name, box in seen["parts"].items() if box[0] < -1 or box[1] > width + 1}
        assert not outside, f"past the screen's edge at {width} px: {outside}"
        assert seen["hiddenSideways"] <= 1, f"the bar holds {seen['hiddenSideways']} px beyond its edge: {seen}"
        # By keyboard alone: back to Previous, then forward to Close, each stop in sight inside the bar.
        page.keyboard.press("Shift+Tab")
        expect(page.locator("#mini-previous")).to_be_focused()
        stops: dict[str, list[int]] = {}
        for _ in range(8):
            page.wait_for_timeout(150)  # a scroll into view, if any, is over
            name, box = page.evaluate(FOCUSED)
            bar = page.evaluate(PARTS)["bar"]
            assert inside(box, [0, width, 0, height]), f"{name} is off the screen: {box}"
            assert inside(box, bar), f"{name} is outside the bar's visible box {bar}: {box}"
            assert box[1] - box[0] >= TARGET_PX, f"{name} is {box[1] - box[0]} px wide"
            stops[name] = box
            if name == "mini-close":
                break
            page.keyboard.press("Tab")
        assert list(stops) == ["mini-previous", "mini-audio", "mini-next", "mini-link", "mini-close"], stops


#: At the usual text size, measured before session 36: the bar's and its controls' left and right
#: edges (px) with a short title. The fix must not move them.
USUAL = {
    320: {
        "mini-player": [9.6, 310.4],
        "mini-previous": [25, 69],
        "mini-audio": [75.4, 244.6],
        "mini-next": [251, 295],
        "mini-link": [25, 177.6],
        "mini-close": [188.8, 257.5],
    },
    390: {
        "mini-player": [9.6, 380.4],
        "mini-previous": [25, 69],
        "mini-audio": [75.4, 314.6],
        "mini-next": [321, 365],
        "mini-link": [25, 177.6],
        "mini-close": [188.8, 257.5],
    },
    1280: {
        "mini-player": [288, 992],
        "mini-previous": [303.4, 347.4],
        "mini-audio": [353.8, 682.5],
        "mini-next": [688.9, 732.9],
        "mini-link": [744.1, 896.7],
        "mini-close": [907.8, 976.6],
    },
}

EDGES = """(ids) => Object.fromEntries(ids.map((id) => {
  const r = document.getElementById(id).getBoundingClientRect();
  return [id, [r.left, r.right]];
}))"""


@pytest.mark.parametrize(("width", "height"), [(320, 568), (390, 844), (1280, 900)])
def test_at_the_usual_text_size_the_bar_is_laid_out_as_before(
    browser: Any, server: Server, width: int, height: int
) -> None:
    with watched_page(browser, server, width=width, height=height) as page:
        serve_previews(page, title="Short song")
        pick_by_hand(page, "happy")
        page.locator("#result-list .preview-btn").first.click()
        expect(page.locator("#mini-status")).to_contain_text("can't load")
        edges = page.evaluate(EDGES, list(USUAL[width]))
        for name, (left, right) in USUAL[width].items():
            assert edges[name] == pytest.approx([left, right], abs=0.6), f"{name} moved: {edges}"


def test_a_title_of_one_long_word_breaks_inside_the_bar(browser: Any, server: Server) -> None:
    """At the usual text size: the title ran to 331 px on a 320 px screen."""
    with watched_page(browser, server, width=320, height=568) as page:
        serve_previews(page, title="Supercalifragilisticexpialidocious-and-more-words")
        pick_by_hand(page, "happy")
        page.locator("#result-list .preview-btn").first.click()
        expect(page.locator("#mini-status")).to_contain_text("can't load")
        seen = page.evaluate(PARTS)
        assert seen["parts"]["mini-title"][1] <= seen["bar"][1], f"the title runs past the bar: {seen}"
        assert seen["bar"][1] <= 320, f"the bar runs past the screen: {seen}"
