"""Hostile and unusual clients at the HTTP server layer, over raw sockets to the real server (session 26).

Before: a chunk extension with whitespace before ``;`` (RFC 9112 §7.1.1 allows it) was a 400; an
8 MB request target a 431 "headers too large" where the address is at fault (414); ``OPTIONS *``
had no ``X-Request-ID`` and no count in the request metrics; ``Range: bytes=-0`` sent the whole
file where RFC 9110 §14.1.1 calls a zero suffix unsatisfiable (416); HTTP/0.9's ``GET /`` got no
answer until the idle timeout (a minute), waiting for headers that never come; an ``Expect`` other
than ``100-continue`` was ignored and the request run (417 now, as gunicorn's own workers answer it).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from raw_http import Target, first_answer, parsed_by_server, serving_raw
from waitress.adjustments import Adjustments
from webtools import AppFactory

from moodtape.web.buffered_server import MAX_HEADER_BYTES, MAX_HEADER_FIELDS, _DrainingParser

#: A model file, a static file, and one under a versioned URL.
RANGED_FILES = ["/ondevice/yunet.onnx", "/static/style.css", "/static/v/0/style.css"]
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


def _answer(port: Target, request: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of the first answer to ``request``."""
    status, head, body = first_answer(port, request, timeout=timeout)
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _code(body: bytes) -> str:
    code: str = json.loads(body)["error"]["code"]
    return code


