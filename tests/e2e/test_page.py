"""The page in a real browser against a real ``moodtape serve``: camera, photo, by hand, the list.

Screenshots of the key states go to ``artifacts/e2e/`` (desktop and a 375-px phone).
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import numpy as np
import pytest
from browsertools import (
    COUNT_ANALYZE_STARTS,
    COUNT_ANNOUNCEMENTS,
    TIMEOUT_MS,
    Server,
    astronaut_rgb,
    gradient_rgb,
    jpeg_bytes,
    png_bytes,
    screenshot,
    watched_page,
)

from moodtape.emotions import EMOTIONS

#: The words the page uses for the labels (words.js): "afraid", not "fear".
EMOTION_WORDS = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "afraid",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "neutral",
}
assert set(EMOTION_WORDS) == set(EMOTIONS)
pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

#: What a face box says: "happy 93 %" or, when the model is unsure, "not sure".
BOX_LABEL = re.compile(rf"^(({'|'.join(EMOTION_WORDS.values())}) \d+ %|not sure)$")
ANY_EMOTION = re.compile("|".join(EMOTION_WORDS.values()))
#: A fake player page, so pressing Play never reaches the network.
FIRST_BOX_GEOMETRY = """() => {
  const box = document.querySelector("#camera-overlay .face-box");
  if (!box) return null;
  const rect = (el) => { const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
  return { video: rect(document.querySelector("#video")), box: rect(box), label: box.textContent };
}"""
# Wraps fetch to count /api/analyze requests and the most that were ever in flight at once.
COUNT_ANALYZE_REQUESTS = """() => {
  const original = window.fetch;
  Object.assign(window, { __inFlight: 0, __maxInFlight: 0, __analyzed: 0 });
  window.fetch = async (...args) => {
    const counted = String(args[0]).includes("/api/analyze");
    if (counted) window.__maxInFlight = Math.max(window.__maxInFlight, ++window.__inFlight);
    try {
      return await original(...args);
    } finally {
      if (counted) {
        window.__inFlight--;
        window.__analyzed++;
      }
    }
  };
}"""
FAKE_PLAYER = "<!doctype html><title>player</title><p>player</p>"


def _stub_players(page: Any) -> None:
    for host in ("https://widget.deezer.com/**", "https://open.spotify.com/**", "https://www.youtube-nocookie.com/**"):
        page.route(host, lambda route: route.fulfill(body=FAKE_PLAYER, content_type="text/html"))


def _pick_emotion(page: Any, emotion: str) -> None:
    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name=emotion, exact=True).click()
    expect(page.locator("#results-mood")).to_contain_text(emotion)
    expect(page.locator("#result-list > li").first).to_be_visible()


def _titles(page: Any) -> list[str]:
    titles: list[str] = page.locator("#result-list .title").all_text_contents()
    return titles


def _assert_playable(page: Any) -> None:
    """Every item offers a way to play it: a Play button (embed), a 30-s preview, or a link."""
    items = page.locator("#result-list > li")
    count = items.count()
    assert count > 0
    for i in range(count):
        ways = items.nth(i).locator(".play-btn, audio.preview, a.link")
        assert ways.count() >= 1, f"item {i} has no way to play it"


def _upload(page: Any, name: str, mime: str, data: bytes) -> None:
    page.get_by_role("tab", name="Photo").click()
    page.set_input_files("#photo-input", files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_camera_boxes_the_face_and_lists_playable_music(page: Any) -> None:
    _stub_players(page)
    expect(page.locator("#camera-intro")).to_contain_text("never stored")
    screenshot(page, "01-first-visit-desktop")

    page.evaluate(COUNT_ANALYZE_REQUESTS)
    page.get_by_role("button", name="Start camera").click()
    # Boxes are redrawn for every answer, so read one frame's geometry in one step.
    geometry = page.wait_for_function(FIRST_BOX_GEOMETRY, timeout=TIMEOUT_MS).json_value()
    assert BOX_LABEL.match(geometry["label"]), geometry["label"]
    (vx, vy, vw, vh), (bx, by, bw, bh) = geometry["video"], geometry["box"]
    # The box sits inside the video, around the middle where the astronaut's face is.
    assert vx + 0.25 * vw < bx + bw / 2 < vx + 0.75 * vw
    assert vy - 2 <= by and by + bh <= vy + vh + 2
    assert 0.1 * vw < bw < 0.8 * vw

    expect(page.locator("#bars .bar.top, #bars.uncertain")).not_to_have_count(0)
    expect(page.locator("#mood-now")).to_contain_text(ANY_EMOTION)
    expect(page.locator("#results-mood")).to_contain_text("from the camera")
    _assert_playable(page)
    expect(page.locator("#camera-stats")).to_contain_text("frames/s")
    expect(page.locator("#timeline path.valence")).to_have_attribute("d", re.compile(r"^M[\d.]+ [\d.]+ L"))

    # Frames go one at a time, the next when the answer is back: measure the rate over 10 answers.
    start, before = time.monotonic(), page.evaluate("window.__analyzed")
    page.wait_for_function(f"() => window.__analyzed >= {before + 10}")
    rate = 10 / (time.monotonic() - start)
    print(f"camera frames analysed per second: {rate:.1f}")
    assert page.evaluate("window.__maxInFlight") == 1
    screenshot(page, "02-camera-live-desktop", full_page=True)

    first_play = page.locator("#result-list .play-btn").first
    if first_play.count():
        first_play.click()
        expect(page.locator("#result-list iframe.player").first).to_have_attribute("src", re.compile(r"^https://"))

    page.get_by_role("button", name="Stop camera").click()
    expect(page.locator("#camera-intro")).to_be_visible()
    expect(page.locator("#camera-start")).to_be_focused()


def test_photo_upload_boxes_the_face(page: Any) -> None:
    _upload(page, "astronaut.jpg", "image/jpeg", jpeg_bytes(astronaut_rgb()))
    expect(page.locator("#photo-overlay .face-box")).to_have_count(1)
    expect(page.locator("#photo-overlay .face-label")).to_have_text(BOX_LABEL)
    expect(page.locator("#photo-message")).to_contain_text("1 face")
    expect(page.locator("#results-mood")).to_contain_text("from your photo")
    _assert_playable(page)
    screenshot(page, "03-photo-desktop")


def test_a_busy_server_is_asked_again_and_the_photo_is_not_lost(page: Any) -> None:
    """The server takes a few large pictures at a time and answers others 503 busy with Retry-After."""
    busy = {"error": {"code": "busy", "message": "the server is busy with 2 other large picture(s)"}}
    refused: list[str] = []
    retries: list[Any] = []

    def answer(route: Any) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "1"}, json=busy)
        else:
            retries.append(route)  # held until the test has read the message: it shows only until the answer

    page.route("**/api/analyze", answer)
    _upload(page, "astronaut.jpg", "image/jpeg", jpeg_bytes(astronaut_rgb()))
    expect(page.locator("#photo-message")).to_contain_text("trying again in 1 s")
    for _ in range(TIMEOUT_MS // 50):  # the page sends it again after its 1 s wait
        if retries:
            break
        page.wait_for_timeout(50)
    assert retries, "the photo was never sent again"
    retries[0].continue_()
    expect(page.locator("#photo-overlay .face-box")).to_have_count(1)
    expect(page.locator("#photo-message")).to_contain_text("1 face")
    assert len(refused) == 1


# Builds a File in the page from base64 and hands it over the way a paste or a drop would.
HAND_OVER_FILE = """([kind, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], "astronaut.jpg", { type: "image/jpeg" }));
  if (kind === "paste") {
    document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
  } else {
    const zone = document.querySelector("#panel-photo");
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}"""


@pytest.mark.parametrize("kind", ["paste", "drop"])
def test_pasted_or_dropped_photo_is_analysed(page: Any, kind: str) -> None:
    if kind == "drop":
        page.get_by_role("tab", name="Photo").click()
    encoded = base64.b64encode(jpeg_bytes(astronaut_rgb())).decode("ascii")
    page.evaluate(HAND_OVER_FILE, [kind, encoded])
    expect(page.get_by_role("tab", name="Photo")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#photo-overlay .face-box")).to_have_count(1)
    expect(page.locator("#results-mood")).to_contain_text("from your photo")


def test_photo_without_a_face_says_so(page: Any) -> None:
    _upload(page, "gradient.png", "image/png", png_bytes(gradient_rgb()))
    expect(page.locator("#photo-message")).to_contain_text("No face found")
    expect(page.locator("#photo-overlay .face-box")).to_have_count(0)
    expect(page.locator("#result-list > li")).to_have_count(0)
    screenshot(page, "04-no-face-desktop")
    page.locator("#photo-way-out").get_by_role("button", name="Pick a mood by hand").click()
    expect(page.locator("#panel-manual")).to_be_visible()


def test_bad_file_shows_the_servers_message(page: Any) -> None:
    junk = np.random.default_rng(5).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    reply = page.request.post("/api/analyze", data=junk, headers={"Content-Type": "image/jpeg"})
    assert reply.status in (415, 422)
    message = reply.json()["error"]["message"]
    _upload(page, "holiday.jpg", "image/jpeg", junk)
    # The page shows the server's message as a sentence: capital first letter, final full stop.
    shown = message[0].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")
    expect(page.locator("#photo-message")).to_have_text(shown)
    expect(page.locator("#photo-message")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#photo-stage")).to_be_hidden()
    screenshot(page, "05-bad-file-desktop")


def test_manual_mood_by_name_and_on_the_plane(page: Any) -> None:
    _pick_emotion(page, "sad")
    expect(page.locator("#offline-badge")).to_be_visible()
    expect(page.locator("#sources")).to_contain_text("catalog")
    _assert_playable(page)
    expect(page.locator("#plane .plane-path polyline")).to_have_count(1)

    dot = page.locator("#plane .applied-dot")
    before = float(dot.get_attribute("cx"))
    plane = page.locator("#plane")
    plane.focus()
    for _ in range(6):
        plane.press("Shift+ArrowRight")
    plane.press("ArrowUp")
    expect(page.locator("#plane-status")).to_contain_text("Press Enter")
    plane.press("Enter")
    expect(page.locator("#results-mood")).to_contain_text("from your choice")
    expect(dot).not_to_have_attribute("cx", str(before))
    assert float(dot.get_attribute("cx")) > before
    screenshot(page, "06-manual-desktop", full_page=True)


def test_strategy_and_kind_switches_reload_the_list(page: Any) -> None:
    _pick_emotion(page, "sad")
    status = page.locator("#results-status")
    expect(status).to_contain_text("strategy")
    first = _titles(page)
    first_path = page.locator("#plane .plane-path polyline").get_attribute("points")

    page.get_by_role("button", name="Energize").click()
    expect(status).to_contain_text("strategy energize")
    expect(page.get_by_role("button", name="Energize")).to_have_attribute("aria-pressed", "true")
    assert _titles(page) != first
    assert page.locator("#plane .plane-path polyline").get_attribute("points") != first_path

    page.get_by_role("button", name="Videos").click()
    expect(status).to_contain_text("videos")
    _assert_playable(page)
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    screenshot(page, "07-videos-dark-desktop")


def test_feedback_is_sent_with_the_token_and_accepted(page: Any) -> None:
    _pick_emotion(page, "happy")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token

    like = page.locator("#result-list > li").first.get_by_role("button", name="Like", exact=True)
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as answer:
        like.click()
    assert answer.value.status == 200
    assert answer.value.json()["ok"] is True
    assert answer.value.request.headers.get("x-csrf-token") == token
    assert answer.value.request.post_data_json["action"] == "like"
    expect(like).to_have_attribute("aria-pressed", "true")

    dislike = page.locator("#result-list > li").nth(1).get_by_role("button", name="Dislike", exact=True)
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as answer:
        dislike.click()
    assert answer.value.status == 200

    page.get_by_role("button", name="Not my mood").click()
    page.locator("#not-mine-select").select_option("sad")
    with page.expect_response(lambda r: r.url.endswith("/api/feedback")) as answer:
        page.get_by_role("button", name="Use this mood").click()
    assert answer.value.status == 200
    sent = answer.value.request.post_data_json
    assert (sent["action"], sent["detected"], sent["corrected"]) == ("not_my_mood", "happy", "sad")
    expect(page.locator("#results-mood")).to_contain_text("sad")


def test_export_links_return_the_list_as_files(page: Any) -> None:
    _pick_emotion(page, "neutral")
    first_title = _titles(page)[0]
    for fmt, start in (("m3u8", "#EXTM3U"), ("xspf", "<?xml"), ("csv", "")):
        href = page.locator(f"#export-{fmt}").get_attribute("href")
        # The link names the saved list on screen, so the file holds exactly what is shown.
        assert href and f"format={fmt}" in href and re.search(r"list=[0-9a-f]{32}", href)
        reply = page.request.get(href)
        assert reply.status == 200
        assert "attachment" in reply.headers["content-disposition"]
        body = reply.text()
        assert body.startswith(start)
        assert first_title.split("&")[0] in body


def test_history_shows_and_deletes(page: Any) -> None:
    _pick_emotion(page, "surprised")
    first_title = _titles(page)[0]
    page.get_by_role("button", name="History").click()
    dialog = page.locator("#history-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#history-list > li").first).to_contain_text(first_title)
    screenshot(page, "08-history-desktop")
    dialog.get_by_role("button", name="Delete my history").click()
    expect(dialog.get_by_role("button", name="Keep my history")).to_be_focused()
    dialog.get_by_role("button", name="Delete everything").click()
    expect(dialog.locator("#history-status")).to_contain_text("Deleted")
    expect(dialog.locator("#history-list > li")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="History").click()
    expect(dialog.locator("#history-status")).to_contain_text("empty")


@pytest.mark.parametrize(
    ("error_name", "words"),
    [("NotAllowedError", "Camera access was blocked"), ("NotFoundError", "No camera was found")],
)
def test_camera_denied_or_absent_offers_a_way_out(browser: Any, server: Server, error_name: str, words: str) -> None:
    refuse = f"""
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("refused", "{error_name}"));
    """
    with watched_page(browser, server, init_script=refuse) as page:
        page.get_by_role("button", name="Start camera").click()
        problem = page.locator("#camera-problem")
        expect(problem).to_be_visible()
        expect(problem).to_contain_text(words)
        if error_name == "NotAllowedError":
            screenshot(page, "09-camera-denied-desktop")
        problem.get_by_role("button", name="Pick a mood by hand").click()
        expect(page.get_by_role("tab", name="Pick by hand")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#emotion-buttons")).to_be_visible()


def test_unreachable_server_is_reported(page: Any) -> None:
    page.route("**/api/lists?**", lambda route: route.abort("connectionrefused"))
    page.get_by_role("tab", name="Pick by hand").click()
    page.locator("#emotion-buttons").get_by_role("button", name="afraid", exact=True).click()
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner")).to_contain_text("Can't reach the moodtape server")


def test_camera_backs_off_when_unreachable_or_rate_limited_then_recovers(page: Any) -> None:
    sent: list[float] = []
    limited = '{"error": {"code": "rate_limited", "message": "too many requests; slow down"}}'

    def answer(route: Any) -> None:
        sent.append(time.monotonic())
        if len(sent) == 1:
            route.abort("connectionrefused")
        elif len(sent) == 2:
            route.fulfill(status=429, headers={"Retry-After": "2"}, content_type="application/json", body=limited)
        else:
            route.continue_()

    page.route("**/api/analyze?stream=*", answer)
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#banner")).to_contain_text("Trying again")
    # Short words of the page's own, which keep to the stats line's one line (test_camera_keys_and_refusals.py).
    expect(page.locator("#camera-stats")).to_have_text("Server busy; retrying.")
    expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
    expect(page.locator("#banner")).to_be_hidden()
    # Never more than one request in flight, and Retry-After is honoured (2 s, not the 1 s backoff).
    assert sent[2] - sent[1] >= 1.9


def test_an_unreachable_server_is_announced_once_while_the_camera_retries(page: Any) -> None:
    """The alert says "can't reach the server" once, not again (with a new wait in it) every retry."""
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
    page.evaluate(COUNT_ANNOUNCEMENTS)
    page.evaluate(COUNT_ANALYZE_STARTS)
    page.route("**/api/analyze?stream=*", lambda route: route.abort("connectionrefused"))
    page.wait_for_function("() => window.__analyzeStarts >= 5")  # four retries after 0.5, 1, 2, 4 s
    alerts = [text for text in page.evaluate("window.__announced") if "reach" in text]
    assert len(alerts) == 1, alerts
    page.unroute("**/api/analyze?stream=*")
    expect(page.locator("#banner")).to_be_hidden()


def test_camera_without_a_face_in_view_says_so(page: Any) -> None:
    nobody = '{"faces": [], "image": {"width": 640, "height": 480}, "mood": null, "stream": "s", "elapsed_ms": 1.0}'
    page.route(
        "**/api/analyze?stream=*",
        lambda route: route.fulfill(status=200, content_type="application/json", body=nobody),
    )
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#camera-note")).to_be_visible()
    expect(page.locator("#camera-note")).to_contain_text("No face in view")
    expect(page.locator("#faces-summary")).to_have_text("No face in view.")
    expect(page.locator("#result-list > li")).to_have_count(0)


def test_phone_width_is_usable(browser: Any, server: Server) -> None:
    with watched_page(browser, server, width=375, height=812) as page:
        _stub_players(page)
        screenshot(page, "10-first-visit-phone", full_page=True)
        page.emulate_media(color_scheme="dark", reduced_motion="reduce")
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#camera-overlay .face-box").first).to_be_visible()
        expect(page.locator("#result-list > li").first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 375 px"
        screenshot(page, "11-camera-phone-dark", full_page=True)


# Names a control without an accessible name: no text, no aria-label, no <label for>.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll("button, a[href], input, select, [tabindex='0']")]
  .filter((el) => !el.closest("[hidden]"))
  .filter((el) => {
    const label = el.id && document.querySelector(`label[for="${el.id}"]`);
    return !(el.getAttribute("aria-label") || el.textContent.trim() || label);
  })
  .map((el) => el.outerHTML.slice(0, 80))"""


