"""Buttons that repeat on every entry (Like, Skip, Dislike on each item; "Show this list" on each
history entry) keep their short names, and their descriptions tell them apart: a screen reader's
list of buttons read "Like" twelve times and "Show this list" five times, with nothing to say which."""

from __future__ import annotations

from typing import Any

import pytest
from browsertools import pick_by_hand

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _buttons(page: Any) -> list[tuple[str, str]]:
    """(name, description) of every button in the browser's accessibility tree (not the DOM's guess)."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()

    def value(node: dict[str, Any], key: str) -> str:
        return str(node.get(key, {}).get("value", ""))

    return [
        (value(n, "name"), value(n, "description"))
        for n in nodes
        if not n.get("ignored") and value(n, "role") == "button"
    ]


def test_repeated_buttons_are_told_apart_by_their_descriptions(page: Any) -> None:
    for word in ("happy", "sad", "angry"):
        pick_by_hand(page, word)
    titles = page.locator("#result-list .title").all_text_contents()
    buttons = _buttons(page)
    for name in ("Like", "Skip", "Dislike"):
        descriptions = [d for n, d in buttons if n == name]
        assert len(descriptions) == len(titles) > 1, buttons
        assert descriptions == titles, f"{name}: {descriptions}"

    page.locator("#history-open").click()
    expect(page.locator("#history-list > li")).to_have_count(3)
    shows = [d for n, d in _buttons(page) if n == "Show this list"]
    assert len(shows) == 3, shows
    assert all(shows) and len(set(shows)) == 3, shows
    # Each describes its own entry: "<time> — tracks for sad, auto …".
    assert sorted(mood for mood in ("happy", "sad", "angry") for d in shows if f" for {mood}," in d) == [
        "angry",
        "happy",
        "sad",
    ], shows
