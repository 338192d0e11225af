"""Session 32's hostile clients: answers that agree with the API's description, a refusal before the
body is asked for, no echo of the request's text, and bounded work on a form's delimiter lines."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from raw_http import Target, serving_raw
from werkzeug.sansio.multipart import MultipartDecoder

from moodtape.errors import DataError
from moodtape.web import uploads
from moodtape.web.security import foreign_by_headers
from moodtape.web.uploads import MAX_DELIMITER_PADDING, MAX_MEASURED_ARRAY_BYTES, _next_delimiter

DEEP_ARRAY = "[" * 100 + "]" * 100
PICTURE_ENDPOINTS = ["/api/analyze", "/api/calibration?emotion=happy"]


@pytest.mark.parametrize("path", PICTURE_ENDPOINTS)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_deeply_nested_array_is_the_400_every_json_endpoint_gives(
    client: FlaskClient, csrf: dict[str, str], path: str, content_type: str
) -> None:
    """Before: a 415 "text with no picture in it", where the description (and /api/feedback, the
    history and undo endpoints, for the same body) says 400 "nested too deeply"."""
    reply = client.post(path, data=DEEP_ARRAY, headers={**csrf, "Content-Type": content_type})
    assert reply.status_code == 400
    assert "nested too deeply" in reply.get_json()["error"]["message"]
    other = client.post("/api/feedback", data=DEEP_ARRAY, headers={**csrf, "Content-Type": "application/json"})
    assert other.status_code == 400 and other.get_json()["error"]["message"] == reply.get_json()["error"]["message"]


def test_a_shallow_array_is_still_text_with_no_picture(client: FlaskClient) -> None:
    reply = client.post("/api/analyze", data="[[1]]", content_type="application/json")
    assert reply.status_code == 415 and "no picture" in reply.get_json()["error"]["message"]


def test_a_deep_array_the_size_every_json_endpoint_reads_is_still_measured(client: FlaskClient) -> None:
    body = DEEP_ARRAY + " " * (MAX_MEASURED_ARRAY_BYTES - len(DEEP_ARRAY))
    reply = client.post("/api/analyze", data=body, content_type="application/json")
    assert reply.status_code == 400 and "nested too deeply" in reply.get_json()["error"]["message"]


def test_a_bigger_array_is_text_with_no_picture_unmeasured(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: measured over the whole body (9 MB of ``[``: 0.70 s, up to 0.48 s holding the interpreter).
    Any other JSON endpoint answers a body this big with 413, not "nested too deeply"."""

    def measured(text: str, what: str) -> None:
        raise AssertionError(f"{len(text)} characters measured")

    monkeypatch.setattr(uploads, "check_depth", measured)
    reply = client.post("/api/analyze", data="[" * (MAX_MEASURED_ARRAY_BYTES + 1), content_type="application/json")
    assert reply.status_code == 415 and "no picture" in reply.get_json()["error"]["message"]