def test_keyboard_alone_reaches_the_camera_and_the_modes(page: Any) -> None:
    assert page.evaluate(UNNAMED_CONTROLS) == []
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "camera-start":
            break
    else:
        pytest.fail("Tab never reached the Start camera button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"

    page.locator("#tab-camera").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-photo")).to_be_focused()
    expect(page.locator("#panel-photo")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#panel-manual")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first emotion button
    expect(page.locator("#result-list > li").first).to_be_visible()


def test_list_follows_only_lasting_mood_changes(page: Any) -> None:
    """The hysteresis in settle.js, run in the browser with a made-up clock."""
    result = page.evaluate(
        """async () => {
          const { MoodSettler } = await import("/static/js/settle.js");
          const s = new MoodSettler({ holdMs: 2500, minDistance: 0.25, firstMs: 1000 });
          const happy = { valence: 0.8, arousal: 0.35, emotion: "happy" };
          const happier = { valence: 0.9, arousal: 0.5, emotion: "happy" };
          const sad = { valence: -0.7, arousal: -0.4, emotion: "sad" };
          const out = [];
          out.push(s.update(happy, 0));          // first sight: wait
          out.push(s.update(happy, 1100));       // first mood taken after 1 s
          out.push(s.update(happier, 1200));     // same emotion: ignored
          out.push(s.update(sad, 2000));         // a change starts...
          out.push(s.update(happy, 3000));       // ...and is interrupted
          out.push(s.update(sad, 4000));
          out.push(s.update(sad, 6000));         // 2 s: not yet
          out.push(s.update(sad, 6600));         // 2.6 s: taken
          return out.map((m) => (m ? m.emotion : null));
        }"""
    )
    assert result == [None, "happy", None, None, None, None, None, "sad"]


def test_uncertain_faces_get_a_grey_not_sure_box_mirrored_for_the_selfie_view(page: Any) -> None:
    drawn = page.evaluate(
        """async () => {
          const { drawFaces, drawBars } = await import("/static/js/overlay.js");
          const layer = document.createElement("div");
          const probabilities = {
            angry: 0.1, disgust: 0.05, fear: 0.15, happy: 0.2, sad: 0.25, surprise: 0.1, neutral: 0.15,
          };
          const faces = [
            { box: [10, 20, 30, 40], emotion: "sad", confidence: 0.25, uncertain: true, probabilities },
            { box: [60, 10, 20, 20], emotion: "happy", confidence: 0.9, uncertain: false, probabilities },
          ];
          drawFaces(layer, faces, { width: 100, height: 100 }, true);
          const bars = document.createElement("ul");
          drawBars(bars, Object.keys(probabilities), faces[0]);
          return {
            boxes: [...layer.children].map((b) =>
              [b.className, b.textContent, b.style.width, b.style.height, b.style.transform]),
            barsUncertain: bars.classList.contains("uncertain"),
            top: [...bars.querySelectorAll(".top")].length,
          };
        }"""
    )
    assert drawn["boxes"] == [
        # Mirrored: the first box's left edge is at 60 % of the layer, its top at 20 %; placed by a
        # translation in shares of the layer (a size container: cqw, cqh).
        ["face-box uncertain main", "not sure", "30%", "40%", "translate(60cqw, 20cqh)"],
        ["face-box emo-happy", "happy 90 %", "20%", "20%", "translate(20cqw, 10cqh)"],
    ]
    assert drawn["barsUncertain"] is True
    assert drawn["top"] == 0


def test_page_has_no_inline_script_or_style(server: Server) -> None:
    import httpx

    reply = httpx.get(server.url, timeout=10)
    # The page runs under this policy in every test above, which fail on any violation.
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    html = reply.text
    assert 'name="csrf-token"' in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert not script.strip(), "inline script body"
    assert not re.search(r"<style\b", html)


def test_a_too_large_photo_is_refused_before_it_is_sent(page: Any) -> None:
    """Before: the page sent any file and waited for the server's 413."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/api/analyze" in request.url else None)
    _upload(page, "huge.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(11 * 1024 * 1024))
    expect(page.locator("#photo-message")).to_contain_text("takes up to 10.0 MiB")
    expect(page.locator("#photo-message")).to_have_class(re.compile(r"\berror\b"))
    assert sent == []
