"""The preview bar stays as small on a phone as it was before it had Previous and Next (session 18).

Before: "Previous" and "Next" in words, loose in the bar, left the audio no room: at 390×844 the bar
grew from 224 to 275 px ("Previous + audio", "Next + Open on Deezer", "Close preview" on three
rows), at 320 px from 299 to 349 px with "Previous" alone on a row.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import Server, screenshot, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: The bar's height (px) before Previous and Next came (commit f8c0491), measured with this test's
#: title and the offline status line shown, by the viewport's width.
HEIGHT_BEFORE = {390: 224.4, 320: 298.8}
#: A few pixels of rounding and font differences are not a new row (a row is 44 px or more).
SLACK_PX = 6

#: A title of a usual length (two lines on a phone), the same whatever the offline catalog picks.
TITLE = "You're The Only One — Maria Mena"

# The bar's visible controls grouped into rows (by where their middle is), each row listed by id.
ROWS = """() => {
  const bar = document.getElementById("mini-player");
  const controls = [...bar.querySelectorAll("button, a, audio")].filter((el) => el.getClientRects().length);
  const rows = [];
  for (const el of controls) {
    const r = el.getBoundingClientRect();
    const middle = (r.top + r.bottom) / 2;
    const row = rows.find((found) => Math.abs(found.middle - middle) < 12);
    if (row) row.ids.push(el.id);
    else rows.push({ middle, ids: [el.id] });
  }
  return { height: bar.getBoundingClientRect().height, rows: rows.map((row) => row.ids) };
}"""


def _open_bar(page: Any) -> dict[str, Any]:
    serve_previews(page)
    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name="happy", exact=True).click()
    page.locator("#result-list > li").first.locator(".preview-btn").click()
    expect(page.locator("#mini-status")).to_contain_text("can't load")  # this machine is offline
    expect(page.locator("#mini-link")).to_be_visible()
    page.evaluate("(title) => (document.getElementById('mini-title').textContent = title)", TITLE)
    layout: dict[str, Any] = page.evaluate(ROWS)
    return layout


@pytest.mark.parametrize("width", [390, 320])
def test_the_preview_bar_on_a_phone_is_no_taller_and_leaves_no_control_alone(
    browser: Any, server: Server, width: int
) -> None:
    with watched_page(browser, server, width=width, height=844) as page:
        layout = _open_bar(page)
        screenshot(page, f"preview-bar-{width}")
        assert layout["height"] <= HEIGHT_BEFORE[width] + SLACK_PX, layout
        alone = [row for row in layout["rows"] if len(row) < 2]
        assert not alone, f"a control alone on a row: {layout['rows']}"
        assert ["mini-previous", "mini-audio", "mini-next"] in layout["rows"], layout["rows"]


def test_on_a_desktop_the_controls_share_one_row(page: Any) -> None:
    layout = _open_bar(page)
    assert layout["rows"] == [["mini-previous", "mini-audio", "mini-next", "mini-link", "mini-close"]], layout
