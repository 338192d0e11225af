"""Requests as clients written elsewhere send them: the stream in the body, a picture in a form part
without a file name, JSON in UTF-16 or UTF-32, JSON posted as curl -d posts it.

Before: ``{"image": "…", "stream": "cam1"}`` was analysed alone and answered ``stream: null``;
``curl -F 'file=<me.jpg'`` got "send the picture in a form field named 'image'" (and ``image=<me.jpg``
"holds text, not a file") for a picture it had sent; UTF-16 JSON was a 415 "text with no picture"
on ``/api/analyze`` and a 400 "must be UTF-8" elsewhere; UTF-8 JSON with a byte order mark was "not
valid JSON"; ``curl -d @body.json`` (typed as a URL-encoded form) was told to send a form.
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import re
import sys
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from werkzeug.sansio.multipart import MultipartDecoder

from moodtape.web import uploads


def _data_url(picture: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(picture).decode("ascii")


def _stream_bodies(picture: bytes, stream: str) -> dict[str, dict[str, Any]]:
    """The test client's arguments for ``picture`` with ``stream`` beside it, three ways."""
    return {
        "json": {"json": {"image": _data_url(picture), "stream": stream}},
        "multipart": {
            "data": {"stream": stream, "image": (io.BytesIO(picture), "me.jpg", "image/jpeg")},
            "content_type": "multipart/form-data",
        },
        "urlencoded": {"data": {"stream": stream, "image": _data_url(picture)}},
    }


@pytest.mark.parametrize("kind", ["json", "multipart", "urlencoded"])
def test_a_stream_in_the_body_is_the_stream_analysed(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, kind: str
) -> None:
    reply = client.post("/api/analyze", **_stream_bodies(astronaut_jpeg_bytes, "cam-1")[kind])
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["stream"] == "cam-1"
    again = client.post("/api/analyze?stream=cam-1", **_stream_bodies(astronaut_jpeg_bytes, "cam-1")[kind])
    assert again.status_code == 200 and again.get_json()["stream"] == "cam-1"  # said twice, the same


def test_a_stream_given_two_ways_that_disagree_is_refused(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    reply = client.post("/api/analyze?stream=cam-1", **_stream_bodies(astronaut_jpeg_bytes, "cam-2")["json"])
    assert reply.status_code == 400
    assert "stream is 'cam-1' in the query and 'cam-2' in the body" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("stream", "words"),
    [("a b", "stream must be 1–64 letters"), ("", "stream is empty"), (["cam"], "'stream' must be a string")],
)
def test_a_wrong_stream_in_the_body_is_refused_before_the_picture_is_decoded(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, stream: Any, words: str
) -> None:
    damaged = astronaut_jpeg_bytes[:200]  # decoding it would be a 422
    reply = client.post("/api/analyze", json={"image": _data_url(damaged), "stream": stream})
    assert reply.status_code == 400 and words in reply.get_json()["error"]["message"]


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "b0undary") -> bytes:
    """A form whose parts have only ``name=`` (no ``filename=``), as ``curl -F 'name=<file'`` sends them."""
    body = b""
    for name, content in parts:
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("field", ["image", "file", "photo", "upload"])
def test_a_picture_in_a_part_without_a_file_name_is_read(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, field: str
) -> None:
    body = _multipart([(field, astronaut_jpeg_bytes)])
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 200, reply.get_json()
    assert [face["emotion"] for face in reply.get_json()["faces"]] == ["happy"]


def test_a_picture_part_without_a_file_name_beside_a_stream_field(
    client: FlaskClient, astronaut_jpeg_bytes: bytes
) -> None:
    body = _multipart([("stream", b"cam-1"), ("file", astronaut_jpeg_bytes)])
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["stream"] == "cam-1" and len(reply.get_json()["faces"]) == 1


def test_a_part_without_a_file_name_that_is_no_picture_is_named(client: FlaskClient) -> None:
    body = _multipart([("file", b"BM\x00\x01\x02\x03 a bitmap")])
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 415
    assert "the form field 'file' holds a file that is not a JPEG" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig"])
def test_json_in_utf16_or_utf32_or_with_a_byte_order_mark_is_read(
    client: FlaskClient, csrf: dict[str, str], astronaut_jpeg_bytes: bytes, encoding: str
) -> None:
    content_type = f"application/json; charset={encoding.removesuffix('-sig')}"
    body = json.dumps({"image": _data_url(astronaut_jpeg_bytes), "stream": "cam-1"}).encode(encoding)
    reply = client.post("/api/analyze", data=body, content_type=content_type)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["stream"] == "cam-1" and len(reply.get_json()["faces"]) == 1
    consent = json.dumps({"history": False}).encode(encoding)
    answer = client.put("/api/history/consent", data=consent, content_type=content_type, headers=csrf)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["history"] is False


