"""A JPEG padded between its markers gets a 422 that says so, before the large-picture gate reads
its header (session 37: a 9.9 MB padded 64-pixel JPEG held a request thread for 40 s, then 200)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from PIL import Image


@pytest.mark.parametrize("as_form", [False, True], ids=["body", "form"])
def test_a_padded_jpeg_is_a_422_before_its_header_is_read(
    client: FlaskClient, csrf: dict[str, str], monkeypatch: pytest.MonkeyPatch, as_form: bool
) -> None:
    headers_read: list[int] = []
    monkeypatch.setattr(
        "moodtape.web.uploads.declared_pixels", lambda data, formats=None: headers_read.append(len(data)) or 0
    )
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 128).save(buffer, format="JPEG")
    plain = buffer.getvalue()
    padded = plain[:2] + b"\xff" * 1_000_000 + plain[2:]
    for path in ("/api/analyze", "/api/calibration"):
        if as_form:
            reply = client.post(path, data={"image": (io.BytesIO(padded), "a.jpg")}, headers=csrf)
        else:
            reply = client.post(path, data=padded, content_type="image/jpeg", headers=csrf)
        assert reply.status_code == 422, reply.get_json()
        assert reply.get_json()["error"]["code"] == "bad_image"
        assert "padding or stray data between its markers" in reply.get_json()["error"]["message"]
    assert headers_read == []
    assert client.post("/api/analyze", data=plain, content_type="image/jpeg").status_code == 200
    assert headers_read == [len(plain)]
