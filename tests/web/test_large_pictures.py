"""Large pictures are bounded per process: over the bound they are refused at once, never queued on a thread."""

from __future__ import annotations

import threading

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
from webtools import AppFactory, HeldAnalyzer, encode, running_server

from moodtape.errors import ServerBusyError
from moodtape.vision.images import decode_image
from moodtape.vision.pipeline import Analyzer
from moodtape.web.large_pictures import LARGE_PICTURE_PIXELS, LargePictureGate, declared_pixels


@pytest.fixture
def large_jpeg(astronaut_bgr: npt.NDArray[np.uint8]) -> bytes:
    """2,400 × 1,800 (4.3 MP, over the bound) with the astronaut's face in it."""
    canvas = np.full((1800, 2400, 3), 90, np.uint8)
    canvas[400:1400, 700:1700] = cv2.resize(astronaut_bgr, (1000, 1000))
    return encode(canvas)


def test_declared_pixels_reads_the_header_only() -> None:
    png = encode(np.zeros((30, 70, 3), np.uint8), ".png")
    assert declared_pixels(png) == 2100
    huge = encode(np.zeros((6000, 6000), np.uint8), ".png")  # 36 MP of one value: a few kilobytes to send
    assert declared_pixels(huge) == 36_000_000, "counted from the header, not by decoding"
    assert declared_pixels(b"\xff\xd8\xff not a jpeg") == 0, "unreadable: left for the decoder to explain"


def test_small_pictures_never_wait_and_large_ones_share_the_slots() -> None:
    gate = LargePictureGate(slots=1)
    with gate.admit(LARGE_PICTURE_PIXELS + 1):
        with gate.admit(LARGE_PICTURE_PIXELS), gate.admit(640 * 480):
            pass  # at or under the bound: no slot needed
        with pytest.raises(ServerBusyError) as refused, gate.admit(LARGE_PICTURE_PIXELS + 1):
            pass
        assert refused.value.status == 503 and refused.value.retry_after > 0
    with gate.admit(LARGE_PICTURE_PIXELS + 1):
        pass  # the slot came back


def test_one_client_holds_at_most_half_of_the_slots() -> None:
    """One client re-sending huge pictures held both default slots; everyone else's photo got 503."""
    gate = LargePictureGate(slots=2)
    large = LARGE_PICTURE_PIXELS + 1
    with gate.admit(large, "203.0.113.66"):
        with pytest.raises(ServerBusyError) as refused, gate.admit(large, "203.0.113.66"):
            pass
        assert "your other large picture" in str(refused.value)
        # another visitor's phone photo still gets a slot; then both are taken
        with gate.admit(large, "198.51.100.7"), pytest.raises(ServerBusyError), gate.admit(large, "192.0.2.1"):
            pass
    with gate.admit(large, "203.0.113.66"):
        pass  # its slot came back


def test_a_client_over_its_share_is_told_to_retry_over_http(make_app: AppFactory, large_jpeg: bytes) -> None:
    app = make_app(MOODTAPE_LARGE_PICTURES="2")
    flood, visitor = app.test_client(), app.test_client()
    flood.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    visitor.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    with app.extensions["moodtape"].large_pictures.admit(10**9, "203.0.113.66"):  # its first, still running
        busy = flood.post("/api/analyze", data=large_jpeg, content_type="image/jpeg")
        assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
        assert visitor.post("/api/analyze", data=large_jpeg, content_type="image/jpeg").status_code == 200


def test_a_failing_analysis_gives_its_slot_back() -> None:
    gate = LargePictureGate(slots=1)
    with pytest.raises(RuntimeError), gate.admit(10**8):
        raise RuntimeError("decoding failed")
    with gate.admit(10**8):
        pass


