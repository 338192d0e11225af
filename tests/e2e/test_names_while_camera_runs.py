"""With the camera running, everything a screen reader can land on has a name (session 22).

Checked in the browser's own accessibility tree, not the DOM: every button, link, tab, switch,
form control, image and the camera's picture itself. Before, the camera's <video> was an unnamed
"video" in the tree (axe-core leaves that case to a person: its video-caption rule only asks for
captions), so a screen reader met a nameless object where the page shows the person's face.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: Roles a screen reader stops on and reads by name (Chromium's names for them in the tree).
NAMED_ROLES = {"button", "link", "tab", "switch", "checkbox", "combobox", "textbox", "slider", "application"}
NAMED_ROLES |= {"image", "img", "Video", "video", "dialog", "region"}


def _unnamed(page: Any) -> list[str]:
    """Role and DOM id of every node in the accessibility tree whose role needs a name and has none."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    missing = []
    for node in nodes:
        role = str(node.get("role", {}).get("value", ""))
        if node.get("ignored") or role not in NAMED_ROLES or str(node.get("name", {}).get("value", "")).strip():
            continue
        missing.append(f"{role} (backend node {node.get('backendDOMNodeId')})")
    return missing


def test_every_control_and_the_camera_picture_have_a_name(page: Any) -> None:
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#result-list > li").first).to_be_visible()
    expect(page.locator("#video")).to_be_visible()
    assert _unnamed(page) == []
