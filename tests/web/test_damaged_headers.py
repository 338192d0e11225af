"""A picture whose leading bytes name a format but whose header is damaged is a 422, never a 500.

Before, on a server that had not yet read a HEIC (so Pillow had no HEIF opener), Pillow met the
web's format list ending in HEIF and raised ``KeyError`` instead of giving up: ``GIF89a`` and
some junk, or a JPEG or WebP cut after its first bytes, answered 500 ``internal_error``.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

DAMAGED = {
    "gif": b"GIF89a" + b"x" * 100,
    "short gif": b"GIF87a",
    "jpeg": b"\xff\xd8\xff" + b"x" * 100,
    "webp": b"RIFF\x10\x00\x00\x00WEBP" + b"x" * 100,
}


@pytest.mark.usefixtures("heic_read_by_moodtape_alone")
@pytest.mark.parametrize("path", ["/api/analyze", "/api/analyze?stream=cam", "/api/calibration"])
@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_a_damaged_header_is_named_as_damaged(client: FlaskClient, csrf: dict[str, str], path: str, kind: str) -> None:
    reply = client.post(path, data=DAMAGED[kind], content_type="application/octet-stream", headers=csrf)
    assert reply.status_code == 422, reply.get_json()
    assert reply.get_json()["error"] == {"code": "bad_image", "message": "the picture is damaged and cannot be read"}
