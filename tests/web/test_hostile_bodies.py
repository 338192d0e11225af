"""What a hostile client sends to endpoints that take its values (session 18's probe)."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_an_unknown_on_device_model_name_is_not_echoed(client: FlaskClient) -> None:
    """The 404 quoted the client's name in full: a 3,000-character name came back 3,000 long.

    Session 32: nor cut (it was "'aaa…' (3,000 characters)"): the request's text is not quoted
    back at all, as the server's own refusals never quote it (web/ondevice.py).
    """
    reply = client.get(f"/ondevice/{'a' * 3000}.onnx")
    assert reply.status_code == 404
    message = reply.get_json()["error"]["message"]
    assert "aaaa" not in message and "3,000" not in message and "emotion" in message
