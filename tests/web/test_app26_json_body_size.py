"""A JSON body over the API's 64 KiB is a 413 (too large), told apart from a malformed body (400)."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from webtools import csrf_headers

PADDED = b'{"pad": "' + b"x" * (65 * 1024) + b'"}'


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/feedback"),
        ("PUT", "/api/history/consent"),
        ("DELETE", "/api/history"),
        ("POST", "/api/lists/{list_id}/undo"),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_a_json_body_over_64_kib_is_413_with_its_limit(
    client: FlaskClient, method: str, path: str, chunked: bool
) -> None:
    headers = {**csrf_headers(client), "Content-Type": "application/json"}
    list_id = client.post("/api/lists?emotion=sad&n=4", headers=headers).get_json()["list_id"]
    url = path.format(list_id=list_id)
    if chunked:  # without Content-Length, as a chunked body comes: the size is known once it is read
        reply = client.open(
            url,
            method=method,
            input_stream=io.BytesIO(PADDED),
            headers=headers,
            environ_overrides={"wsgi.input_terminated": True},
        )
    else:
        reply = client.open(url, method=method, data=PADDED, headers=headers)
    assert reply.status_code == 413
    assert reply.get_json()["error"] == {"code": "too_large", "message": "the JSON body is too large (at most 64 KiB)"}