def test_a_deep_array_in_a_forms_file_is_named_as_such(client: FlaskClient) -> None:
    """Before: "the JSON body is nested too deeply", of a form whose body is no JSON."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.json"\r\n'
        b"Content-Type: application/json\r\n\r\n" + DEEP_ARRAY.encode() + b"\r\n--B--\r\n"
    )
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=B")
    message = reply.get_json()["error"]["message"]
    assert reply.status_code == 400 and message.startswith("the JSON in the form's file is nested too deeply")


@pytest.mark.parametrize("name", ["%3Cb%3E&amp;", "x" * 40, "emotionX"])
def test_an_unknown_model_name_is_not_quoted_back(client: FlaskClient, name: str) -> None:
    """Before: "no on-device model named '<b>&amp;'" (escaped, cut at 40 characters, but the request's text)."""
    reply = client.get(f"/ondevice/{name}.onnx")
    assert reply.status_code == 404 and reply.mimetype == "application/json"
    message = reply.get_json()["error"]["message"]
    assert "<b>" not in message and "x" * 8 not in message and "emotionX" not in message
    assert "emotion.onnx" in message and "yunet.onnx" in message


@pytest.mark.parametrize("tail", [b"x", b"\r\n"], ids=["then-text", "then-a-line-break"])
def test_a_delimiter_padded_past_a_window_is_refused(tail: bytes) -> None:
    """Before: matched at once over all its padding (9 MB of spaces: 0.3 s in one regular expression call)."""
    decoder = MultipartDecoder(b"BOUND")
    data = b"\r\n--BOUND" + b" " * (MAX_DELIMITER_PADDING + 1) + tail + b"\r\n--BOUND--\r\n"
    with pytest.raises(DataError, match="64 KiB of spaces"):
        _next_delimiter(decoder, data, 0)


def test_a_delimiter_padded_within_a_window_is_still_found() -> None:
    decoder = MultipartDecoder(b"BOUND")
    data = b"abc\r\n--BOUND" + b" " * (MAX_DELIMITER_PADDING - 10) + b"\r\nrest"
    found = _next_delimiter(decoder, data, 0)
    assert found is not None and found.start() == 3 and data[found.end() :] == b"rest"


def test_a_form_with_such_a_delimiter_is_a_400(client: FlaskClient) -> None:
    head = b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
    body = head + b"\r\n--B" + b" " * 200_000 + b"x\r\n--B--\r\n"
    reply = client.post("/api/analyze", data=body, content_type="multipart/form-data; boundary=B")
    assert reply.status_code == 400 and "boundary line" in reply.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "foreign"),
    [
        ({"HOST": "here:8000", "SEC_FETCH_SITE": "cross-site"}, True),
        ({"HOST": "here:8000", "SEC_FETCH_SITE": "same-origin"}, False),
        ({"HOST": "here:8000", "ORIGIN": "https://evil.example"}, True),
        ({"HOST": "here:8000", "ORIGIN": "http://here:8000"}, False),
        ({"HOST": "here:8000", "REFERER": "https://evil.example/page"}, True),
        ({"HOST": "here:8000"}, False),
        # Behind a proxy the app's own origin may be the forwarded one: left to the app.
        ({"HOST": "here:8000", "ORIGIN": "https://moodtape.example", "X_FORWARDED_HOST": "moodtape.example"}, False),
        ({"HOST": "here:8000", "SEC_FETCH_SITE": "same-site", "X_FORWARDED_PROTO": "https"}, True),
        ({"ORIGIN": "https://evil.example"}, False),
        # Host as Werkzeug reads it for the app: the default port dropped, punycode kept, and an
        # invalid Host ("here:") is none, which an unparsable Origin ("null") matches in the app.
        ({"HOST": "here:80", "ORIGIN": "http://here"}, False),
        ({"HOST": "xn--bcher-kva.example", "ORIGIN": "http://xn--bcher-kva.example"}, False),
        ({"HOST": "here:", "ORIGIN": "null"}, False),
        ({"HOST": "here:", "ORIGIN": "http://here"}, True),
        # The scheme alone differs (a TLS proxy not trusted): the app's answer and log name the fix.
        ({"HOST": "here:8000", "ORIGIN": "https://here:8000"}, False),
        ({"HOST": "here:8000", "ORIGIN": "https://here:8000", "SEC_FETCH_SITE": "cross-site"}, False),
    ],
)
def test_what_the_headers_alone_tell_of_another_site(headers: dict[str, str], foreign: bool) -> None:
    assert foreign_by_headers(headers, "http") is foreign


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("here:", "null"),
        ("here:", "http://here"),
        ("here:80", "http://here"),
        ("HERE:8000", "http://here:8000"),
        ("xn--bcher-kva.example", "http://xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "http://b\u00fccher.example"),
        ("[::1]:80", "http://[::1]"),
        ("here", "https://evil.example"),
    ],
)
def test_the_early_check_agrees_with_the_app(client: FlaskClient, host: str, origin: str) -> None:
    """Before: ``Host: here:`` with ``Origin: null`` was refused early (403), while the app, whose
    Werkzeug reads that Host as none, took the request for its own (a 415 for this body)."""
    early = foreign_by_headers({"HOST": host, "ORIGIN": origin}, "http")
    reply = client.post(
        "/api/analyze", data="[1]", content_type="application/json", headers={"Host": host, "Origin": origin}
    )
    assert reply.status_code in (403, 415), reply.get_json()
    assert early is (reply.status_code == 403)