def test_busy_answer_is_json_with_retry_after(make_app: AppFactory, large_jpeg: bytes, frame_640: bytes) -> None:
    app = make_app(MOODTAPE_LARGE_PICTURES="1")
    client = app.test_client()
    assert client.post("/api/analyze", data=large_jpeg, content_type="image/jpeg").get_json()["faces"]
    with app.extensions["moodtape"].large_pictures.admit(10**9):  # another large picture is being worked on
        busy = client.post("/api/analyze", data=large_jpeg, content_type="image/jpeg")
        assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "busy"
        assert int(busy.headers["Retry-After"]) > 0
        assert "try again" in busy.get_json()["error"]["message"]
        small = client.post("/api/analyze", data=frame_640, content_type="image/jpeg")
        assert small.status_code == 200 and small.get_json()["faces"], "webcam-sized frames never wait"
    assert client.post("/api/analyze", data=large_jpeg, content_type="image/jpeg").status_code == 200


def test_a_second_large_picture_does_not_take_the_last_thread(
    make_app: AppFactory, real_analyzer: Analyzer, large_jpeg: bytes
) -> None:
    """Two threads, one busy with a large picture: another large one is refused and /healthz still answers."""
    analyzer = HeldAnalyzer(real_analyzer, holds=lambda gray: gray.size > LARGE_PICTURE_PIXELS)
    app = make_app(analyzer=analyzer, MOODTAPE_LARGE_PICTURES="1")
    headers = {"Content-Type": "image/jpeg"}
    first: list[httpx.Response] = []
    with running_server(app, threads=2) as url:
        upload = threading.Thread(
            target=lambda: first.append(
                httpx.post(f"{url}/api/analyze", content=large_jpeg, headers=headers, timeout=60)
            )
        )
        try:
            upload.start()
            assert analyzer.started.wait(30), "the first large picture never reached the analyzer"
            second = httpx.post(f"{url}/api/analyze", content=large_jpeg, headers=headers, timeout=30)
            assert second.status_code == 503 and second.json()["error"]["code"] == "busy"
            # The refusal freed its thread: with the gate missing, this would wait on the held analysis.
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
            assert not first, "the first picture is still being worked on"
        finally:
            analyzer.release.set()
            upload.join(timeout=60)
    assert first[0].status_code == 200 and first[0].json()["faces"]


def test_a_jpeg_over_the_pixel_limit_is_read_at_a_fraction_of_its_size(make_app: AppFactory, large_jpeg: bytes) -> None:
    """Phones take 48- and 50-megapixel JPEGs (the limit is 40): they were refused with a 413 whose
    message spoke to the operator. A JPEG decodes straight to a half, quarter or eighth of its size;
    the answer's width and height are those of the picture read, so the page's boxes still fit."""
    client = make_app(MOODTAPE_MAX_PIXELS="2000000").test_client()
    reply = client.post("/api/analyze", data=large_jpeg, content_type="image/jpeg")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    answer = reply.get_json()
    assert answer["image"] == {"width": 1200, "height": 900}
    (face,) = answer["faces"]
    x, _, w, _ = face["box"]
    assert x + w <= 1200 and face["emotion"] == "happy"
    rgb = cv2.imdecode(np.frombuffer(large_jpeg, np.uint8), cv2.IMREAD_COLOR)
    png = client.post("/api/analyze", data=encode(rgb, ".png"), content_type="image/png")
    assert png.status_code == 413, "other formats cannot be decoded smaller and stay refused"


@pytest.mark.parametrize(
    ("size", "limit", "read"),
    [((400, 300), 100_000, (200, 150)), ((401, 301), 100_000, (201, 151)), ((802, 600), 20_000, (101, 75))],
)
def test_a_jpeg_of_any_size_is_read_at_the_scale_that_fits(
    size: tuple[int, int], limit: int, read: tuple[int, int]
) -> None:
    """Sides that the scale does not divide (a photo cropped to 8001 × 6001) were decoded at too
    small a reduction, or none, and refused after all."""
    picture = encode(np.full((size[1], size[0], 3), 128, np.uint8))
    gray = decode_image(picture, gray=True, max_pixels=limit, shrink_jpeg=True)
    assert (gray.shape[1], gray.shape[0]) == read and gray.size <= limit
