"""``POST /api/calibration`` reads ``emotion`` and ``removed`` where clients written elsewhere send them:
beside the picture, in a JSON body or a form, as well as in the query.

Before, a body's ``emotion`` was ignored: a frame sent as ``{"image": "…", "emotion": "happy"}`` was
learnt as the neutral (resting) face, and every later reading of that person was made against a
smile; a body's ``removed`` was ignored too, so a frame sent before a removal was kept after it.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from webtools import post_calibration


def _bodies(frame: bytes, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The test client's arguments for the frame and ``fields`` as a JSON body, a multipart form and a
    URL-encoded form (each call makes fresh ones: a form's file is a stream, read once)."""
    data_url = "data:image/jpeg;base64," + base64.b64encode(frame).decode("ascii")
    text = {name: str(value) for name, value in fields.items()}
    return {
        "json": {"json": {"image": data_url, **fields}},
        "multipart": {
            "data": {**text, "image": (io.BytesIO(frame), "frame.jpg", "image/jpeg")},
            "content_type": "multipart/form-data",
        },
        "urlencoded": {"data": {**text, "image": data_url}},
    }


KINDS = ("json", "multipart", "urlencoded")


@pytest.mark.parametrize("kind", KINDS)
def test_an_emotion_in_the_body_is_the_one_learnt(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, kind: str
) -> None:
    body = _bodies(frame_640, {"emotion": "happy"})[kind]
    reply = client.post("/api/calibration", headers=csrf, **body)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["examples"] == {"happy": 1}
    assert reply.get_json()["calibrated"] is False  # a smile is no resting face


@pytest.mark.parametrize("kind", KINDS)
def test_a_removal_count_in_the_body_drops_a_frame_sent_before_the_removal(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, kind: str
) -> None:
    assert client.delete("/api/calibration", headers=csrf).get_json()["removed"] == 1
    body = _bodies(frame_640, {"removed": 0})[kind]
    reply = client.post("/api/calibration", headers=csrf, **body)
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "calibration_removed"
    assert client.get("/api/calibration").get_json()["examples"] == {}


def test_the_query_and_the_body_saying_different_things_is_refused(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    body = _bodies(frame_640, {"emotion": "happy"})["json"]
    reply = client.post("/api/calibration?emotion=sad", headers=csrf, **body)
    assert reply.status_code == 400
    assert "'sad' in the query and 'happy' in the body" in reply.get_json()["error"]["message"]
    assert client.get("/api/calibration").get_json()["examples"] == {}
    same = client.post("/api/calibration?emotion=happy", headers=csrf, **body)
    assert same.status_code == 200 and same.get_json()["examples"] == {"happy": 1}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"emotion": "joy"}, "unknown emotion 'joy'"),
        ({"emotion": ""}, "emotion is empty"),
        ({"emotion": ["happy"]}, "the JSON field 'emotion' must be a string or a whole number"),
        ({"removed": 1.5}, "the JSON field 'removed' must be a string or a whole number"),
        ({"removed": "-1"}, "removed must be a whole number of at least 0"),
    ],
)
def test_a_wrong_field_in_the_body_is_named(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, fields: dict[str, Any], words: str
) -> None:
    reply = client.post("/api/calibration", headers=csrf, **_bodies(frame_640, fields)["json"])
    assert reply.status_code == 400 and words in reply.get_json()["error"]["message"]
    assert client.get("/api/calibration").get_json()["examples"] == {}


def test_a_picture_sent_as_its_own_bytes_still_defaults_to_neutral(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    assert post_calibration(client, frame_640, headers=csrf)["examples"] == {"neutral": 1}
