"""Requests from hand-written and unusual clients, over a raw socket to the real server (session 25).

Before: a folded header line was joined to the one before it (a smuggling shape: a proxy in front
may read it otherwise); ``OPTIONS *`` was a 404 and ``CONNECT`` a 400 about its target's scheme;
``GET http://[::1/`` closed the connection without an answer (an uncaught ValueError in the log);
``GET http://host?q`` was redirected to ``/`` without its query; every refusal of the server's own
said the same general sentence; the model files ignored ``Range``. Static files answered a range
before the preconditions (a 206 or 416 where a 304 or 412 was due), a suffix longer than the file
with a 416, and a weak ``If-Range`` with the range; ``OPTIONS *?x`` and ``%2A`` were 404s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from raw_http import Target, first_answer, serving_raw

from moodtape.web.framing_reasons import PREFIX
from moodtape.web.security import HSTS


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


def _answer(port: Target, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of the first answer to ``request``."""
    status, head, body = first_answer(port, request, timeout=5.0)
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _message(body: bytes) -> str:
    message: str = json.loads(body)["error"]["message"]
    return message


@pytest.mark.parametrize(
    "headers",
    [
        b"Host: x\r\nX-Note: a\r\n b\r\n",  # folded with a space
        b"Host: x\r\nX-Note: a\r\n\tb\r\n",  # with a tab
        b"Host: x\r\nContent-Length: 0\r\n 5\r\n",  # the smuggling shape: which length is it?
        b" Host: x\r\n",  # whitespace before the first header (RFC 9112 section 2.2)
    ],
)
def test_a_folded_header_line_is_refused_and_nothing_after_it_is_read(port: Target, headers: bytes) -> None:
    request = b"GET /healthz HTTP/1.1\r\n" + headers + b"\r\n" + b"GET /api/config HTTP/1.1\r\nHost: x\r\n\r\n"
    with port.connect(5.0) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"Content-Length:") == 1, answer[:300]  # the pipelined request was not answered
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b" 400 " in head.split(b"\r\n")[0] and b"Connection: close" in head
    assert "folding" in _message(body) and "one line" in _message(body)


def test_a_header_value_with_spaces_inside_is_not_taken_for_folding(port: Target) -> None:
    status, _, _ = _answer(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a b\t c\r\nConnection: close\r\n\r\n"
    )
    assert status == 200


@pytest.mark.parametrize(
    "request_line", [b"OPTIONS * HTTP/1.1", b"OPTIONS http://127.0.0.1 HTTP/1.1", b"OPTIONS * HTTP/1.0"]
)
def test_options_star_says_what_the_server_takes_and_keeps_the_connection(port: Target, request_line: bytes) -> None:
    with port.connect(5.0) as sock:
        sock.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        head, _, rest = first.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0], head
        allow = next(line for line in head.split(b"\r\n") if line.lower().startswith(b"allow:"))
        assert {b"GET", b"HEAD", b"POST", b"DELETE", b"OPTIONS"} <= {m.strip() for m in allow[6:].split(b",")}
        assert b"Content-Length: 0" in head and rest == b""
        assert b"X-Content-Type-Options: nosniff" in head
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        second = b""
        while chunk := sock.recv(65536):
            second += chunk
    assert second.startswith(b"HTTP/1.1 200 ")


