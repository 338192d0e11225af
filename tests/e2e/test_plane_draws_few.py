"""The mood plane finds the size its words fit at in a few drawings, and draws once when nothing it
depends on changed.

Before: each build tried the person's text size, then 0.9 times it, and so on down to the usual size,
drawing the whole plane (and measuring each word in up to six places) at each try; and the page built
it twice at load, once more when the server's config sent the emotions' points (the same as the
defaults). A page opened at 3× text at 390×844 drew the plane 18 times, 961 forced layouts where 19
sufficed at the usual size; at the usual size it drew twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import Server, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")

#: Counts the plane's drawings (each starts with its square's background) in window.__draws.
COUNT_DRAWS = """
window.__draws = 0;
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.id === "plane" && [...r.addedNodes].some((n) => n.classList && n.classList.contains("plane-bg"))) {
      window.__draws++;
    }
  }
}).observe(document, { childList: true, subtree: true });
"""


def _text_size(times: int) -> str:
    """An init script that sets the browser's text size `times` the usual (rem and em grow)."""
    if times == 1:
        return ""
    return f"""(() => {{
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html {{ font-size: {times * 100}% !important; }}");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}})();"""


@pytest.mark.parametrize(("times", "most"), [(1, 1), (2, 5), (3, 5)], ids=["1x", "2x", "3x"])
def test_the_plane_is_drawn_a_few_times_at_load(browser: Any, server: Server, times: int, most: int) -> None:
    """At the usual size once (not again for the config's identical points); at 2× and 3× text,
    where the person's size does not fit and a smaller one is looked for, at most five times
    (before: 10 and 18)."""
    with watched_page(browser, server, width=390, height=844, init_script=COUNT_DRAWS + _text_size(times)) as page:
        page.wait_for_selector("body[data-ready='true']")
        page.wait_for_timeout(300)  # a ResizeObserver's answer, if any, comes after
        draws = page.evaluate("window.__draws")
        assert 1 <= draws <= most


#: The text size doubled by a style sheet of its own (window.__double), or set back.
DOUBLE = """() => {
  window.__double = window.__double || new CSSStyleSheet();
  window.__double.replaceSync("html { font-size: 200% !important; }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, window.__double];
}"""
UNDOUBLE = "() => { document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== window.__double); }"


def test_a_text_size_fitted_before_is_drawn_once(browser: Any, server: Server) -> None:
    """What fits depends on the text size and the emotions' words, not on the width (the plane's
    layout and words are in viewBox units): the text size doubled, set back, and doubled again, the
    plane is drawn once for it the second time (before: five times, each time)."""
    with watched_page(browser, server, width=390, height=844, init_script=COUNT_DRAWS) as page:
        page.wait_for_selector("body[data-ready='true']")
        page.evaluate(DOUBLE)
        page.wait_for_function("() => window.__draws >= 3")  # the first time, the fit is looked for
        page.evaluate(UNDOUBLE)
        page.wait_for_timeout(300)
        page.evaluate("window.__draws = 0")
        page.evaluate(DOUBLE)
        page.wait_for_function("() => window.__draws >= 1")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__draws") == 1
