"""Photo mode by keyboard, with the camera near: a photo still being read when the person leaves
photo mode does not come back later to replace the list of the mode they went to."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import astronaut_rgb, fake_analyzer, jpeg_bytes

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect


def _busy_photos(page: Any, refusals: int) -> list[str]:
    """Answer the first ``refusals`` photos (not camera frames) with 503 busy, Retry-After 1."""
    seen: list[str] = []

    def answer(route: Any) -> None:
        seen.append("photo")
        if len(seen) <= refusals:
            body = {"error": {"code": "busy", "message": "the server is busy with other large pictures"}}
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, content_type="application/json", body=json.dumps(body)
            )
        else:
            route.continue_()

    page.route("**/api/analyze", answer)
    return seen


def _choose_photo(page: Any) -> None:
    photo = {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(astronaut_rgb())}
    page.set_input_files("#photo-input", files=[photo])
    expect(page.locator("#photo-message")).to_contain_text("busy")


def test_a_photo_waiting_out_a_busy_server_does_not_replace_the_cameras_list(page: Any) -> None:
    fake_analyzer(page, [(0.0, "sad", -0.7, -0.4)])
    seen = _busy_photos(page, refusals=1)
    page.locator("#tab-camera").focus()
    page.keyboard.press("ArrowRight")  # camera off: the tab follows focus
    expect(page.locator("#tab-photo")).to_have_attribute("aria-selected", "true")
    _choose_photo(page)
    # The person goes back to the camera and starts it while the photo waits for its retry.
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-camera")).to_have_attribute("aria-selected", "true")
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#results-mood")).to_contain_text("from the camera")
    page.locator("#result-list .fb-like").first.focus()
    page.wait_for_timeout(2500)  # well past the photo's Retry-After
    expect(page.locator("#results-mood")).to_contain_text("from the camera")
    expect(page.locator("#follow-camera")).to_be_hidden()
    assert seen == ["photo"], "the dropped photo was sent again"
    # Back in photo mode, the panel says what became of it; nothing from it is shown.
    page.locator("#tab-camera").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#photo-message")).to_have_text(
        "me.jpg was not analysed: you left photo mode first. Choose it again to use it."
    )
    expect(page.locator("#photo-stage")).to_be_hidden()
    expect(page.locator("#faces-summary")).to_have_text("No photo yet.")


def test_a_photo_waiting_out_a_busy_server_does_not_replace_a_mood_picked_by_hand(page: Any) -> None:
    seen = _busy_photos(page, refusals=1)
    page.locator("#tab-camera").focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    _choose_photo(page)
    page.locator("#tab-photo").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    expect(page.locator("#emotion-buttons button").first).to_be_focused()
    page.get_by_role("button", name="sad", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#results-mood")).to_contain_text("from your choice")
    page.wait_for_timeout(2500)
    expect(page.locator("#results-mood")).to_contain_text("from your choice")
    expect(page.get_by_role("button", name="sad", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="sad", exact=True)).to_be_focused()
    assert seen == ["photo"]
