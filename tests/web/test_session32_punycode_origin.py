"""A site on an internationalised domain name: the browser's ``Origin`` names it in punycode.

Before (session 32): the CSRF checks compared ``Origin`` with Flask's ``request.host_url``, an IRI
that turns ``xn--bcher-kva.example`` into ``bücher.example``, so every change the page sent from
such a host was refused as another site's (403 ``csrf_failed``).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

HOST = "xn--bcher-kva.example"  # bücher.example, as the browser sends it (RFC 6454 §6.1)
BASE = f"http://{HOST}"


def _token(client: FlaskClient) -> str:
    token = client.get("/api/config", base_url=BASE).get_json()["csrf_token"]
    assert isinstance(token, str)
    return token


def test_a_change_from_the_page_on_a_punycode_host_is_not_refused(client: FlaskClient) -> None:
    """Checked by ``require_csrf``: the body is refused for itself (400), not as another site's."""
    headers = {"X-CSRF-Token": _token(client), "Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    reply = client.post("/api/feedback", json={}, headers=headers, base_url=BASE)
    assert reply.get_json()["error"]["code"] != "csrf_failed", reply.get_json()
    assert reply.status_code == 400


@pytest.mark.parametrize("header", ["Origin", "Referer"])
def test_a_picture_from_the_page_on_a_punycode_host_is_not_refused(client: FlaskClient, header: str) -> None:
    """Checked by ``refuse_other_sites``: a shallow array is the 415 for text with no picture."""
    value = BASE if header == "Origin" else f"{BASE}/"
    reply = client.post(
        "/api/analyze", data="[1]", content_type="application/json", headers={header: value}, base_url=BASE
    )
    assert reply.status_code == 415, reply.get_json()


def test_another_site_is_still_refused_on_a_punycode_host(client: FlaskClient) -> None:
    headers = {"X-CSRF-Token": _token(client), "Origin": "http://xn--bcher-kva.example.evil"}
    reply = client.post("/api/feedback", json={}, headers=headers, base_url=BASE)
    assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "csrf_failed"