CHUNKED_POST = (
    b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize(
    "size_line",
    [b"5 ;name=value", b"5\t;name", b"5 ; name = value", b'5 ;a="x; y" ;b', b"5;name=value"],
    ids=["space", "tab", "around-equals", "quoted-and-two", "no-space"],
)
@pytest.mark.parametrize("piece", [0, 1], ids=["whole", "byte-by-byte"])
def test_a_chunk_extension_with_whitespace_is_read(size_line: bytes, piece: int) -> None:
    """RFC 9112 §7.1.1 puts BWS before ``;`` and around ``=``; waitress refused it ("invalid chunk size")."""
    parser = parsed_by_server(CHUNKED_POST + size_line + b"\r\nhello\r\n6 ;x\r\n world\r\n0 ;last\r\n\r\n", piece)
    assert parser.completed and parser.error is None
    assert parser.get_body_stream().read() == b"hello world"


@pytest.mark.parametrize(
    "size_line",
    [b"5 ", b"5 ;", b"5;", b"5 ;a=", b"5;a=b c", b"5 ;a b", b" 5", b'5;a="open'],
    ids=["space-only", "space-semicolon", "semicolon", "empty-value", "space-in-value", "two-words", "lead", "quote"],
)
def test_a_malformed_chunk_line_is_still_refused(size_line: bytes) -> None:
    parser = parsed_by_server(CHUNKED_POST + size_line + b"\r\nhello\r\n0\r\n\r\n")
    assert parser.completed and parser.error is not None and parser.error.code == 400


def test_a_chunk_extension_with_whitespace_over_the_real_server(port: Target) -> None:
    status, _, body = _answer(port, CHUNKED_POST + b"3 ;a=b\r\nabc\r\n0\r\n\r\n")
    assert status == 415 and _code(body) == "unsupported_image"  # the app read the body: not a picture


def _send_slowly(sock: socket.socket, data: bytes, piece: int = 1 << 20) -> None:
    """``data`` in pieces, stopping quietly if the server has answered and closed already."""
    try:
        for at in range(0, len(data), piece):
            sock.sendall(data[at : at + piece])
    except OSError:
        pass


def test_an_eight_megabyte_target_is_a_414_not_a_431(port: Target) -> None:
    """Before: 431 "the request's headers are too large", where the address is what is too long."""
    with port.connect(10.0) as sock:
        _send_slowly(sock, b"GET /" + b"a" * 8_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b" 414 " in head.split(b"\r\n")[0], head
    assert _code(body) == "uri_too_long" and b"Connection: close" in head


def test_a_long_target_with_headers_over_the_limit_is_a_414(port: Target) -> None:
    status, _, body = _answer(
        port, b"GET /" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"b" * 30_000 + b"\r\n\r\n"
    )
    assert status == 414 and _code(body) == "uri_too_long"


@pytest.mark.parametrize("headers", [b"X-Pad: " + b"b" * 100_000 + b"\r\n", b"X-Pad: b\r\n" * 10_000])
def test_headers_over_the_limit_stay_a_431(port: Target, headers: bytes) -> None:
    status, _, body = _answer(port, b"GET /" + b"a" * 1000 + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert status == 431 and _code(body) == "headers_too_large"


def test_a_long_target_is_refused_holding_no_more_than_the_header_limit() -> None:
    """The parser drops what follows the limit: an 8 MB target costs no 8 MB of memory."""
    parser = _DrainingParser(Adjustments(max_request_header_size=MAX_HEADER_BYTES))
    held = 0
    for _ in range(1000):  # 8 MB, in reads of 8 KiB as waitress makes them
        parser.received(b"a" * 8192)
        held = max(held, len(parser.header_plus))
    parser.received(b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parser.completed and parser.error.code == 414
    assert held <= MAX_HEADER_BYTES


def _counted(endpoint: str, status: str) -> float:
    return REGISTRY.get_sample_value("moodtape_requests_total", {"endpoint": endpoint, "status": status}) or 0.0


def test_options_star_has_a_request_id_and_is_counted(port: Target) -> None:
    """Before: answered ahead of the app, with neither, unlike every other request."""
    before = _counted("server_options", "200")
    status, headers, body = _answer(port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and body == b"" and "GET" in headers["allow"]
    assert len(headers["x-request-id"]) == 16
    given = _answer(port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nX-Request-ID: probe-0001\r\nConnection: close\r\n\r\n")
    assert given[1]["x-request-id"] == "probe-0001"
    assert _counted("server_options", "200") == before + 2


def test_options_star_behind_a_trusted_tls_proxy_has_hsts(make_app: AppFactory) -> None:
    """Answered ahead of the app, it never read ``X-Forwarded-Proto``: no HSTS behind a TLS proxy."""
    with serving_raw(make_app(MOODTAPE_PROXY_HOPS="1"), None) as target:
        status, headers, _ = _answer(
            target, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
        )
    assert status == 200 and "strict-transport-security" in headers


def test_options_star_sets_no_cookie_and_other_options_are_unchanged(port: Target) -> None:
    _, star, _ = _answer(port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    path_status, _, path_body = _answer(port, b"OPTIONS /* HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert "set-cookie" not in star and "content-type" not in star
    assert path_status == 404 and _code(path_body) == "not_found"  # the path /* is a path like any other


@pytest.mark.usefixtures("still_limiter_clock")
def test_options_star_is_rate_limited(make_app: AppFactory) -> None:
    """Before: Flask-Limiter passed over it (no endpoint yet when its hook ran), and under a limit of
    2 a second, 60 ``OPTIONS *`` in a row were all 200s."""
    before = _counted("server_options", "429")
    star = b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with serving_raw(make_app(MOODTAPE_RATE_LIMIT="2"), None) as target:
        answers = [_answer(target, star) for _ in range(3)]
        after = _answer(target, b"GET /api/openapi.yaml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert [status for status, _, _ in answers] == [200, 200, 429]
    _, headers, body = answers[2]
    assert _code(body) == "rate_limited" and int(headers["retry-after"]) >= 1 and "x-request-id" in headers
    assert after[0] == 429  # one budget for the address, whatever it asks
    assert _counted("server_options", "429") == before + 1


@pytest.mark.parametrize("path", RANGED_FILES)
@pytest.mark.parametrize("asked", ["bytes=-0", "bytes=-000", "Bytes=-0"])
def test_a_zero_suffix_range_is_416(client: FlaskClient, path: str, asked: str) -> None:
    """RFC 9110 §14.1.1: a suffix-length of 0 is unsatisfiable. Werkzeug could not parse it, and the
    whole file went out as a 200."""
    whole = client.get(path, headers=IDENTITY).get_data()
    answer = client.get(path, headers={**IDENTITY, "Range": asked})
    assert answer.status_code == 416 and answer.headers["Content-Range"] == f"bytes */{len(whole)}"


@pytest.mark.parametrize("path", RANGED_FILES)
def test_a_zero_suffix_range_under_another_if_range_is_the_whole_file(client: FlaskClient, path: str) -> None:
    """An ``If-Range`` that does not match makes the server ignore the range (RFC 9110 §13.1.5)."""
    answer = client.get(path, headers={**IDENTITY, "Range": "bytes=-0", "If-Range": '"not-this-one"'})
    assert answer.status_code == 200 and answer.get_data() == client.get(path, headers=IDENTITY).get_data()


def test_a_zero_suffix_range_over_the_real_server(port: Target) -> None:
    status, headers, _ = _answer(
        port, b"GET /ondevice/yunet.onnx HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\nConnection: close\r\n\r\n"
    )
    assert status == 416 and headers["content-range"].startswith("bytes */")


@pytest.mark.parametrize("line", [b"GET /", b"GET /healthz", b"GET"])
def test_a_request_line_without_a_version_is_answered_at_once(port: Target, line: bytes) -> None:
    """HTTP/0.9's ``GET /`` has no headers to end: the client got nothing for a minute (idle timeout)."""
    started = time.monotonic()
    status, headers, body = _answer(port, line + b"\r\n", timeout=3.0)
    assert status == 400 and headers["connection"] == "close" and _code(body) == "bad_request"
    assert time.monotonic() - started < 2.0


def test_blank_lines_before_a_request_are_still_skipped(port: Target) -> None:
    status, _, _ = _answer(port, b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200


@pytest.mark.parametrize("expect", [b"foo", b"100-continue, foo", b"100-continuex"])
def test_an_unknown_expectation_is_a_417(port: Target, expect: bytes) -> None:
    """Before: ignored, and the upload was run (RFC 9110 §10.1.1 lets a server answer 417)."""
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\nExpect: "
        + expect
        + b"\r\n\r\nhello"
    )
    status, headers, body = _answer(port, request)
    assert status == 417 and _code(body) == "expectation_failed" and headers["connection"] == "close"


@pytest.mark.parametrize(
    ("request_line", "expect"),
    [(b"GET /healthz HTTP/1.1", b"100-Continue"), (b"GET /healthz HTTP/1.0", b"foo"), (b"GET /healthz HTTP/1.1", b"")],
)
def test_expectations_that_are_understood_or_not_http_1_1_are_run(
    port: Target, request_line: bytes, expect: bytes
) -> None:
    """``100-continue`` (any case) is understood; HTTP/1.0 has no Expect (RFC 9110 §10.1.1); an empty
    one asks nothing."""
    status, _, _ = _answer(port, request_line + b"\r\nHost: x\r\nExpect: " + expect + b"\r\nConnection: close\r\n\r\n")
    assert status == 200


def _with_fields(count: int) -> bytes:
    """A GET with ``count`` header fields, ``Host`` among them."""
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(count - 1)) + b"\r\n"


def test_a_hundred_header_fields_are_served_and_one_more_is_a_431(port: Target) -> None:
    """Before: any number fitting in 64 KiB (13,000 ``a:b`` lines) was read, at about 7 µs each of
    the event loop every connection shares, and joined in quadratic time when of one name."""
    assert _answer(port, _with_fields(MAX_HEADER_FIELDS))[0] == 200
    status, headers, body = _answer(port, _with_fields(MAX_HEADER_FIELDS + 1))
    assert status == 431 and _code(body) == "headers_too_large" and headers["connection"] == "close"
    assert "more than 100 header fields" in json.loads(body)["error"]["message"]


BARE_LINE_BREAK = "a header line holds a CR or LF of its own"
FOLDED = "obsolete line folding"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (b"".join(b"X-%d: a\nb\r\n" % i for i in range(60)), BARE_LINE_BREAK),
        (b"".join(b"X-%d: a\rb\r\n" % i for i in range(60)), BARE_LINE_BREAK),
        (b"X-A: a\nb\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)), BARE_LINE_BREAK),
        (b"".join(b"X-%d: 1\r\n" % i for i in range(98)) + b"X-F: a\r\n b\r\n", FOLDED),
        (b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"X-F: a\r\n\tb\r\n", FOLDED),
    ],
    ids=["60-bare-lf", "60-bare-cr", "151-one-bare-lf", "99-one-folded", "151-one-folded"],
)
def test_a_malformed_header_line_is_its_own_400_not_a_431_for_the_count(port: Target, fields: bytes, why: str) -> None:
    """Before: each bare LF inside a value, and each folded line, was counted as a field of its own,
    or the count came first: a 431 "more than 100 header fields" where the lines are at fault."""
    status, _, body = _answer(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert status == 400 and why in json.loads(body)["error"]["message"]


def test_a_request_line_with_a_bare_cr_and_many_fields_is_its_own_400() -> None:
    parser = parsed_by_server(b"GET /healthz\rx HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 150 + b"\r\n")
    assert parser.completed and parser.error is not None and parser.error.code == 400
    assert parser.error.body == "Bare CR or LF found in HTTP message"


@pytest.mark.parametrize("line", [b"a:b\r\n", b"X-Same: 1\r\n"], ids=["tiny", "one-name"])
def test_64_kib_of_header_fields_are_refused_before_they_are_read(line: bytes) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + line * ((MAX_HEADER_BYTES - 1000) // len(line)) + b"\r\n"
    parser = parsed_by_server(request)
    assert parser.completed and parser.error is not None and parser.error.code == 431
    assert parser.headers == {}  # refused on the count alone: none of them was parsed


def test_a_request_line_sent_byte_by_byte_is_not_taken_for_one_without_a_version() -> None:
    parser = parsed_by_server(b"\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", piece=1)
    assert parser.completed and parser.error is None and parser.version == "1.1"
