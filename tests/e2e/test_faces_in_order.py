"""Several faces are said left to right as the screen shows them, each with its place (session 18),
by the middle of each face; faces one above the other get no place that claims an order.

Before: "2 faces: happy 90 %, sad 80 %." in the server's order (its detection order), with no
place: a listener could not tell which face was which, and with the camera's mirrored view the
server's "first" face could be on either side of the screen.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from browsertools import astronaut_rgb, jpeg_bytes

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
expect = sync_api.expect

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _face(
    emotion: str, confidence: float, x: int, *, y: int = 150, size: int = 120, uncertain: bool = False
) -> dict[str, Any]:
    """A face of ``size`` px at ``x``, ``y`` (image coordinates, 640×480)."""
    probabilities = {e: (confidence if e == emotion else (1 - confidence) / 6) for e in EMOTIONS}
    return {
        "box": [x, y, size, size],
        "emotion": emotion,
        "confidence": confidence,
        "uncertain": uncertain,
        "probabilities": probabilities,
    }


def _answer(faces: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "faces": faces,
            "image": {"width": 640, "height": 480},
            "mood": {"valence": 0.8, "arousal": 0.35, "emotion": "happy", "source": "face"},
            "stream": "s",
            "elapsed_ms": 1.0,
        }
    )


def _box_lefts(page: Any, overlay: str) -> dict[str, float]:
    """Each drawn box's left edge on screen, by the emotion it shows."""
    return dict(
        page.evaluate(
            """(overlay) => [...document.querySelectorAll(`${overlay} .face-box`)].map((box) => [
                 [...box.classList].find((c) => c.startsWith("emo-")).slice(4),
                 box.getBoundingClientRect().left,
               ])""",
            overlay,
        )
    )


def _photo_says(page: Any, faces: list[dict[str, Any]], said: str) -> None:
    """Analyse a photo whose faces the server answers with ``faces``; the page says ``said``."""
    page.route(
        "**/api/analyze",
        lambda route: route.fulfill(status=200, content_type="application/json", body=_answer(faces)),
    )
    page.get_by_role("tab", name="Photo").click()
    photo = {"name": "faces.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(astronaut_rgb())}
    page.locator("#photo-input").set_input_files(photo)
    expect(page.locator("#photo-message")).to_have_text(said)


def test_a_photos_faces_are_said_left_to_right_with_their_places(page: Any) -> None:
    # The server's order: middle, right, left.
    faces = [_face("happy", 0.9, 260), _face("neutral", 0.7, 480), _face("sad", 0.8, 40)]
    said = "3 faces. Left: sad 80 %; middle: happy 90 %; right: neutral 70 %."
    _photo_says(page, faces, said)
    expect(page.locator("#faces-summary")).to_have_text(said)
    lefts = _box_lefts(page, "#photo-overlay")
    assert lefts["sad"] < lefts["happy"] < lefts["neutral"], lefts


def test_the_cameras_faces_are_said_as_the_mirrored_view_shows_them(page: Any) -> None:
    # Image coordinates: happy on the image's left, sad on its right; the camera's view is mirrored,
    # so on screen sad is on the left. The server sends happy first.
    faces = [_face("happy", 0.9, 40), _face("sad", 0.8, 480)]
    page.route(
        "**/api/analyze?stream=*",
        lambda route: route.fulfill(status=200, content_type="application/json", body=_answer(faces)),
    )
    page.get_by_role("button", name="Start camera").click()
    expect(page.locator("#faces-summary")).to_have_text("2 faces. Left: sad; right: happy.")
    lefts = _box_lefts(page, "#camera-overlay")
    assert lefts["sad"] < lefts["happy"], lefts


def test_four_faces_or_more_are_said_in_order_without_a_word_each(page: Any) -> None:
    faces = [_face(e, 0.9, x) for e, x in [("sad", 500), ("happy", 20), ("angry", 340), ("neutral", 180)]]
    _photo_says(page, faces, "4 faces, left to right: happy 90 %, neutral 90 %, angry 90 %, sad 90 %.")


def test_places_go_by_the_middle_of_each_face(page: Any) -> None:
    """Before: by the box's left edge, a small face centred at 175 inside the span of a big face
    centred at 300 (its left edge at 150) was called "right"."""
    faces = [_face("happy", 0.9, 150, size=300), _face("sad", 0.8, 160, y=40, size=30)]
    _photo_says(page, faces, "2 faces. Left: sad 80 %; right: happy 90 %.")


def test_faces_one_above_the_other_get_no_places(page: Any) -> None:
    """Before: two faces at the same x were called "left" and "right" in the server's order."""
    faces = [_face("happy", 0.9, 260, y=20), _face("sad", 0.8, 290, y=300)]
    _photo_says(page, faces, "2 faces: happy 90 %, sad 80 %.")


def test_with_four_faces_two_in_a_column_no_order_is_claimed(page: Any) -> None:
    faces = [
        _face(e, 0.9, x, y=y)
        for e, x, y in [("sad", 500, 150), ("happy", 20, 20), ("angry", 30, 300), ("neutral", 260, 150)]
    ]
    _photo_says(page, faces, "4 faces: happy 90 %, angry 90 %, neutral 90 %, sad 90 %.")


def test_an_uncertain_face_is_said_with_its_place_apart(page: Any) -> None:
    """Before: "left not sure", which reads as one phrase."""
    faces = [_face("happy", 0.9, 400), _face("sad", 0.4, 40, uncertain=True)]
    _photo_says(page, faces, "2 faces. Left: not sure; right: happy 90 %.")
