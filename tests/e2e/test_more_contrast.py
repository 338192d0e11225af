"""With "more contrast" asked for in the system's settings, text reaches 7:1 (WCAG 1.4.6, AAA), in
light and in dark, and the edges of controls reach 3:1 (session 19).

Before: the page had no ``prefers-contrast`` styles at all; fine print, headings of the mood card,
the strategy buttons and the list's artist lines were grey at 5.9–6.7:1 in light, and fine print,
tabs and strategy buttons 6.9:1 on dark's tinted panels; buttons' edges were 1.4:1 against the card.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import COLOUR_MATHS, Server, pick_by_hand, watched_page

pytestmark = pytest.mark.e2e
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")

#: Text a person reads, in each of the page's text colours and on each of its surfaces.
TEXTS = [
    ".tagline",
    ".intro li",
    "#camera-intro .fineprint",
    '.tab[aria-selected="false"]',
    '.seg[aria-pressed="false"]',
    '.seg[aria-pressed="true"]',
    "#strategy-explain",
    "#results-status",
    "#results-mood .numbers",
    ".item .title",
    ".item .artist",
    ".item .reason",
    "#sources",
    "#mood-now",
    "#faces-summary",
    ".readout h3",
    ".legend",
    "#timeline-summary",
    ".site-footer p",
    ".site-footer a",
]

# Contrast of an element's text colour, or of its border, against the first opaque background
# behind it (WCAG's formula).
CONTRASTS = (
    "([selectors, what]) => {"
    + COLOUR_MATHS
    + """  const behind = (el) => {
    for (let node = what === "border" ? el.parentElement : el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.a > 0.5) return c.rgb;
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const selector of selectors) {
    const el = document.querySelector(selector);
    if (!el || !el.getClientRects().length) { out[selector] = null; continue; }
    const style = getComputedStyle(el);
    const colour = parse(what === "border" ? style.borderTopColor : style.color).rgb;
    const [hi, lo] = [lum(colour), lum(behind(el))].sort((a, b) => b - a);
    out[selector] = Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
  }
  return out;
}"""
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_more_contrast_gives_text_seven_to_one_and_edges_three_to_one(
    browser: Any, server: Server, scheme: str
) -> None:
    with watched_page(browser, server) as page:
        page.emulate_media(color_scheme=scheme, contrast="more")
        pick_by_hand(page, "happy")  # a list: its artist and reason lines, the mood's numbers
        # Edges while the emotion buttons show (review: measured after the Camera tab, two of them
        # were hidden and passed unmeasured).
        edges = page.evaluate(
            CONTRASTS, [["#history-open", "#emotion-buttons .btn", ".item", ".tab", ".seg"], "border"]
        )
        assert all(ratio is not None for ratio in edges.values()), f"not on screen: {edges}"
        assert all(ratio >= 3 for ratio in edges.values()), edges
        page.get_by_role("tab", name="Camera").click()  # the intro and its fine print again
        texts = page.evaluate(CONTRASTS, [TEXTS, "text"])
        missing = [selector for selector, ratio in texts.items() if ratio is None]
        assert not missing, f"not on screen: {missing}"
        low = {selector: ratio for selector, ratio in texts.items() if ratio < 7}
        assert not low, f"text under 7:1 with more contrast ({scheme}): {low}"


def test_without_the_setting_the_page_keeps_its_usual_colours(browser: Any, server: Server) -> None:
    """The stronger colours are for those who ask: the usual theme is unchanged."""
    with watched_page(browser, server) as page:
        page.emulate_media(color_scheme="light", contrast="no-preference")
        colour = page.evaluate("getComputedStyle(document.querySelector('.tagline')).color")
        assert colour == "rgb(84, 92, 107)", colour  # --muted, #545c6b
