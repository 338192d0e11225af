"""Home and End on the mood plane (session 18): the horizontal pair of PageUp and PageDown.

Before: End did nothing on the plane (the page scrolled to its foot, the plane and its focus out of
sight), and Home jumped to the middle, unlike any two-dimensional slider.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def cursor_at(valence: float, arousal: float) -> str:
    """The cursor's transform for a place, as moodplane.js writes it (toX, toY)."""
    return f"translate({30 + (valence + 1) / 2 * 260:.1f} {30 + (1 - arousal) / 2 * 260:.1f})"


def test_home_and_end_move_the_cursor_a_big_step_across_not_the_page(page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 500})
    plane = page.locator("#plane")
    cursor = page.locator("#plane .cursor")
    plane.focus()
    page.keyboard.press("ArrowUp")
    expect(cursor).to_have_attribute("transform", cursor_at(0, 0.05))
    scrolled = page.evaluate("window.scrollY")
    page.keyboard.press("End")
    expect(cursor).to_have_attribute("transform", cursor_at(0.2, 0.05))
    for _ in range(5):
        page.keyboard.press("End")
    expect(cursor).to_have_attribute("transform", cursor_at(1, 0.05))  # held at the edge
    assert page.evaluate("window.scrollY") == scrolled, "End scrolled the page"
    page.keyboard.press("Home")
    expect(cursor).to_have_attribute("transform", cursor_at(0.8, 0.05))
    assert page.evaluate("window.scrollY") == scrolled, "Home scrolled the page"
    expect(plane).to_be_focused()
    # Said once the keys rest, where the cursor ended; Enter chooses it.
    expect(page.locator("#plane-status")).to_contain_text("pleasant")
    page.keyboard.press("Enter")
    expect(page.locator("#results-mood")).to_contain_text("pleasant")


def test_home_and_end_with_ctrl_are_left_to_the_browser(page: Any) -> None:
    page.locator("#plane").focus()
    cursor = page.locator("#plane .cursor")
    page.keyboard.press("ArrowRight")
    expect(cursor).to_have_attribute("transform", cursor_at(0.05, 0))
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowRight")
    expect(cursor).to_have_attribute("transform", cursor_at(0.1, 0))
