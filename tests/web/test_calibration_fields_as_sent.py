"""``emotion`` and ``removed`` beside the picture, however a client writes them, and at no cost to
the endpoints that do not read them.

Before (review of session 22): the body was kept on every upload so that the fields could be read
after the picture (a second full-size copy at decode time, on ``/api/analyze`` too); ``?emotion=happy``
with a body's ``"HAPPY"`` was a 400; ``emo%74ion=happy`` in a URL-encoded form, and ``emotion`` sent as
a multipart file part (``requests.post(files={"emotion": "happy"})``), were ignored and the frame
stored as neutral.
"""

from __future__ import annotations

import base64
import io
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

import moodtape.web.uploads
from moodtape.errors import DataError


def _data_url(frame: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(frame).decode("ascii")


def _form_value(text: str) -> str:
    return text.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D").replace(":", "%3A").replace(";", "%3B")


def _examples(client: FlaskClient) -> dict[str, int]:
    examples: dict[str, int] = client.get("/api/calibration").get_json()["examples"]
    return examples


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("emotion=happy", {"emotion": "HAPPY"}),
        ("emotion=Happy", {"emotion": " happy "}),
        ("removed=0", {"removed": "00"}),
    ],
)
def test_the_same_value_in_the_query_and_the_body_is_one_value(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, query: str, fields: dict[str, str]
) -> None:
    body = {"image": _data_url(frame_640), "emotion": "happy", **fields}
    reply = client.post(f"/api/calibration?{query}", headers=csrf, json=body)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["examples"] == {"happy": 1}