def test_json_in_another_encoding_is_told_to_be_utf8(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = '{"history": false, "note": "café"}'.encode("latin-1")
    reply = client.put("/api/history/consent", data=body, content_type="application/json", headers=csrf)
    assert reply.status_code == 400
    assert "send JSON as UTF-8" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_json_sent_as_curl_d_sends_it_is_read(client: FlaskClient, astronaut_jpeg_bytes: bytes, encoding: str) -> None:
    """``curl -d @body.json`` types it ``application/x-www-form-urlencoded``."""
    body = json.dumps({"image": _data_url(astronaut_jpeg_bytes), "stream": "cam-1"}).encode(encoding)
    reply = client.post("/api/analyze", data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["stream"] == "cam-1"


def test_a_text_part_in_its_own_charset_is_read_as_that_text(client: FlaskClient, astronaut_jpeg_bytes: bytes) -> None:
    """A part that says ``charset=utf-16`` holds base64 in UTF-16: its bytes are no picture, its text is."""
    text = _data_url(astronaut_jpeg_bytes).encode("utf-16")
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="image"\r\n'
        b"Content-Type: text/plain; charset=utf-16\r\n\r\n" + text + b"\r\n--b0undary--\r\n"
    )
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 200, reply.get_json()
    assert len(reply.get_json()["faces"]) == 1


@pytest.mark.parametrize("kind", ["mixed", "related"])
def test_a_multipart_body_that_is_no_form_is_named(client: FlaskClient, astronaut_jpeg_bytes: bytes, kind: str) -> None:
    """It was read as the picture's own bytes: "that file is not a JPEG, PNG…", of a body that held one."""
    body = _multipart([("image", astronaut_jpeg_bytes)])
    reply = client.post("/api/analyze", data=body, content_type=f"multipart/{kind}; boundary=b0undary")
    assert reply.status_code == 415
    assert reply.get_json()["error"] == {
        "code": "unsupported_media_type",
        "message": f"a 'multipart/{kind}' body is not read: send the picture in a multipart/form-data form "
        "(a file field named 'image'), or as the body itself",
    }


def test_a_data_url_in_a_text_field_is_read_from_its_text(
    client: FlaskClient, astronaut_jpeg_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A canvas's ``toDataURL()`` in a ``FormData`` is text Werkzeug decoded whole: the body was
    parsed a second time for it all the same (0.05 s → 0.17 s for 10 MiB)."""

    def read_again(*_: object) -> None:
        raise AssertionError("the body was parsed again for text that lost nothing")

    monkeypatch.setattr(uploads, "_raw_field", read_again)
    body = _multipart([("image", _data_url(astronaut_jpeg_bytes).encode("ascii"))])
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 200, reply.get_json()
    assert len(reply.get_json()["faces"]) == 1


class _ScanRecord:
    """A compiled pattern that records how many bytes each ``search`` or ``match`` went over."""

    def __init__(self, pattern: re.Pattern[bytes], scanned: list[int]) -> None:
        self.pattern, self.scanned = pattern, scanned

    def search(self, data: bytes, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[bytes] | None:
        found = self.pattern.search(data, pos, endpos)
        self.scanned.append((found.end() if found else min(endpos, len(data))) - pos)
        return found

    def match(self, data: bytes, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[bytes] | None:
        found = self.pattern.match(data, pos, endpos)
        self.scanned.append(found.end() - pos if found else 0)
        return found


def test_a_part_of_line_breaks_is_searched_for_its_boundary_a_chunk_at_a_time(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boundary pattern was run over the whole body, tried at every line break: a 10 MiB part
    of CR LFs took 0.3 s for the part-header check and 0.3 s more to read the part again (0.9 s
    under load), linear but about 30 s at a 1 GiB upload limit."""
    scanned: list[int] = []

    class Recording(MultipartDecoder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.boundary_re = _ScanRecord(self.boundary_re, scanned)  # type: ignore[assignment]
            self.preamble_re = _ScanRecord(self.preamble_re, scanned)  # type: ignore[assignment]

    monkeypatch.setattr(uploads, "MultipartDecoder", Recording)
    body = _multipart([("image", b"\xff" + b"\r\n" * (2 * 1024 * 1024))])  # no text: read again from the body
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 415, reply.get_json()
    assert "the form field 'image' holds a file that is not" in reply.get_json()["error"]["message"]
    assert scanned and max(scanned) <= 2 * uploads.RAW_FIELD_CHUNK, max(scanned)


def test_a_form_of_long_field_names_is_answered_in_a_short_message(client: FlaskClient) -> None:
    """Every name was echoed whole: twelve 3,000-character names made a message of 24 KB."""
    body = _multipart([(letter * 3000, b"x") for letter in "abcdefghijkl"])
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=b0undary")
    assert reply.status_code == 400
    message = reply.get_json()["error"]["message"]
    assert len(message) < 1000, len(message)
    assert "the form holds only text fields ('aaaaaaaa" in message and "(3,000 characters)" in message
    assert message.endswith(" and 4 more)")


@pytest.mark.parametrize(
    "body",
    [
        '{"image": "AAAA"}'.encode("utf-16") + b"\x00",  # UTF-16 of an odd length
        codecs.BOM_UTF32_LE + "{".encode("utf-32-le") + b"\x00\x00\x11\x00",  # past U+10FFFF
    ],
    ids=["utf16-odd-length", "utf32-no-code-point"],
)
def test_broken_utf16_or_utf32_json_is_told_to_be_utf8_as_elsewhere(
    client: FlaskClient, csrf: dict[str, str], body: bytes
) -> None:
    """``/api/analyze`` said 415 "text with no picture in it", the other JSON endpoints a 400."""
    reply = client.post("/api/analyze", data=body, content_type="application/json")
    assert reply.status_code == 400, reply.get_json()
    assert "send JSON as UTF-8" in reply.get_json()["error"]["message"]
    elsewhere = client.put("/api/history/consent", data=body, content_type="application/json", headers=csrf)
    assert elsewhere.status_code == 400
    assert elsewhere.get_json()["error"]["message"] == reply.get_json()["error"]["message"]


def test_the_415_for_a_multipart_body_that_is_no_form_is_described(client: FlaskClient) -> None:
    """Its code was not in the description /api/analyze and /api/calibration point their 415 at."""
    spec = yaml.safe_load(client.get("/api/openapi.yaml").get_data())
    for path in ("/api/analyze", "/api/calibration"):
        assert spec["paths"][path]["post"]["responses"]["415"] == {"$ref": "#/components/responses/UnsupportedType"}
    described = spec["components"]["responses"]["UnsupportedType"]["description"]
    assert "unsupported_media_type" in described and "multipart/mixed" in described
