"""The page zoomed to 400 %, with larger text spacing, on a small phone and in forced colours, while
the camera runs (WCAG 1.4.10 reflow, 1.4.12 text spacing, 1.4.11 non-text contrast).

Found by an outside review that Lighthouse and pa11y (both clean) did not catch: at 400 % zoom the
preview bar was taller than the screen, its top off it; on a phone the camera preview cut its note
and face labels off; with text spacing the strategy buttons pushed the page past 320 px; in forced
colours the selected tab, the pressed strategy, the switch's knob and the mood bars vanished.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from browsertools import Server, fake_analyzer, serve_previews, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: A 1280×900 window at 400 % zoom.
ZOOMED = (320, 225)

#: WCAG 1.4.12's text spacing, as the usual bookmarklet applies it. A constructed stylesheet: the
#: page's Content-Security-Policy rightly refuses an inline <style>.
TEXT_SPACING = """() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}"""

INSIDE_VIEWPORT = """(id) => {
  const r = (id ? document.getElementById(id) : document.activeElement).getBoundingClientRect();
  return r.top >= -1 && r.bottom <= innerHeight + 1 && r.left >= -1 && r.right <= innerWidth + 1;
}"""

FLOATING_SHARE = """() => {
  let covered = 0;
  for (const id of ["new-list", "mini-player"]) {
    const box = document.getElementById(id);
    if (box.hidden || getComputedStyle(box).position !== "fixed") continue;
    const r = box.getBoundingClientRect();
    covered += Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  }
  return covered / innerHeight;
}"""


def _start_camera(page: Any, moods: list[tuple[float, str | None, float, float]]) -> None:
    fake_analyzer(page, moods)
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 0")


def test_at_400_percent_zoom_what_floats_leaves_the_page_usable(browser: Any, server: Server) -> None:
    """Before: the preview bar was 299 px on a 225 px screen, its title at −83 px, and focus went to
    its player half off the screen; the offer sat above it, off the top."""
    with watched_page(browser, server, width=ZOOMED[0], height=ZOOMED[1]) as page:
        serve_previews(page)
        _start_camera(page, [(0.0, "happy", 0.8, 0.35), (6.0, "sad", -0.7, -0.4)])
        first = page.locator("#result-list > li").first
        expect(first).to_be_visible(timeout=20_000)
        first.locator(".preview-btn").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#mini-player")).to_be_visible()
        assert page.evaluate(INSIDE_VIEWPORT, None), "the control focused in the preview bar is off the screen"
        page.locator("#mini-close").focus()
        assert page.evaluate(INSIDE_VIEWPORT, None)
        expect(page.locator("#new-list")).to_be_visible(timeout=20_000)  # the mood turned sad
        share = page.evaluate(FLOATING_SHARE)
        assert share <= 0.5, f"floating boxes cover {share:.0%} of the screen"
        page.locator("#new-list-show").focus()
        assert page.evaluate(INSIDE_VIEWPORT, "new-list-show"), "Show it is off the screen"


@pytest.mark.parametrize("size", [(390, 844), (320, 568)], ids=["phone", "phone-320"])
def test_the_small_camera_preview_keeps_its_words_inside(browser: Any, server: Server, size: tuple[int, int]) -> None:
    """Before: "No face in view. Face the camera, in good light." ran out of both sides of the 7.5rem
    preview (41 % visible) and a face's label was cut off at its top (a third visible)."""
    with watched_page(browser, server, width=size[0], height=size[1]) as page:
        _start_camera(page, [(0.0, "happy", 0.8, 0.35), (3.0, None, 0.0, 0.0)])
        page.wait_for_selector("#camera-overlay .face-box")
        cut = page.evaluate(
            """() => {
              const wrap = document.querySelector("#camera-stage .media-wrap").getBoundingClientRect();
              return [...document.querySelectorAll("#camera-overlay .face-label")]
                .filter((label) => getComputedStyle(label).display !== "none")
                .map((label) => label.getBoundingClientRect())
                .filter((r) => r.top < wrap.top - 1 || r.left < wrap.left - 1 || r.right > wrap.right + 1).length;
            }"""
        )
        assert cut == 0, "a face label is cut off by the preview's edge"
        note = page.locator("#camera-note")
        expect(note).to_be_visible(timeout=10_000)
        inside = page.evaluate(
            """() => {
              const wrap = document.querySelector("#camera-stage .media-wrap").getBoundingClientRect();
              const r = document.getElementById("camera-note").getBoundingClientRect();
              return r.left >= wrap.left - 1 && r.right <= wrap.right + 1 && r.top >= wrap.top - 1
                && r.bottom <= wrap.bottom + 1;
            }"""
        )
        assert inside, "the no-face note runs out of the preview"


def test_larger_text_spacing_at_320_px_neither_overlaps_nor_scrolls_sideways(browser: Any, server: Server) -> None:
    """Before: "Energize" and "Pick by hand" pushed the page to 353 px, and the longer emotion names
    ran into their bars."""
    with watched_page(browser, server, width=320, height=568) as page:
        page.evaluate(TEXT_SPACING)
        _start_camera(page, [(0.0, "happy", 0.8, 0.35)])
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=20_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        overlaps = page.evaluate(
            """() => [...document.querySelectorAll(".bar")].filter((bar) => {
              const name = bar.querySelector(".bar-name"), track = bar.querySelector(".bar-track");
              return name && track && track.getBoundingClientRect().width > 0
                && name.getBoundingClientRect().right > track.getBoundingClientRect().left + 1;
            }).map((bar) => bar.textContent.trim())"""
        )
        assert page.locator(".bar").count() >= 7 and not overlaps, overlaps


