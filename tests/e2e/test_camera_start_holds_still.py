"""Nothing on the page moves by itself while the camera starts and runs (session 19).

Before: about 2.4 s after "Start camera", with no key pressed, "Finding music for this mood…" filled
the empty status line and pushed the empty-list text 40 px down (a layout shift of 0.0025 at
1280×900); on a phone the first list's two-line strategy note moved the status line 22 px. At 400 %
zoom (320×225) the mood plane was 270 px tall: it could never be seen whole.

In one column (600–959 px, and tall phones) the first list then pushed the mood card below it off
the screen (a shift of 0.19 at 800×900); in the narrow two columns of a landscape tablet the
"Offline catalog" badge wrapped the camera's chip onto a new row (the controls moved 36 px); and the
live mood's line grew and shrank between one and three lines, moving the mood plane under it.
"""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import RECORD_SHIFTS, Server, fake_analyzer, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: No face at first (the camera warming up), then a new mood every second.
RESTLESS = [
    (0.0, None, 0.0, 0.0),
    (1.0, "happy", 0.8, 0.35),
    (2.0, "sad", -0.7, -0.4),
    (3.0, "angry", -0.6, 0.7),
    (4.0, "neutral", 0.0, 0.0),
    (5.0, "surprise", 0.4, 0.8),
]


#: Window sizes that each moved something before (see the module's note): a desktop and a phone,
#: the one-column band from 600 to 959 px where the first list pushed the mood card off the screen
#: (0.04 at 600 × 900, 0.19 at 800 × 900, 0.35 at 900 × 1080), a portrait tablet, a tall phone, the
#: narrow two columns of a landscape tablet, and a tall desktop where the live mood's line changed
#: length under the mood plane.
SIZES = {
    "desktop": (1280, 900),
    "phone": (390, 844),
    "600x900": (600, 900),
    "700x900": (700, 900),
    "800x900": (800, 900),
    "900x1080": (900, 1080),
    "tablet-portrait": (768, 1024),
    "tall-phone": (360, 1080),
    "tablet-landscape": (1024, 768),
    "desktop-1080": (1280, 1080),
}


@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
def test_no_layout_shift_while_the_camera_starts_and_runs(browser: Any, server: Server, size: tuple[int, int]) -> None:
    """Zero, not merely small: the page has no web fonts nor late images, so any shift at all is a
    box that moved under the person's eyes (the old one was 0.0025, far below CLS's 0.1 "good")."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        fake_analyzer(page, RESTLESS)
        page.evaluate(RECORD_SHIFTS)
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#camera-stats")).to_contain_text("frames/s")
        expect(page.locator("#result-list > li").first).to_be_attached()
        page.wait_for_timeout(5000)  # moods keep changing: offers come and go
        shifts = page.evaluate("window.__shifts")
        assert sum(s["value"] for s in shifts) == 0, shifts


def test_at_400_percent_zoom_the_mood_plane_fits_the_window(browser: Any, server: Server) -> None:
    with watched_page(browser, server, width=320, height=225) as page:
        page.locator("#plane").focus()
        box = page.evaluate(
            """() => { const r = document.getElementById("plane").getBoundingClientRect();
              return { top: r.top, bottom: r.bottom, width: r.width, height: r.height, inner: innerHeight }; }"""
        )
        assert box["height"] <= box["inner"], f"the plane is {box['height']:.0f} px tall in a {box['inner']} px window"
        assert box["top"] >= 0 and box["bottom"] <= box["inner"], box  # focus brought all of it into view
        assert box["width"] == pytest.approx(box["height"], abs=1) and box["width"] >= 150, box
        # Still a plane to point at: a click picks the mood where it lands.
        page.locator("#plane").click(position={"x": box["width"] * 0.85, "y": box["height"] * 0.2})
        expect(page.locator("#results-mood")).to_contain_text("Made for")


@pytest.mark.parametrize("tab", ["Pick by hand", "Photo"])
def test_the_list_card_keeps_room_only_on_the_camera_tab(browser: Any, server: Server, tab: str) -> None:
    """Review: kept window-tall on every tab, the empty card pushed the mood plane, which picking by
    hand needs, 490–580 px further down; only the camera makes lists without a key press."""
    with watched_page(browser, server, width=390, height=844) as page:
        card = page.locator("#results")
        assert card.bounding_box()["height"] >= 844  # Camera tab: room for the list that will come
        page.get_by_role("tab", name=tab).click()
        assert card.bounding_box()["height"] < 0.7 * 844, card.bounding_box()  # its own height, 476 px
