"""The camera going away while it is in use, and a calibration under way when it goes.

A camera can end by itself (unplugged, switched off, its permission taken back): the page says so
and stops sending frames. "Try the camera again" while it is still blocked is heard to have been
tried. A calibration step stops with the camera (stopped, another mode, the page out of sight), says
so where it is heard, and counts as done only with more than half of its frames showing a face.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import (
    COUNT_ANALYZE_STARTS,
    COUNT_ANNOUNCEMENTS,
    SET_HIDDEN,
    Server,
    fake_analyzer,
    watched_page,
)

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

# What the browser does when the camera goes (unplugged, permission revoked): the track ends and
# fires "ended" (track.stop(), the page's own way to end it, fires nothing, so both are done here).
END_TRACKS = """() => {
  for (const stream of window.__streams) for (const track of stream.getTracks()) {
    track.stop();
    track.dispatchEvent(new Event("ended"));
  }
}"""

REFUSE_CAMERA = """
window.__asks = 0;
navigator.mediaDevices.getUserMedia = () => {
  window.__asks++;
  return Promise.reject(new DOMException("no", "NotAllowedError"));
};
"""


def test_a_camera_that_goes_away_while_in_use_is_said_and_sends_no_more_frames(streams_page: Any) -> None:
    """Before: the page kept posting black frames, kept "Camera on" and its frame rate, and only ever
    said "No face in view."."""
    page = streams_page
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    expect(page.locator("#camera-stop")).to_be_focused()
    page.evaluate(COUNT_ANNOUNCEMENTS)

    page.evaluate(END_TRACKS)
    problem = page.locator("#camera-problem-text")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("The camera stopped")
    expect(problem).to_be_focused()
    expect(page.locator("#camera-stage")).to_be_hidden()
    expect(page.locator("#results-camera")).to_be_hidden()  # no "Camera on" beside the list
    page.wait_for_function("() => window.__announced.some((t) => t.startsWith('The camera stopped'))")
    sent = page.evaluate("window.__analyzeStarts")
    page.wait_for_timeout(1200)  # nine frames' time at 15 frames/s
    assert page.evaluate("window.__analyzeStarts") == sent, "frames were sent after the camera went"
    expect(page.locator("#mood-now")).not_to_contain_text("Live mood")

    # The way back works: the fake camera is there again.
    page.locator("#camera-retry").click()
    expect(page.locator("#camera-stage")).to_be_visible()
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)


def test_trying_a_blocked_camera_again_is_heard_each_time(browser: Any, server: Server) -> None:
    """Before: each retry wrote the same words again, which a screen reader does not read out."""
    with watched_page(browser, server, init_script=REFUSE_CAMERA) as page:
        page.locator("#camera-start").focus()
        page.keyboard.press("Enter")
        problem = page.locator("#camera-problem-text")
        expect(problem).to_contain_text("Camera access was blocked")
        page.evaluate(COUNT_ANNOUNCEMENTS)
        page.locator("#camera-retry").focus()
        page.keyboard.press("Enter")
        expect(problem).to_have_text(
            "Still blocked. Camera access was blocked. To allow it, use the camera icon in the address bar, "
            "then try again. You can still use a photo, or pick your mood by hand."
        )
        page.wait_for_function("() => window.__announced.filter((t) => t.startsWith('Still blocked.')).length === 1")
        page.keyboard.press("Enter")  # the same failure again: cleared and written back, said again
        page.wait_for_function("() => window.__announced.filter((t) => t.startsWith('Still blocked.')).length === 2")
        assert page.evaluate("window.__asks") == 3
        expect(page.locator("#camera-retry")).to_be_focused()


def _calibrating(page: Any) -> list[str]:
    """Start the camera and a neutral calibration step; returns the calibration POSTs as they start,
    once the first frame has been sent."""
    posts: list[str] = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if "/api/calibration" in r.url and r.method == "POST" else None,
    )
    page.locator("#camera-start").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#video').videoWidth > 1")
    page.locator("#calibration-fold > summary").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Calibrate to my face").focus()
    with page.expect_request(lambda r: "/api/calibration" in r.url and r.method == "POST"):
        page.keyboard.press("Enter")
    return posts


@pytest.mark.parametrize("how", ["stop", "mode", "hidden"])
def test_a_calibration_under_way_stops_with_the_camera(streams_page: Any, how: str) -> None:
    """Before: after "Stop camera" the step went on posting blank 1×1 frames and ended with "Done",
    "Calibrated (neutral)" from the one real frame, written into a prompt hidden with the camera."""
    page = streams_page
    posts = _calibrating(page)
    page.evaluate(COUNT_ANNOUNCEMENTS)
    sent = len(posts)
    if how == "stop":
        page.locator("#camera-stop").focus()
        page.keyboard.press("Enter")
        said = "Calibration stopped: the camera was turned off."
    elif how == "mode":
        page.get_by_role("tab", name="Photo").click()
        said = "Calibration stopped: the camera was turned off."
    else:
        page.evaluate(SET_HIDDEN, True)
        said = "Calibration stopped: the page went out of sight."
    page.wait_for_function(f"() => window.__announced.includes({json.dumps(said)})")
    if how != "hidden":
        # Heard outside the camera's stage, which is hidden with the camera.
        heard = page.locator("main [role=status]", has_text=said).last
        assert heard.evaluate("(el) => !el.closest('[hidden]')")
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")  # one frame is no calibration
    page.wait_for_timeout(1500)  # more than two frames' gap
    assert len(posts) == sent, f"calibration frames were posted after the camera went: {posts}"

    if how == "hidden":
        page.evaluate(SET_HIDDEN, False)
    elif how == "mode":
        page.get_by_role("tab", name="Camera").click()
        page.locator("#camera-start").click()
    else:
        page.locator("#camera-start").click()
    expect(page.locator("#camera-stage")).to_be_visible()
    expect(page.locator("#calibration .prompt")).to_have_text(said)
    status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    assert status["calibrated"] is False


NO_FACE = json.dumps({"error": {"code": "no_face", "message": "no face found in the frame"}})


def test_a_calibration_step_needs_more_than_one_good_frame(streams_page: Any) -> None:
    """Before: one frame with a face out of five said "Done" and "Calibrated (neutral)"."""
    page = streams_page
    answered: list[int] = []

    def one_face_only(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answered.append(1)
        if len(answered) == 1:
            route.continue_()
        else:
            route.fulfill(status=422, content_type="application/json", body=NO_FACE)

    page.route("**/api/calibration?*", one_face_only)
    _calibrating(page)
    prompt = page.locator("#calibration .prompt")
    expect(prompt).to_contain_text("Not enough: 1 of 5 frames showed a face, and 3 are needed.")
    expect(page.locator("#calibration-state")).to_have_text("Not calibrated")
    status = page.evaluate("() => fetch('/api/calibration').then((r) => r.json())")
    assert status["calibrated"] is False
    assert len(answered) == 5
