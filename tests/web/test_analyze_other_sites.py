"""A picture posted to /api/analyze by a page on another site is refused (session 27).

/api/analyze takes no CSRF token, as programs call it without a page. But a page elsewhere can make
a visitor's browser post a form there (a simple request, no CORS preflight): before, such a post
was analysed (200), and with ``stream`` fed a frame into the visitor's stream whenever the cookie
went along. The browser says where a request came from (``Origin``, ``Referer``,
``Sec-Fetch-Site``); a program sends none of these and is not affected.
"""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost"},
]


@pytest.mark.parametrize("headers", FOREIGN)
def test_a_post_from_another_site_is_refused_before_any_work(
    client: FlaskClient, frame_640: bytes, headers: dict[str, str]
) -> None:
    for path in ("/api/analyze", "/api/analyze?stream=cam1"):
        reply = client.post(path, data={"image": (io.BytesIO(frame_640), "a.jpg")}, headers=headers)
        assert reply.status_code == 403, (path, headers)
        assert reply.json is not None and reply.json["error"]["code"] == "csrf_failed"
        assert "another site" in reply.json["error"]["message"]


def test_the_page_and_programs_are_answered(client: FlaskClient, frame_640: bytes) -> None:
    """The page's own requests (same origin) and a program's (no such header) go through."""
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin", "Referer": "http://localhost/"}
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg", headers=own).status_code == 200
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg").status_code == 200
    typed = {"Sec-Fetch-Site": "none"}
    assert client.post("/api/analyze", data=frame_640, content_type="image/jpeg", headers=typed).status_code == 200
