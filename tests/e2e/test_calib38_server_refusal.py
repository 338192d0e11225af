"""A calibration step the server stops (a 503 for one of its frames, or no answer) says why, by keyboard.

Before session 38, a step whose second frame was answered 503 "busy" ended with "Not enough: 1 of
5 frames showed a face, and 3 are needed. Face the camera in good light and try again.": the face
and the light were blamed, the server's words were never said, and the three frames not taken were
counted as frames without a face. The page, the fake camera (a real face) and the real analyzer are
as in ``test_calibration_page.py``; only the refused frame is answered by the test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import TIMEOUT_MS, open_calibration_by_keyboard, watch_text, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

PROMPT = "#calibration [role=status]"
BUSY = json.dumps({"error": {"code": "busy", "message": "the server is busy right now: try again in a few seconds"}})


def _refuse_frame(page: Any, number: int, how: str) -> None:
    """Frame ``number`` (from 1) of the calibration is answered 503 busy (``how`` "503") or never
    reaches the server (``how`` "unreachable"); the others go to the server."""
    sent = [0]

    def handle(route: Any) -> None:
        sent[0] += 1
        if sent[0] != number:
            route.continue_()
        elif how == "503":
            route.fulfill(status=503, headers={"Retry-After": "2"}, content_type="application/json", body=BUSY)
        else:
            route.abort("connectionrefused")

    page.route("**/api/calibration?emotion=*", handle)


@pytest.mark.parametrize(
    ("width", "how", "words"),
    [
        (320, "503", "The server is busy right now: try again in a few seconds."),
        (1280, "503", "The server is busy right now: try again in a few seconds."),
        (1280, "unreachable", "Can't reach the moodtape server."),
    ],
)
def test_a_step_the_server_stops_says_why_not_the_light(
    browser: Any, server: Any, width: int, how: str, words: str
) -> None:
    with watched_page(browser, server, width=width, height=800) as page:
        start = open_calibration_by_keyboard(page, camera_by_keyboard=True)
        _refuse_frame(page, 2, how)
        said = watch_text(page, PROMPT)
        page.keyboard.press("Enter")
        prompt = page.locator(PROMPT)
        expect(prompt).to_contain_text("neutral face")
        expect(start).to_have_attribute("aria-disabled", "true")
        expect(start).to_have_attribute("aria-disabled", "false", timeout=TIMEOUT_MS)  # the step is over
        expect(prompt).to_have_text(f"{words} The step stopped at frame 2 of 5: nothing was kept.")
        # Said once after the instruction, and nothing else: no frame count per frame, no "good light".
        heard = [text for text in said() if text]
        assert heard == ["Look at the camera with a relaxed, neutral face…", prompt.text_content()], heard
        # The frame taken before the refusal is no calibration: the step left none behind.
        expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
        status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
        assert status["calibrated"] is False and status["examples"] == {}, status
        expect(start).to_be_focused()


def test_an_expression_the_server_stops_says_what_it_kept(page: Any) -> None:
    """An expression step keeps the frames it sent before the refusal, and says so (before: "Not
    enough: 1 of 3 frames showed a face, and 2 are needed. Face the camera in good light …")."""
    open_calibration_by_keyboard(page, camera_by_keyboard=True)
    page.keyboard.press("Enter")
    expect(page.locator("#calibration-state")).to_contain_text("Calibrated", timeout=TIMEOUT_MS)
    expect(page.locator("#calibration .start")).to_have_attribute("aria-disabled", "false", timeout=TIMEOUT_MS)
    _refuse_frame(page, 2, "503")
    smile = page.get_by_role("button", name="Smile")
    smile.focus()
    page.keyboard.press("Space")
    expect(page.locator(PROMPT)).to_have_text(
        "The server is busy right now: try again in a few seconds. The step stopped at frame 2 of 3: "
        "the frame before it was kept.",
        timeout=TIMEOUT_MS,
    )
    status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    assert status["examples"]["happy"] == 1, status
    expect(smile).to_be_focused()