def test_a_scheme_alone_differing_is_left_to_the_app_which_logs_it(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: refused before the body, the app's log naming MOODTAPE_TRUSTED_PROXIES was never written."""
    with serving_raw(app, None) as target:
        answer = _head_after_expect(target, _expecting(b"Origin: https://127.0.0.1\r\n"))
    assert answer.startswith(b"HTTP/1.1 100 Continue")
    with app.test_client() as client:
        reply = client.post(
            "/api/analyze", data="[1]", content_type="application/json", headers={"Origin": "https://localhost"}
        )
    assert reply.status_code == 403 and "https and http differ" in reply.get_json()["error"]["message"]
    assert "MOODTAPE_TRUSTED_PROXIES" in caplog.text


def _head_after_expect(target: Target, request: bytes) -> bytes:
    """What the server sends first to ``request`` (headers asking to continue, no body sent)."""
    with target.connect(10.0) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                break
            data += more
        return data


def _expecting(extra: bytes) -> bytes:
    return (
        b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
        b"Content-Length: 5000000\r\nExpect: 100-continue\r\n" + extra + b"\r\n"
    )


@pytest.mark.parametrize(
    "extra",
    [b"Origin: https://evil.example\r\n", b"Sec-Fetch-Site: cross-site\r\n", b"Referer: https://evil.example/x\r\n"],
    ids=["origin", "sec-fetch-site", "referer"],
)
def test_a_request_from_another_site_is_refused_before_its_body_is_asked_for(app: Flask, extra: bytes) -> None:
    """Before: ``100 Continue`` came first, so the client sent its whole body (5 MB here) to be refused."""
    with serving_raw(app, None) as target:
        answer = _head_after_expect(target, _expecting(extra))
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:80]
    assert b"100 Continue" not in answer


def test_the_refusal_before_the_body_is_the_apps_json_and_closes(app: Flask) -> None:
    with serving_raw(app, None) as target, target.connect(10.0) as sock:
        sock.sendall(_expecting(b"Origin: https://evil.example\r\n"))
        data = b""
        while more := sock.recv(65536):
            data += more
    head, _, body = data.partition(b"\r\n\r\n")
    assert json.loads(body)["error"]["code"] == "csrf_failed" and b"evil" not in body
    assert b"connection: close" in head.lower()


def test_a_request_from_this_site_is_still_asked_to_continue(app: Flask) -> None:
    with serving_raw(app, None) as target:
        answer = _head_after_expect(target, _expecting(b"Origin: http://127.0.0.1\r\n"))
    assert answer.startswith(b"HTTP/1.1 100 Continue")


def test_a_foreign_get_with_a_body_is_left_to_the_app(app: Flask) -> None:
    """A page elsewhere may link to a GET: the app answers it, whatever the headers say."""
    request = _expecting(b"Sec-Fetch-Site: cross-site\r\n").replace(b"POST /api/analyze", b"GET /healthz")
    with serving_raw(app, None) as target:
        answer = _head_after_expect(target, request)
    assert answer.startswith(b"HTTP/1.1 100 Continue")


def test_a_foreign_request_with_two_hosts_is_left_to_the_app(app: Flask) -> None:
    """The app refuses two ``Host`` headers first: the server does not answer for it."""
    request = _expecting(b"Origin: https://evil.example\r\n").replace(b"Host: 127.0.0.1\r\n", b"Host: a\r\nHost: b\r\n")
    with serving_raw(app, None) as target:
        answer = _head_after_expect(target, request)
    assert answer.startswith(b"HTTP/1.1 100 Continue")


def test_a_foreign_request_without_expect_still_gets_the_apps_answer(app: Flask) -> None:
    """Refused early without ``Expect``, a client still sending its body would see its send fail."""
    body = b"\xff\xd8\xff" + b"\0" * 1000
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nConnection: close\r\n"
        b"Origin: https://evil.example\r\nContent-Length: %d\r\n\r\n" % len(body)
    ) + body
    with serving_raw(app, None) as target, target.connect(10.0) as sock:
        sock.sendall(request)
        data = b""
        while more := sock.recv(65536):
            data += more
    assert data.startswith(b"HTTP/1.1 403 ") and b"csrf_failed" in data