def test_different_removal_counts_are_still_refused(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    reply = client.post("/api/calibration?removed=1", headers=csrf, json={"image": _data_url(frame_640), "removed": 0})
    assert reply.status_code == 400
    assert "removed is '1' in the query and '0' in the body" in reply.get_json()["error"]["message"]
    assert _examples(client) == {}


@pytest.mark.parametrize(
    ("emotion_name", "picture_name"),
    [("emo%74ion", "image"), ("%65%6D%6F%74%69%6F%6E", "image"), ("emotio%6e", "image"), ("emotion", "im%61ge")],
)
def test_an_escaped_field_name_in_a_url_encoded_form_is_read(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, emotion_name: str, picture_name: str
) -> None:
    body = f"{emotion_name}=happy&{picture_name}={_form_value(_data_url(frame_640))}"
    reply = client.post("/api/calibration", headers=csrf, data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["examples"] == {"happy": 1}


def test_a_field_named_plainly_and_escaped_is_given_twice(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    body = f"emotion=happy&emo%74ion=sad&image={_form_value(_data_url(frame_640))}"
    reply = client.post("/api/calibration", headers=csrf, data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 400 and "the form gives emotion 2 times" in reply.get_json()["error"]["message"]
    assert _examples(client) == {}


@pytest.mark.parametrize("picture_as", ["file", "text field"])
def test_an_emotion_sent_as_a_file_part_is_the_field(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, picture_as: str
) -> None:
    """``requests.post(files={"image": ..., "emotion": "happy"})`` sends the emotion as a file part."""
    image: Any = (io.BytesIO(frame_640), "frame.jpg", "image/jpeg") if picture_as == "file" else _data_url(frame_640)
    form = {"image": image, "emotion": (io.BytesIO(b"happy"), "emotion")}
    reply = client.post("/api/calibration", headers=csrf, data=form, content_type="multipart/form-data")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["examples"] == {"happy": 1}


def test_a_removal_count_sent_as_a_file_part_drops_a_stale_frame(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    assert client.delete("/api/calibration", headers=csrf).get_json()["removed"] == 1
    form = {"image": (io.BytesIO(frame_640), "frame.jpg", "image/jpeg"), "removed": (io.BytesIO(b"0"), "removed")}
    reply = client.post("/api/calibration", headers=csrf, data=form, content_type="multipart/form-data")
    assert reply.status_code == 409 and reply.get_json()["error"]["code"] == "calibration_removed"


@pytest.mark.parametrize(
    ("emotion", "words"),
    [
        ([(io.BytesIO(b"sad"), "emotion"), "happy"], "the form gives emotion 2 times"),
        ((io.BytesIO(b"happy" + b" " * 300), "emotion"), "the form's emotion is a file of over 256 bytes"),
        ((io.BytesIO(b"joy"), "emotion"), "unknown emotion 'joy'"),
    ],
    ids=["file-and-text", "long-file", "unknown"],
)
def test_a_wrong_emotion_file_part_is_refused(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes, emotion: Any, words: str
) -> None:
    form = {"image": (io.BytesIO(frame_640), "frame.jpg", "image/jpeg"), "emotion": emotion}
    reply = client.post("/api/calibration", headers=csrf, data=form, content_type="multipart/form-data")
    assert reply.status_code == 400 and words in reply.get_json()["error"]["message"]
    assert _examples(client) == {}


def test_an_emotion_file_part_is_never_the_picture(client: FlaskClient, csrf: dict[str, str]) -> None:
    """A form whose only file is ``emotion`` has no picture (it was read as one: a 415)."""
    reply = client.post(
        "/api/calibration",
        headers=csrf,
        data={"emotion": (io.BytesIO(b"happy"), "emotion")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400
    assert reply.get_json()["error"]["message"].startswith("send the picture in a form field named 'image'")


def test_a_json_object_sent_as_text_plain_carries_its_fields(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    """As the spec's text/plain entry says (the picture in it was read already)."""
    body = json.dumps({"image": _data_url(frame_640), "emotion": "happy"})
    reply = client.post("/api/calibration", headers=csrf, data=body, content_type="text/plain")
    assert reply.status_code == 200 and reply.get_json()["examples"] == {"happy": 1}


@pytest.fixture
def traced_at_decode(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Bytes traced when decoding starts (the decode is then stopped with a 400); tracing runs
    from the request's start."""
    seen: list[int] = []

    def stop(*_: object, **__: object) -> None:
        seen.append(tracemalloc.get_traced_memory()[0])
        raise DataError("stopped at decode")

    monkeypatch.setattr(moodtape.web.uploads, "decode_image", stop)
    yield seen


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    """A 1.2 MB JPEG (noise, so that the body is large)."""
    noise = np.random.default_rng(7).integers(0, 256, (1000, 1200, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration"])
@pytest.mark.parametrize("kind", ["json", "urlencoded"])
def test_no_endpoint_keeps_the_body_beside_the_picture(
    client: FlaskClient,
    csrf: dict[str, str],
    large_jpeg: bytes,
    traced_at_decode: list[int],
    path: str,
    kind: str,
) -> None:
    """At decode time the picture is held, not the text body it came in as well."""
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already runs: this test measures from its own start")
    data_url = _data_url(large_jpeg)
    if kind == "json":
        body, content_type = json.dumps({"image": data_url, "emotion": "happy"}).encode(), "application/json"
    else:
        body, content_type = (
            f"emotion=happy&image={_form_value(data_url)}".encode(),
            "application/x-www-form-urlencoded",
        )
    tracemalloc.start()
    try:
        reply = client.post(path, headers=csrf, data=body, content_type=content_type)
    finally:
        tracemalloc.stop()
    assert reply.status_code == 400 and reply.get_json()["error"]["message"] == "stopped at decode"
    (held,) = traced_at_decode
    # The picture (1.2 MB) and small change; keeping the body (1.6 MB) as well held 2.7 MB.
    assert held < len(large_jpeg) + len(body) // 2, (held, len(large_jpeg), len(body))


def test_a_picture_file_of_json_text_leaves_the_form_fields_alone(
    client: FlaskClient, csrf: dict[str, str], frame_640: bytes
) -> None:
    """The form's ``emotion`` counts, not JSON fields inside the file that holds the picture."""
    inside = json.dumps({"image": _data_url(frame_640), "emotion": "sad"}).encode()
    form = {"image": (io.BytesIO(inside), "frame.json", "application/json"), "emotion": "happy"}
    reply = client.post("/api/calibration", headers=csrf, data=form, content_type="multipart/form-data")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["examples"] == {"happy": 1}
