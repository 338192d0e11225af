"""The request line as RFC 9112 reads it: a later HTTP/1.x is 1.1, an absolute-form target names the
host, and an encoded slash in a path is no slash (web/request_line.py, web/hosts.py).

Before: ``GET / HTTP/1.2`` was answered as HTTP/1.0 and closed; ``GET http://evil.example/metrics``
with ``Host: 127.0.0.1`` was served the loopback-only metrics; ``/api%2Fconfig`` was ``/api/config``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, first_answer, serving_raw

from moodtape.web.request_line import as_highest_minor, target_authority_problem


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


def _answer(port: Target, request: bytes) -> tuple[int, bytes, bytes]:
    return first_answer(port, request, timeout=5.0)


@pytest.mark.parametrize("version", [b"HTTP/1.2", b"HTTP/1.9"])
def test_a_later_minor_version_is_answered_as_http_1_1_and_kept_open(port: Target, version: bytes) -> None:
    request = b"GET /healthz " + version + b"\r\nHost: 127.0.0.1\r\n\r\n"
    with port.connect(5.0) as sock:
        for _ in range(2):  # the connection carries a second request, as HTTP/1.1's does
            sock.sendall(request)
            head = _read_answer(sock)
            assert head.startswith(b"HTTP/1.1 200 "), head[:40]
            assert b"connection: close" not in head.lower()


def _read_answer(sock: socket.socket) -> bytes:
    """One answer's head, its body read past (by ``Content-Length``)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _more(sock, data)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))
    while len(body) < length:
        body += _more(sock, body)
    return head


def _more(sock: socket.socket, so_far: bytes) -> bytes:
    """The next bytes the server sent; a failure when it closed the connection instead."""
    data = sock.recv(65536)
    if not data:
        pytest.fail(f"the server closed the connection mid-answer, after {so_far[:200]!r}")
    return data


def test_reading_an_answer_fails_rather_than_waits_when_the_server_closes() -> None:
    """The helper above fails when the connection ends mid-answer (before: it looped on b"" forever)."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        theirs.close()
        ours.settimeout(5.0)
        with pytest.raises(pytest.fail.Exception, match="closed the connection"):
            _read_answer(ours)


def test_a_later_minor_version_needs_a_host_and_may_send_a_chunked_body_as_http_1_1_does(port: Target) -> None:
    status, _, body = _answer(port, b"GET /healthz HTTP/1.2\r\n\r\n")
    assert status == 400 and b"needs a Host header" in body
    chunked = (
        b"POST /api/analyze HTTP/1.2\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    status, _, body = _answer(port, chunked)
    assert status == 415 and b"unsupported_image" in body  # the app read "abc" and found no picture


def test_other_major_versions_are_still_refused(port: Target) -> None:
    status, _, _ = _answer(port, b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
    assert status == 505


@pytest.mark.parametrize(
    ("target", "host", "expected"),
    [
        (b"http://evil.example/metrics", b"127.0.0.1", 404),  # the target's host is no loopback
        (b"http://127.0.0.1:5000/metrics", b"evil.example", 200),  # the target's host is loopback
        (b"HTTP://localhost/metrics", b"evil.example", 200),
    ],
)
def test_an_absolute_form_targets_authority_is_the_host(
    port: Target, target: bytes, host: bytes, expected: int
) -> None:
    status, _, body = _answer(port, b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert status == expected, body[:200]


@pytest.mark.parametrize(
    ("target", "expected"), [(b"http://127.0.0.1/metrics", 200), (b"http://evil.example/metrics", 404)]
)
def test_an_absolute_form_target_on_http_1_0_needs_no_host_header(port: Target, target: bytes, expected: int) -> None:
    status, _, _ = _answer(port, b"GET " + target + b" HTTP/1.0\r\n\r\n")
    assert status == expected  # before: the server's own name stood for the host, whatever the target said


def test_an_http_1_1_request_without_host_is_refused_even_with_an_absolute_target(port: Target) -> None:
    status, _, body = _answer(port, b"GET http://127.0.0.1/healthz HTTP/1.1\r\n\r\n")
    assert status == 400 and b"needs a Host header" in body


@pytest.mark.parametrize(
    ("target", "said"),
    [
        (b"ftp://127.0.0.1/healthz", "must be an http or https URI"),
        (b"http:///healthz", "must name a host"),
        (b"http://user@127.0.0.1/healthz", "may not carry user information"),
        (b"http://a,b/healthz", "the Host header must be one host"),
    ],
    ids=["scheme", "no-authority", "userinfo", "bad-host"],
)
def test_an_absolute_form_target_that_names_no_usable_host_is_a_400_that_says_why(
    port: Target, target: bytes, said: str
) -> None:
    status, _, body = _answer(port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    error = json.loads(body)["error"]
    assert status == 400 and error["code"] == "bad_request"
    assert said in error["message"], error  # before: "the request is not valid HTTP/1.1 (...)" for all three
    assert "user@" not in error["message"] and "ftp:" not in error["message"]  # nothing the client sent


@pytest.mark.parametrize(
    "hosts", [b"Host: a\r\nHost: b\r\n", b"Host: a b\r\n", b"Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n"]
)
@pytest.mark.parametrize("target", [b"/healthz", b"http://127.0.0.1/healthz"])
def test_a_bad_host_header_is_a_400_whatever_the_targets_form(port: Target, hosts: bytes, target: bytes) -> None:
    status, _, body = _answer(port, b"GET " + target + b" HTTP/1.1\r\n" + hosts + b"\r\n")
    assert status == 400, body[:200]  # before: 200 for an absolute target, whose host overwrote the bad one
    assert b"the Host header must be one host" in body


@pytest.mark.parametrize("path", [b"/api%2Fconfig", b"/api%2fconfig", b"/static%2Fjs/app.js", b"http://x/api%2Fconfig"])
def test_an_encoded_slash_in_a_path_is_a_404(port: Target, path: bytes) -> None:
    status, head, body = _answer(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert b"connection: close" not in head.lower()  # a 404 of the app: the connection stays


@pytest.mark.parametrize(
    "path", [b"/healthz?next=%2Fapi%2Fconfig", b"/static/js/%61pp.js", b"/api/recommendations?emotion=%68appy"]
)
def test_other_escapes_and_an_encoded_slash_in_the_query_still_work(port: Target, path: bytes) -> None:
    status, _, body = _answer(port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status == 200, body[:200]


def test_the_test_clients_encoded_slash_is_a_404_too(app: Flask) -> None:
    assert app.test_client().get("/api%2Fconfig").status_code == 404


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        (b"GET / HTTP/1.9 \r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        (b"GET / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n"),
        (b"GET / HTTP/1.0\r\n\r\n", b"GET / HTTP/1.0\r\n\r\n"),
        (b"GET / HTTP/2.2\r\n\r\n", b"GET / HTTP/2.2\r\n\r\n"),
        (b"GET /HTTP/1.2\r\n\r\n", b"GET /HTTP/1.2\r\n\r\n"),  # no version: the path ends so
        (b"GET / HTTP/1.x\r\n\r\n", b"GET / HTTP/1.x\r\n\r\n"),
    ],
)
def test_only_a_later_1_x_version_is_rewritten(given: bytes, expected: bytes) -> None:
    assert as_highest_minor(given) == expected


@pytest.mark.parametrize(
    ("scheme", "authority", "refused"),
    [("", "", False), ("http", "a", False), ("HTTPS", "a:1", False), ("ws", "a", True), ("http", "", True)],
)
def test_target_authority_problem(scheme: str, authority: str, refused: bool) -> None:
    assert bool(target_authority_problem(scheme, authority)) is refused