def test_options_star_in_http_1_1_still_needs_a_host(port: Target) -> None:
    status, _, body = _answer(port, b"OPTIONS * HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 400 and "Host" in _message(body)


@pytest.mark.parametrize("method", [b"GET", b"POST", b"DELETE"])  # HEAD's refusal has no body: test_http27_*
def test_the_star_target_is_for_options_only(port: Target, method: bytes) -> None:
    status, headers, body = _answer(port, method + b" * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert status == 400 and headers["connection"] == "close"
    assert "OPTIONS only" in _message(body)


@pytest.mark.parametrize("target", [b"example.org:443", b"[::1]:443", b"127.0.0.1:80"])
def test_connect_is_not_implemented_and_the_tunnel_never_opens(port: Target, target: bytes) -> None:
    request = (
        b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    with port.connect(5.0) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501 ") and b"Connection: close" in head
    assert "not a proxy" in _message(body) and answer.count(b"Content-Length:") == 1


@pytest.mark.parametrize("target", [b"http://[::1/healthz", b"http://[zz]/healthz", b"https://[1.2.3]/"])
def test_a_bracketed_host_that_is_no_address_gets_a_400_not_a_dropped_connection(port: Target, target: bytes) -> None:
    status, headers, body = _answer(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert "not a valid URI" in _message(body)


def test_an_absolute_target_without_a_path_is_the_root_with_its_query(port: Target) -> None:
    status, headers, _ = _answer(
        port, b"GET http://127.0.0.1?source=probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200 and headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("request_bytes", "says"),
    [
        (b"get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "case-sensitive"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note : a\r\n\r\n", "no space before the colon"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n", "control characters"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX(Note): a\r\n\r\n", "a name of letters"),
        (b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}", "Content-Length must be"),
        (b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}", "Content-Length must be"),
        (b"GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "one space between each part"),
        (
            b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
            "hexadecimal digits only",
        ),
        (
            b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n",
            "as long as its size says",
        ),
        (
            b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 5\r\n\r\n0\r\n\r\n",
            "not both",
        ),
        (b"GET /healthz HTTP/1.1\r\nHost: x\nAccept: */*\n\n", "bare LF"),
    ],
)
def test_a_refusal_says_what_was_wrong(port: Target, request_bytes: bytes, says: str) -> None:
    """Every one of these said "the request is not valid HTTP/1.1 (its request line, a header, or
    the body's framing ...)", leaving the client's author to guess which."""
    status, headers, body = _answer(port, request_bytes)
    assert status == 400 and headers["connection"] == "close"
    message = _message(body)
    assert message.startswith(PREFIX) and says in message, message


def test_a_refusal_never_echoes_what_the_client_sent(port: Target) -> None:
    """waitress's own texts hold the line it refused (``Malformed HTTP method "get"``); not one of
    its words reaches the answer."""
    for request_bytes in (
        b"get-SECRETWORD /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-SECRETWORD: a\rb\r\n\r\n",
    ):
        status, _, body = _answer(port, request_bytes)
        assert status == 400 and b"SECRETWORD" not in body.upper() and _message(body).startswith(PREFIX)


def _model(client: FlaskClient) -> tuple[bytes, str]:
    whole = client.get("/ondevice/yunet.onnx")
    return whole.get_data(), whole.headers["ETag"]


def test_a_model_file_answers_a_byte_range(client: FlaskClient) -> None:
    """``Range`` was ignored: a download of the 3.6 MB model that broke off began again at byte 0."""
    data, etag = _model(client)
    part = client.get("/ondevice/yunet.onnx", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.get_data() == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["ETag"] == etag and part.headers["Cache-Control"] == "no-cache"
    assert part.headers["Accept-Ranges"] == "bytes"
    tail = client.get("/ondevice/yunet.onnx", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.get_data() == data[-10:]
    resumed = client.get("/ondevice/yunet.onnx", headers={"Range": f"bytes={len(data) - 5}-"})
    assert resumed.status_code == 206 and resumed.get_data() == data[-5:]


def test_a_model_range_past_the_end_is_416_and_if_range_guards_the_version(client: FlaskClient) -> None:
    data, etag = _model(client)
    beyond = client.get("/ondevice/yunet.onnx", headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    same = client.get("/ondevice/yunet.onnx", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.get_data() == data[:10]
    other = client.get("/ondevice/yunet.onnx", headers={"Range": "bytes=0-9", "If-Range": '"an-older-model"'})
    assert other.status_code == 200 and other.get_data() == data
    several = client.get("/ondevice/yunet.onnx", headers={"Range": "bytes=0-9,20-29"})
    assert several.status_code == 200 and several.get_data() == data


def test_a_model_range_with_its_current_digest_stays_immutable(client: FlaskClient) -> None:
    current = client.get("/api/ondevice").get_json()["models"]["yunet"]
    part = client.get(current, headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and "immutable" in part.headers["Cache-Control"]
    revalidated = client.get(current, headers={"Range": "bytes=0-3", "If-None-Match": part.headers["ETag"]})
    assert revalidated.status_code == 304


def test_a_model_range_over_the_real_server(port: Target) -> None:
    status, headers, body = _answer(
        port, b"GET /ondevice/yunet.onnx HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n"
    )
    assert status == 206 and len(body) == 10 and headers["content-range"].startswith("bytes 0-9/")


@pytest.mark.parametrize("path", ["/ondevice/yunet.onnx", "/static/style.css"])
def test_a_range_revalidating_a_current_copy_is_304_not_206(client: FlaskClient, path: str) -> None:
    """RFC 9110 section 13.2.2 evaluates If-None-Match before Range; a cache revalidating its copy
    with a range got the bytes again (206) from both the model files and the static files."""
    etag = client.get(path, headers={"Accept-Encoding": "identity"}).headers["ETag"]
    asked = {"Range": "bytes=0-9", "If-None-Match": etag, "Accept-Encoding": "identity"}
    current = client.get(path, headers=asked)
    assert current.status_code == 304 and current.get_data() == b"" and current.headers["ETag"] == etag
    stale = client.get(path, headers={**asked, "If-None-Match": '"an-older-copy"'})
    assert stale.status_code == 206 and len(stale.get_data()) == 10


def test_a_static_range_revalidating_the_gzipped_copy_is_304(client: FlaskClient) -> None:
    gzipped = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    asked = {"Range": "bytes=0-9", "If-None-Match": gzipped, "Accept-Encoding": "gzip"}
    again = client.get("/static/style.css", headers=asked)
    assert again.status_code == 304 and again.headers["ETag"] == gzipped


@pytest.mark.parametrize("target", [b"/\x00", b"/healthz\x01", b"/\x1b[2J", b"/\x7f", b"/a\tb"])
def test_a_control_character_in_the_target_is_refused_not_routed(port: Target, target: bytes) -> None:
    """waitress takes any byte but a space in a target: these were routed as paths (404s)."""
    status, headers, body = _answer(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400 and headers["connection"] == "close"
    assert "control character" in _message(body)


def test_a_percent_encoded_control_character_is_still_just_a_path(port: Target) -> None:
    status, _, body = _answer(port, b"GET /health%00z HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"


#: A model file, a static file, and one under a versioned URL (an old digest still gets today's file).
RANGED_FILES = ["/ondevice/yunet.onnx", "/static/style.css", "/static/v/0/style.css"]
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize("path", RANGED_FILES)
def test_a_suffix_longer_than_the_file_is_the_whole_file(client: FlaskClient, path: str) -> None:
    """RFC 9110 section 14.1.3: a suffix longer than the file selects all of it. Werkzeug called it
    unsatisfiable (416), so a client asking for "the last 100 MB" of a 3.6 MB model got nothing."""
    whole = client.get(path, headers=IDENTITY).get_data()
    for suffix in (len(whole) + 1, 99_999_999):
        part = client.get(path, headers={**IDENTITY, "Range": f"bytes=-{suffix}"})
        assert part.status_code == 206 and part.get_data() == whole
        assert part.headers["Content-Range"] == f"bytes 0-{len(whole) - 1}/{len(whole)}"
    beyond = client.get(path, headers={**IDENTITY, "Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416  # a range that begins past the end still is


@pytest.mark.parametrize("path", RANGED_FILES)
def test_a_range_past_the_end_revalidating_a_current_copy_is_304_not_416(client: FlaskClient, path: str) -> None:
    """The preconditions come before the range (RFC 9110 section 13.2.2), a range that cannot be
    satisfied included: it was a 416 for static files, the 304 never reached."""
    etag = client.get(path, headers=IDENTITY).headers["ETag"]
    current = client.get(path, headers={**IDENTITY, "Range": "bytes=99999999-", "If-None-Match": etag})
    assert current.status_code == 304 and current.headers["ETag"] == etag


def test_a_range_past_the_end_revalidating_the_gzipped_copy_is_304(client: FlaskClient) -> None:
    gzipped = client.get("/static/style.css", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    asked = {"Range": "bytes=99999999-", "If-None-Match": gzipped, "Accept-Encoding": "gzip"}
    again = client.get("/static/style.css", headers=asked)
    assert again.status_code == 304 and again.headers["ETag"] == gzipped


@pytest.mark.parametrize("path", RANGED_FILES[1:])
def test_if_modified_since_with_a_range_of_an_unchanged_file_is_304(client: FlaskClient, path: str) -> None:
    """It was a 206 of the bytes again: Werkzeug answered the range before If-Modified-Since."""
    modified = client.get(path, headers=IDENTITY).headers["Last-Modified"]
    asked = {**IDENTITY, "Range": "bytes=0-9"}
    assert client.get(path, headers={**asked, "If-Modified-Since": modified}).status_code == 304
    older = client.get(path, headers={**asked, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:01 GMT"})
    assert older.status_code == 206 and len(older.get_data()) == 10


@pytest.mark.parametrize("path", RANGED_FILES)
def test_a_weak_if_range_gets_the_whole_file(client: FlaskClient, path: str) -> None:
    """RFC 9110 section 13.1.5 compares If-Range strongly, so a weak tag never matches: the whole
    file (200), not a 206 that might splice two versions. Werkzeug matched it."""
    whole = client.get(path, headers=IDENTITY)
    etag = whole.headers["ETag"]
    weak = client.get(path, headers={**IDENTITY, "Range": "bytes=0-9", "If-Range": f"W/{etag}"})
    assert weak.status_code == 200 and weak.get_data() == whole.get_data()
    strong = client.get(path, headers={**IDENTITY, "Range": "bytes=0-9", "If-Range": etag})
    assert strong.status_code == 206 and strong.get_data() == whole.get_data()[:10]


@pytest.mark.parametrize("digits", [19, 4301, 5000])
def test_a_content_length_too_long_to_be_a_length_is_413(port: Target, digits: int) -> None:
    """Past 4,300 digits waitress's int() raised ValueError, answered as "the request target is not
    a valid URI (a host in [ ] ...)"; 19 digits to 4,300 were a 413 already."""
    request = b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * digits + b"\r\n\r\n"
    status, headers, body = _answer(port, request)
    assert status == 413 and headers["connection"] == "close"
    assert "URI" not in _message(body)


def test_an_eighteen_digit_content_length_is_read_as_a_length(port: Target) -> None:
    status, _, body = _answer(
        port, b"POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 000000000000000002\r\n\r\n{}"
    )
    assert status != 413 and b"Content-Length" not in body


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET *?x HTTP/1.1",
        b"OPTIONS *?x HTTP/1.1",
        b"OPTIONS %2A HTTP/1.1",
        b"GET %2a HTTP/1.1",
        b"OPTIONS *x HTTP/1.1",
    ],
)
def test_only_the_bare_star_is_server_wide(port: Target, request_line: bytes) -> None:
    """``GET *?x`` was a 404, ``OPTIONS *?x`` and ``OPTIONS %2A`` the server-wide 200."""
    status, headers, body = _answer(port, request_line + b"\r\nHost: x\r\n\r\n")
    assert status == 400 and headers["connection"] == "close" and "allow" not in headers
    assert "stands alone" in _message(body)


def test_options_of_an_absolute_target_with_a_query_is_the_root_not_the_server(port: Target) -> None:
    """RFC 9112 section 3.2.4 makes it ``*`` only with no path and no query: ``OPTIONS http://host?q=1``
    was the server-wide answer, its query dropped; now it is ``OPTIONS /?q=1``, as the app answers it."""
    server_wide = _answer(port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with_query = _answer(port, b"OPTIONS http://127.0.0.1?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    root = _answer(port, b"OPTIONS /?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert with_query[0] == root[0] and with_query[1]["allow"] == root[1]["allow"]
    assert with_query[1]["allow"] != server_wide[1]["allow"] and "x-request-id" in with_query[1]


@pytest.mark.parametrize(
    ("request_line", "version"),
    [
        (b"GET /healthz HTTP/1.1", b"HTTP/1.1"),
        (b"GET /healthz HTTP/1.2", b"HTTP/1.1"),
        (b"GET /healthz HTTP/1.0", b"HTTP/1.0"),
    ],
)
@pytest.mark.parametrize("fault", ["fold", "control"])
def test_a_refusal_before_the_request_line_is_read_answers_in_its_version(
    port: Target, request_line: bytes, version: bytes, fault: str
) -> None:
    """A folded header or a control byte in an HTTP/1.1 request got an ``HTTP/1.0 400`` status line."""
    if fault == "fold":
        request = request_line + b"\r\nHost: x\r\nX-Note: a\r\n b\r\n\r\n"
    else:
        request = request_line.replace(b"/healthz", b"/health\x01z") + b"\r\nHost: x\r\n\r\n"
    with port.connect(5.0) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(version + b" 400 "), answer[:40]


def test_options_star_over_https_sends_hsts(app: Flask, tls_files: tuple[Path, Path]) -> None:
    """Flask's answers over HTTPS carry ``Strict-Transport-Security``; ``OPTIONS *``, answered before
    the app, had none."""
    with serving_raw(app, tls_files) as secure:
        status, headers, _ = _answer(secure, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status == 200 and headers["strict-transport-security"] == HSTS
        page = _answer(secure, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert page[1]["strict-transport-security"] == HSTS
    with serving_raw(app, None) as plain:
        assert "strict-transport-security" not in _answer(plain, b"OPTIONS * HTTP/1.0\r\n\r\n")[1]


@pytest.mark.parametrize("path", RANGED_FILES)
def test_a_failed_if_match_with_a_range_is_412_not_206(client: FlaskClient, path: str) -> None:
    """Werkzeug answered the range and skipped If-Match: the bytes of a file the client said it did
    not mean (206). RFC 9110 section 13.2.2 evaluates If-Match first."""
    asked = {**IDENTITY, "Range": "bytes=0-9"}
    assert client.get(path, headers={**asked, "If-Match": '"another-version"'}).status_code == 412
    etag = client.get(path, headers=IDENTITY).headers["ETag"]
    assert client.get(path, headers={**asked, "If-Match": etag}).status_code == 206