def test_forced_colours_keep_every_state_visible(browser: Any, server: Server) -> None:
    """Forced colours drop backgrounds and gradients: the selected tab, the pressed strategy, the
    switch's knob and the mood bars must be drawn in system colours instead."""
    with watched_page(browser, server) as page:
        page.emulate_media(forced_colors="active")
        _start_camera(page, [(0.0, "happy", 0.8, 0.35)])
        expect(page.locator("#result-list > li").first).to_be_visible(timeout=20_000)
        page.locator("#result-list > li").first.get_by_role("button", name="Like", exact=True).click()
        expect(page.locator('#result-list .feedback .btn[aria-pressed="true"]')).to_have_count(1)
        looks = page.evaluate(
            """() => {
              const css = (selector, pseudo) => getComputedStyle(document.querySelector(selector), pseudo);
              const bg = (selector) => css(selector).backgroundColor;
              const fill = [...document.querySelectorAll(".bar-fill")].find((el) => el.offsetWidth > 0);
              return {
                tab: [bg('.tab[aria-selected="true"]'), bg('.tab[aria-selected="false"]')],
                strategy: [bg('.seg[aria-pressed="true"]'), bg('.seg[aria-pressed="false"]')],
                liked: [bg('.feedback .btn[aria-pressed="true"]'), bg('.feedback .btn[aria-pressed="false"]')],
                knob: css(".switch", "::before").backgroundImage,
                bar: [fill ? getComputedStyle(fill).backgroundColor : null, css("body").backgroundColor],
              };
            }"""
        )
        page_colour = looks["bar"][1]
        for chosen, other in (looks["tab"], looks["strategy"], looks["liked"]):
            # Transparent shows the page's own colour: "chosen" must stand out from both.
            assert chosen not in (other, page_colour) and not chosen.startswith("rgba"), looks
        assert looks["knob"] != "none", looks
        assert looks["bar"][0] is not None and looks["bar"][0] != page_colour, looks


def test_the_offer_s_words_can_all_be_seen_at_400_percent_of_a_1280x720_window(browser: Any, server: Server) -> None:
    """Before: the offer, 40 % of a 180 px screen and scrolling inside, centred its words, and the
    12 px above its top could not be scrolled to: the first line was cut in half."""
    with watched_page(browser, server, width=320, height=180) as page:
        _start_camera(page, [(0.0, "happy", 0.8, 0.35), (5.0, "sad", -0.7, -0.4)])
        expect(page.locator("#new-list")).to_be_visible(timeout=20_000)
        words_top, box_top = page.evaluate(
            """() => {
              const offer = document.getElementById("new-list");
              offer.scrollTop = 0;
              const inner = offer.getBoundingClientRect().top + offer.clientTop;
              return [offer.querySelector("p").getBoundingClientRect().top, inner];
            }"""
        )
        assert words_top >= box_top - 1, f"the offer's first line starts {box_top - words_top:.0f} px above its box"


def test_larger_text_spacing_at_320_px_keeps_the_name_clear_of_history(browser: Any, server: Server) -> None:
    """Before: "moodtape" ran 31 px under the History button."""
    with watched_page(browser, server, width=320, height=568) as page:
        page.evaluate(TEXT_SPACING)
        name = page.locator(".brand h1").bounding_box()
        history = page.locator("#history-open").bounding_box()
        apart = (
            name["x"] + name["width"] <= history["x"]
            or history["y"] >= name["y"] + name["height"]
            or name["y"] >= history["y"] + history["height"]
        )
        assert apart, f"the name {name} runs under History {history}"


def _contrast(one: tuple[int, ...], other: tuple[int, ...]) -> float:
    """WCAG contrast ratio of two sRGB pixels."""

    def lum(rgb: tuple[int, ...]) -> float:
        linear = [v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in rgb[:3]]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((lum(one), lum(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_face_box_stands_out_from_the_picture_all_round(browser: Any, server: Server, scheme: str) -> None:
    """WCAG 1.4.11: somewhere across the box's edge (its colour and the lines beside it) there is 3:1
    against the picture just outside it, at every point of its foot. Before: the sad box, blue with a
    35 % grey halo, was 1.6:1 on the astronaut's orange suit."""
    from PIL import Image

    with watched_page(browser, server) as page:
        page.emulate_media(color_scheme=scheme)
        _start_camera(page, [(0.0, "sad", -0.7, -0.4)])
        box = page.locator("#camera-overlay .face-box")
        expect(box).to_be_visible()
        r = box.bounding_box()
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        # Down across the foot of the box, from 7 px inside its edge to 2 px outside (its lines), against
        # the picture 5 px below.
        bottom = round(r["y"] + r["height"])
        faint = []
        for x in range(round(r["x"]) + 12, round(r["x"] + r["width"]) - 12, 4):
            outside = shot.getpixel((x, bottom + 5))
            edge = [shot.getpixel((x, y)) for y in range(bottom - 7, bottom + 3)]
            best = max(_contrast(pixel, outside) for pixel in edge)
            if best < 3:
                faint.append((x, round(best, 2)))
        assert not faint, f"the box's foot is under 3:1 against the picture at {faint}"
