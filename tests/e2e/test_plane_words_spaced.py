"""The mood plane's words neither overlap nor leave the plane, with WCAG 1.4.12's text spacing too.

Before: with the spacing, "how pleasant" ran 10.5 px into "← unpleasant" and "how energetic" into
"energetic →" (1280 px wide); "angry" and "afraid" overlapped by 1.9 px even without it. The room
for the axis titles comes out of the square, not on top of the viewBox (a wider one drew every word
5 % smaller and the square off-centre), and an anchor word too long for its side of the dot goes to
the other side rather than out of the plane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browsertools import Server, watched_page
from test_reflow_and_forced_colors import TEXT_SPACING

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")

#: Each pair of the plane's words whose boxes overlap, and each word out of the plane's box.
CLASHES = """() => {
  const plane = document.getElementById("plane").getBoundingClientRect();
  const words = [...document.querySelectorAll("#plane text")].filter((t) => t.getClientRects().length)
    .map((t) => [t.textContent, t.getBoundingClientRect()]);
  const found = [];
  words.forEach(([word, r], i) => {
    if (r.left < plane.left - 0.5 || r.right > plane.right + 0.5 || r.top < plane.top - 0.5
        || r.bottom > plane.bottom + 0.5) found.push(`${word} leaves the plane`);
    for (const [other, q] of words.slice(i + 1)) {
      const across = Math.min(r.right, q.right) - Math.max(r.left, q.left);
      const down = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
      if (across > 0.5 && down > 0.5) found.push(`${word} × ${other}: ${across.toFixed(1)} × ${down.toFixed(1)} px`);
    }
  });
  return found;
}"""


@pytest.mark.parametrize("spaced", [False, True], ids=["plain", "text-spacing"])
@pytest.mark.parametrize("size", [(1280, 900), (390, 844), (320, 568)], ids=["desktop", "phone", "phone-320"])
def test_the_plane_s_words_stand_apart(browser: Any, server: Server, size: tuple[int, int], spaced: bool) -> None:
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        if spaced:
            page.evaluate(TEXT_SPACING)
        assert page.evaluate(CLASHES) == []


#: The plane's scale (CSS px per viewBox unit) times its viewBox width, and the centres of the
#: square and of the drawing, across.
GEOMETRY = """() => {
  const svg = document.getElementById("plane");
  const drawn = svg.getBoundingClientRect();
  const square = svg.querySelector(".plane-bg").getBoundingClientRect();
  return { viewBoxWidth: svg.viewBox.baseVal.width, drawn: drawn.left + drawn.width / 2,
           square: square.left + square.width / 2 };
}"""

#: Whether "surprised"'s word ends left of its dot.
LEFT_OF_ITS_DOT = """() => {
  const anchor = document.querySelector("#plane .emo-surprise");
  return anchor.querySelector("text").getBoundingClientRect().right
    < anchor.querySelector("circle").getBoundingClientRect().left;
}"""

WORDS_JS = Path(__file__).parents[2] / "src/moodtape/web/static/js/words.js"


@pytest.mark.parametrize("size", [(1280, 900), (320, 568)], ids=["desktop", "phone-320"])
def test_the_plane_s_words_are_as_large_as_before_and_its_square_centred(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    """The words' CSS sizes are in viewBox units of a 320-unit plane: a wider viewBox (338) drew them
    5 % smaller (anchor words 9.6 px instead of 10.1 at 320 px wide), the square 9 units right."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        geometry = page.evaluate(GEOMETRY)
        assert geometry["viewBoxWidth"] <= 320
        assert abs(geometry["square"] - geometry["drawn"]) < 0.5, geometry


@pytest.mark.parametrize("spaced", [False, True], ids=["plain", "text-spacing"])
def test_a_longer_word_stays_inside_the_plane(browser: Any, server: Server, spaced: bool) -> None:
    """A longer name for "surprised" (another language, another wording) sits left of its dot, as
    "happy" does: right of it, the word ran 14 units out of the plane (44 past its square)."""
    words = WORDS_JS.read_text(encoding="utf-8")
    assert 'surprise: "surprised"' in words
    longer = words.replace('surprise: "surprised"', 'surprise: "überrascht worden"')
    with watched_page(browser, server, width=320, height=568) as page:
        page.route("**/js/words.js*", lambda route: route.fulfill(body=longer, content_type="text/javascript"))
        page.reload()
        page.wait_for_selector("body[data-ready='true']")
        if spaced:
            page.evaluate(TEXT_SPACING)
        assert page.locator("#plane .emo-surprise text").text_content() == "überrascht worden"
        assert page.evaluate(CLASHES) == []
        assert page.evaluate(LEFT_OF_ITS_DOT)


#: The browser's text size doubled (as its font-size setting does: rem and em grow, px do not).
DOUBLE_TEXT = """() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html { font-size: 200% !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}"""

#: The anchor words' height as drawn, as a share of the plane's width (at twice the text size the
#: page's margins grow and a phone's plane shrinks), and the words whose nearest dot is not their own.
ANCHOR_WORDS = """() => {
  const anchors = [...document.querySelectorAll("#plane .anchor")].map((g) => {
    const dot = g.querySelector("circle").getBoundingClientRect();
    return { word: g.querySelector("text"), x: dot.left + dot.width / 2, y: dot.top + dot.height / 2 };
  });
  const away = (r, a) => Math.hypot(Math.max(r.left - a.x, 0, a.x - r.right), Math.max(r.top - a.y, 0, a.y - r.bottom));
  const strays = anchors.filter((a) => {
    const r = a.word.getBoundingClientRect();
    return anchors.some((b) => b !== a && away(r, b) < away(r, a));
  }).map((a) => a.word.textContent);
  const height = Math.min(...anchors.map((a) => a.word.getBoundingClientRect().height));
  return { share: height / document.getElementById("plane").getBoundingClientRect().width, strays };
}"""


@pytest.mark.parametrize("size", [(1280, 900), (390, 844), (320, 568)], ids=["desktop", "phone", "phone-320"])
def test_the_plane_s_words_grow_with_the_text_size_and_stay_by_their_dots(
    browser: Any, server: Server, size: tuple[int, int]
) -> None:
    """Twice the text size, set while the page is open: the plane's words were sized in px and kept
    their share of the plane while every other word of the page doubled (19 px at 1280 px wide; 13
    px at 390, where the plane shrank from 340 to 292 px with the page's larger margins). Now they
    grow as far as the plane has room for them beside their own dots, 1.38 times (25 px at 1280, 18
    at 390: the upper left's "angry", "afraid" and "disgusted" crowd each other first), and none
    overlaps another, leaves the plane, or stands nearer another emotion's dot than its own."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        usual = page.evaluate(ANCHOR_WORDS)
        assert usual["strays"] == []
        page.evaluate(DOUBLE_TEXT)
        page.wait_for_function(f"() => ({ANCHOR_WORDS})().share >= 1.2 * {usual['share']}")
        doubled = page.evaluate(ANCHOR_WORDS)
        assert doubled["strays"] == [], doubled
        assert page.evaluate(CLASHES) == []
        page.evaluate(TEXT_SPACING)  # and the spacing of WCAG 1.4.12 on top
        page.wait_for_timeout(200)
        assert page.evaluate(CLASHES) == []
        assert page.evaluate(ANCHOR_WORDS)["strays"] == []
