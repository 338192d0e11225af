"""The camera's first list, which comes with no key pressed, moves nothing at the usual, twice and
three times the text size in the two columns, and keeps no blank lines for its mood line.

Before, at 1280 × 900 its mood line ("Made for happy — …, from the camera (…)", above the strategy
buttons, two lines kept for it) grew to four lines at 2× and six at 3×, and the list's "Stop" chip,
shown once the camera's reader was ready, took a row of its own beside the title: the buttons went
113 px down at 2× (layout shift 0.027) and 368 px at 3× (0.087). Keeping the longest wording's
room would have left blank lines at the usual size. Now the mood line and the "Offline catalog"
badge stand right above the list, which they push alone, and the chip's place is taken at the press.

The 1× case passed before the change too (two lines were kept for the mood line, enough at the
usual size): it guards the usual size. The 2× and 3× cases failed before.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, TIMEOUT_MS, Server, fake_analyzer, pick_by_hand, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def text_size(percent: int) -> str:
    """The browser's text size set to `percent` (its font-size setting: rem and em grow, px do not)."""
    return f"""(() => {{
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("html {{ font-size: {percent}% !important; }}");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}})();"""


#: The list caption's height (the mood line and the badge), and that of its words alone (px).
CAPTION = """() => {
  const line = document.querySelector('#results-mood');
  const caption = line.closest('.list-caption') || line;
  const words = document.createRange();
  words.selectNodeContents(caption);
  return {caption: caption.getBoundingClientRect().height, words: words.getBoundingClientRect().height,
          lh: parseFloat(getComputedStyle(caption).lineHeight)};
}"""


@pytest.mark.parametrize("percent", [100, 200, 300], ids=["1x", "2x", "3x"])
def test_the_first_camera_list_moves_nothing_at_any_text_size(browser: Any, server: Server, percent: int) -> None:
    with watched_page(browser, server, width=1280, height=900, init_script=text_size(percent)) as page:
        fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
        page.evaluate(RECORD_SHIFTS)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#results-mood")).to_contain_text("from the camera")
        page.wait_for_timeout(1000)  # the next frames' shifts are reported too
        assert page.evaluate("window.__shifts.reduce((sum, s) => sum + s.value, 0)") == 0, page.evaluate(
            "window.__shifts"
        )
        caption = page.evaluate(CAPTION)
        assert caption["caption"] - caption["words"] < caption["lh"] / 2, caption  # no blank line under the words


def test_the_caption_reads_apart_from_the_badge_and_describes_the_list(browser: Any, server: Server) -> None:
    """The mood line and the "Offline catalog" badge stand side by side with no white space between
    them (a space there was a line of its own before the first list, moved by the words): as one
    run of text they ran together, "…(v +0.80, a +0.35)Offline catalog". A hidden ". " now keeps
    them apart, and the list is described by the mood line, as well as by its keys."""
    with watched_page(browser, server, width=1280, height=900) as page:
        pick_by_hand(page, "happy")
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#offline-badge")).to_be_visible()
        # Its text as one run, as an accessible name made of it joins inline elements' words.
        caption = page.evaluate("document.querySelector('.list-caption').textContent")
        assert re.search(r"\)\. Offline catalog$", caption), caption
        mood = page.locator("#results-mood").inner_text()
        expect(page.locator("#result-list")).to_have_accessible_description(re.compile(re.escape(mood)))
