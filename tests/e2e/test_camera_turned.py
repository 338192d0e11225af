"""A phone turned while the camera runs: the picture keeps its proportions (session 18).

Before: the picture's box took the camera's proportions once, when the first frame came; a camera
whose frames turned from 640×480 to 480×640 (a phone turned upright) was squeezed into the old
landscape box, and the face boxes drawn over it in percent of the frame went with it.

The camera here is a canvas that the test turns: Chromium's own fake camera plays a file of one size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browsertools import Server, fake_analyzer, watched_page

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: getUserMedia answers with a canvas's stream, redrawn 15 times a second; window.__turn() makes the
#: canvas (and so the track's frames) 480×640.
TURNING_CAMERA = """
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  const draw = () => {
    const g = canvas.getContext("2d");
    g.fillStyle = "#777";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = "#c96";
    g.fillRect(canvas.width / 4, canvas.height / 4, canvas.width / 2, canvas.height / 2);
  };
  draw();
  setInterval(draw, 66);
  window.__turn = () => { canvas.width = 480; canvas.height = 640; draw(); };
  return canvas.captureStream(15);
};
"""

#: The picture's box's width over its height, and the frames' own.
PROPORTIONS = """() => {
  const video = document.getElementById("video");
  const box = video.parentElement.getBoundingClientRect();
  return { box: box.width / box.height, frames: video.videoWidth / video.videoHeight };
}"""


@pytest.fixture
def turning_page(browser: Any, server: Server) -> Iterator[Any]:
    with watched_page(browser, server, init_script=TURNING_CAMERA) as page:
        yield page


def test_the_picture_follows_the_camera_when_the_phone_turns(turning_page: Any) -> None:
    page = turning_page
    fake_analyzer(page, [(0.0, "happy", 0.8, 0.35)])
    page.get_by_role("button", name="Start camera").click()
    page.wait_for_function("() => document.getElementById('video').videoWidth === 640")
    expect(page.locator("#camera-overlay .face-box")).to_have_count(1)
    before = page.evaluate(PROPORTIONS)
    assert abs(before["box"] - 640 / 480) < 0.02, before
    page.evaluate("window.__turn()")
    page.wait_for_function("() => document.getElementById('video').videoWidth === 480")
    # The box follows within a frame or two: poll rather than read it once.
    page.wait_for_function(f"() => Math.abs(({PROPORTIONS})().box - 480 / 640) < 0.02", timeout=5_000)
    after = page.evaluate(PROPORTIONS)
    assert abs(after["box"] - after["frames"]) < 0.02, after
