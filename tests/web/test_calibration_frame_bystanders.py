"""``POST /api/calibration`` with a second person in view, as a webcam sees them."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from flask.testing import FlaskClient
from webtools import encode, post_calibration

Image = npt.NDArray[np.uint8]


def two_people(astronaut_bgr: Image, scales: tuple[float, float]) -> bytes:
    """A 640×480 frame with the astronaut's head twice, side by side, at the two scales."""
    head = astronaut_bgr[20:240, 110:330]
    frame = np.full((480, 640, 3), 110, np.uint8)
    for scale, x in zip(scales, (30, 340), strict=True):
        pasted = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = pasted.shape[:2]
        frame[100 : 100 + h, x : x + w] = pasted
    return encode(frame)


def test_a_frame_with_two_faces_of_one_size_is_refused_and_learns_nothing(
    client: FlaskClient, csrf: dict[str, str], astronaut_bgr: Image
) -> None:
    # The person calibrating leant back as someone else leant in: no telling whose face is whose.
    reply = client.post(
        "/api/calibration?emotion=neutral",
        data=two_people(astronaut_bgr, (1.0, 1.04)),
        content_type="image/jpeg",
        headers=csrf,
    )
    assert reply.status_code == 422
    error = reply.get_json()["error"]
    assert error["code"] == "several_faces"
    assert "only your face in view" in error["message"]
    assert client.get("/api/calibration").get_json()["examples"] == {}


def test_a_bystander_clearly_further_back_is_passed_over(
    client: FlaskClient, csrf: dict[str, str], astronaut_bgr: Image
) -> None:
    answer = post_calibration(client, two_people(astronaut_bgr, (1.0, 0.8)), "neutral", csrf)
    assert answer["notes"] == ["2 faces in the frame; used the largest"]
