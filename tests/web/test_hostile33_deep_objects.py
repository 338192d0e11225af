"""A deeply nested JSON object sent for analysis is "nested too deeply", as elsewhere (session 33).

Before: 100 nested ``{"a":`` posted to ``/api/analyze`` or ``/api/calibration`` was the 400 "a JSON
body with a picture must be an object of at most 64 strings", where ``/api/feedback`` answers the
same body "nested too deeply" (session 32 mended this for arrays only).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from moodtape.web import uploads
from moodtape.web.uploads import MAX_MEASURED_ARRAY_BYTES

#: An object nested 100 deep, holding 100 keys: over both the depth bound and the count of strings.
DEEP_OBJECT = '{"a":' * 100 + "1" + "}" * 100


def _message(client: FlaskClient, path: str, body: str | bytes, headers: dict[str, str]) -> tuple[int, str]:
    reply = client.post(path, data=body, headers=headers)
    return reply.status_code, reply.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/api/analyze", "/api/calibration"])
def test_a_deep_object_is_nested_too_deeply_as_on_every_json_endpoint(
    client: FlaskClient, csrf: dict[str, str], path: str
) -> None:
    json_headers = {**csrf, "Content-Type": "application/json"}
    elsewhere = _message(client, "/api/feedback", DEEP_OBJECT, json_headers)
    assert elsewhere[0] == 400 and "nested too deeply" in elsewhere[1]
    assert _message(client, path, DEEP_OBJECT, json_headers) == elsewhere


def test_a_deep_object_in_a_forms_file_is_named_as_such(client: FlaskClient, csrf: dict[str, str]) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.json"\r\n'
        b"Content-Type: application/json\r\n\r\n" + DEEP_OBJECT.encode() + b"\r\n--B--\r\n"
    )
    status, message = _message(
        client, "/api/analyze", body, {**csrf, "Content-Type": "multipart/form-data; boundary=B"}
    )
    assert status == 400 and message.startswith("the JSON in the form's file is nested too deeply"), message


def test_a_shallow_object_without_a_picture_is_still_told_so(client: FlaskClient, csrf: dict[str, str]) -> None:
    """Measuring an object's depth changes nothing for one within the bound."""
    status, message = _message(client, "/api/analyze", '{"a": {"b": 1}}', {**csrf, "Content-Type": "application/json"})
    assert status == 415 and "text with no picture" in message, message


def test_a_bigger_object_is_not_measured(
    client: FlaskClient, csrf: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object over the 64 KiB every other JSON endpoint reads is refused for what it is, its depth
    not measured, as for an array."""

    def measured(text: str, what: str) -> None:
        raise AssertionError(f"{len(text)} characters measured")

    monkeypatch.setattr(uploads, "check_depth", measured)
    body = DEEP_OBJECT + " " * (MAX_MEASURED_ARRAY_BYTES + 1 - len(DEEP_OBJECT))
    status, message = _message(client, "/api/analyze", body, {**csrf, "Content-Type": "application/json"})
    assert status == 400 and "at most 64 strings" in message, message
