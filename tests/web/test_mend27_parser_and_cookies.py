"""The server's header parsing against hostile clients, and where a session cookie may come from (session 27).

Before: one request with ``X-A:`` and 30,000 spaces before an ``x`` held the loop every client is read
in for 16.5 s (waitress's header regex, quadratic in such a run); a ``,`` inside one ``Cookie`` line
(``pref=x, __Host-moodtape_session=…``, which a sibling subdomain may set) planted a session past the
``__Host-`` prefix; a bare-LF refusal or a 431 of an HTTP/1.0 request answered in HTTP/1.1; and a
connection that had sent only blank lines ranked for eviction as an unfinished request.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

import pytest
from flask import Flask
from raw_http import everything_sent, first_answer, parsed_by_server, serving_raw
from webtools import AppFactory

from moodtape.web import eviction, session
from moodtape.web.buffered_server import (
    MAX_BLANK_BYTES,
    MAX_HEADER_BYTES,
    BufferedServer,
    JsonErrorChannel,
)

HOST = b"Host: x\r\n"
SPACES = 30_000


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nX-A: " + b" " * SPACES + b"x\r\n" + HOST + b"\r\n",  # the first header line
        b"GET / HTTP/1.1\r\n" + HOST + b"X-A:" + b"\t " * (SPACES // 2) + b"x \r\n\r\n",
    ],
    ids=["spaces-first-line", "tabs-later-line"],
)
def test_a_long_run_of_whitespace_before_a_header_value_is_read_at_once(request_bytes: bytes) -> None:
    """waitress's HEADER_FIELD_RE took 16.5 s over this (48 s with 60,000 spaces)."""
    started = time.monotonic()
    parser = parsed_by_server(request_bytes)
    assert time.monotonic() - started < 2.0
    assert parser.error is None and parser.headers["X_A"] == "x"


def test_a_folded_line_that_looks_like_a_header_is_still_refused() -> None:
    parser = parsed_by_server(b"GET / HTTP/1.1\r\n" + HOST + b"X-A: a\r\n   X-B:   b\r\n\r\n")
    assert parser.error is not None and parser.error.code == 400
    assert "folding" in parser.error.body


def test_other_clients_are_answered_while_such_a_request_is_read(app: Flask) -> None:
    """The whole server stalled: the request itself, and ``/healthz`` from anyone else, waited out the regex."""
    healthz = b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    with serving_raw(app, None) as target:
        started = time.monotonic()
        with target.connect(30.0) as hostile:
            hostile.sendall(b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-A: " + b" " * SPACES + b"x\r\n\r\n")
            time.sleep(0.2)
            assert first_answer(target, healthz, 30.0)[0] == 200
            assert hostile.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert time.monotonic() - started < 2.0


def test_cookie_lines_are_joined_as_cookies_and_a_single_line_is_left_alone() -> None:
    two = parsed_by_server(b"GET / HTTP/1.1\r\n" + HOST + b"Cookie: a=1, b\r\nCookie:  c=2\r\n\r\n")
    assert two.headers["COOKIE"] == "a=1, b; c=2"
    one = parsed_by_server(b"GET / HTTP/1.1\r\n" + HOST + b"Cookie: a=1, c=2\r\n\r\n")
    assert one.headers["COOKIE"] == "a=1, c=2"


def _signed_session(app: Flask, base: str, name: str) -> str:
    """A session of its own, with one saved list in its history: the cookie's value."""
    client = app.test_client()
    token = client.get("/api/config", base_url=base).get_json()["csrf_token"]
    assert client.post("/api/lists?emotion=sad", base_url=base, headers={"X-CSRF-Token": token}).status_code == 201
    cookie = client.get_cookie(name)
    assert cookie is not None
    return cookie.value


def test_a_comma_inside_a_cookie_never_plants_a_session(make_app: AppFactory) -> None:
    """A sibling subdomain sets ``pref=x, __Host-moodtape_session=<its own signed cookie>`` for the parent
    domain: the app split the line at the comma and the visitor ran in the attacker's session."""
    app = make_app()
    base, name = "https://localhost", "__Host-moodtape_session"
    attackers = _signed_session(app, base, name)
    visitor = app.test_client(use_cookies=False)
    reply = visitor.get("/api/history", base_url=base, headers={"Cookie": f"pref=x, {name}={attackers}"})
    assert reply.status_code == 200 and reply.get_json()["items"] == []
    assert any(line.startswith(f"{name}=") for line in reply.headers.getlist("Set-Cookie"))  # a new session


def test_over_the_wire_a_comma_in_one_line_is_no_cookie_but_a_second_line_is(make_app: AppFactory) -> None:
    app = make_app()
    session = _signed_session(app, "http://localhost", "moodtape_session").encode()
    with serving_raw(app, None) as target:
        for cookies, items in (
            (b"Cookie: pref=x, moodtape_session=" + session + b"\r\n", 0),
            (b"Cookie: pref=x\r\nCookie: moodtape_session=" + session + b"\r\n", 1),
            (b"Cookie: pref=a, b\r\nCookie: moodtape_session=" + session + b"; lang=en\r\n", 1),
        ):
            request = b"GET /api/history HTTP/1.1\r\nHost: localhost\r\n" + cookies + b"Connection: close\r\n\r\n"
            status, _, body = first_answer(target, request, 10.0)
            assert status == 200 and len(json.loads(body)["items"]) == items, cookies


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.0\nHost: x\n\n",  # bare LF
        b"GET /healthz HTTP/1.0\r\n" + HOST + b"X-Big: " + b"a" * (MAX_HEADER_BYTES + 10) + b"\r\n\r\n",  # 431
        b"\r\n\r\nGET /healthz HTTP/1.0\r\nX-A: a\r\n b\r\n\r\n",  # folded, after blank lines
        b"GET /" + b"a" * (MAX_HEADER_BYTES + 10) + b" HTTP/1.0\r\n" + HOST + b"\r\n",  # 414
    ],
    ids=["bare-lf", "431", "after-blank-lines", "414"],
)
def test_a_refusal_of_a_request_line_that_said_http_1_0_answers_in_1_0(app: Flask, request_bytes: bytes) -> None:
    with serving_raw(app, None) as target:
        assert everything_sent(target, request_bytes).startswith(b"HTTP/1.0 4")


def test_a_refusal_of_an_http_1_1_request_with_bare_lfs_says_1_1(app: Flask) -> None:
    with serving_raw(app, None) as target:
        assert everything_sent(target, b"GET /healthz HTTP/1.1\nHost: x\n\n").startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize(
    ("blank", "served"), [(b"\r\n" * (MAX_BLANK_BYTES // 2), True), (b"\r\n" * (MAX_BLANK_BYTES // 2) + b" ", False)]
)
def test_blank_lines_up_to_the_bound_are_skipped_and_one_byte_more_is_refused(
    app: Flask, blank: bytes, served: bool
) -> None:
    with serving_raw(app, None) as target:
        answer = everything_sent(target, blank + b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 " if served else b"HTTP/1.1 400 ")


def test_a_head_after_blank_lines_gets_headers_only(app: Flask) -> None:
    with serving_raw(app, None) as target:
        for request in (
            b"\r\n" * 40 + b"HEAD /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
            b"\r\n" * 40 + b"HEAD /healthz HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n",
        ):
            head, _, body = everything_sent(target, request).partition(b"\r\n\r\n")
            assert head.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 400 ")) and body == b"", head[:30]


@pytest.mark.parametrize(("value", "number"), [(b"0005", "5"), (b"000", "0")])
def test_a_zero_padded_content_length_reaches_the_app_as_its_number(value: bytes, number: str) -> None:
    parser = parsed_by_server(b"POST /x HTTP/1.1\r\n" + HOST + b"Content-Length: " + value + b"\r\n\r\nhello")
    assert parser.error is None and parser.headers["CONTENT_LENGTH"] == number


def test_blank_lines_between_pipelined_requests_are_skipped_in_one_read_or_many(app: Flask) -> None:
    first = b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
    last = b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    with serving_raw(app, None) as target:
        assert everything_sent(target, first + b"\r\n\r\n\r\n" + last).count(b"HTTP/1.1 200 ") == 2
        with target.connect(10.0) as sock:
            for piece in (first + b"\r", b"\n\r\n", b"\r\n" + last[:5], last[5:]):
                sock.sendall(piece)
                time.sleep(0.05)
            answers = b""
            while more := sock.recv(65536):
                answers += more
        assert answers.count(b"HTTP/1.1 200 ") == 2


def test_a_connection_that_sent_only_blank_lines_ranks_as_idle_before_an_unfinished_request(app: Flask) -> None:
    """It was ranked with the unfinished requests (by age), so an older request trickling in went first."""
    server = BufferedServer(app, "127.0.0.1", 0, threads=1)
    server.prepare()
    try:
        trickling = socket.create_connection(("127.0.0.1", server.bound_port))
        trickling.sendall(b"GET / HTTP/1.1\r\nHost")
        _poll(server)
        blank = socket.create_connection(("127.0.0.1", server.bound_port))
        blank.sendall(b"\r\n\r\n\r\n")
        _poll(server)
        channels: list[Any] = [c for c in server._map.values() if isinstance(c, JsonErrorChannel)]
        named = {trickling.getsockname(): "trickling", blank.getsockname(): "blank"}
        order = eviction._ranked(channels, time.time() + 5 * eviction.GRACE_S, tick=time.monotonic())
        assert [named[c.addr] for c in order] == ["blank", "trickling"]
        trickling.close()
        blank.close()
    finally:
        server.stop()


def _poll(server: BufferedServer) -> None:
    for _ in range(5):
        server.poll(0.05)


def test_a_page_behind_an_untrusted_tls_proxy_is_told_to_reload_and_the_log_names_the_settings(
    make_app: AppFactory, frame_640: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """The page's own ``Origin: https://…`` to a server that sees ``http://``: 403, as another site's;
    before, the page read "send it from moodtape's own page" (it was) and the log said nothing."""
    session.SCHEME_ONLY_WARNINGS.close()  # no run of these warnings left open by an earlier test
    client = make_app().test_client()
    caplog.set_level(logging.WARNING, logger=session.__name__)
    try:
        for origin, names_the_settings in (("https://evil.example", False), ("https://localhost", True)):
            caplog.clear()
            reply = client.post("/api/analyze", data=frame_640, content_type="image/jpeg", headers={"Origin": origin})
            assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "csrf_failed"
            assert "reload moodtape from its own address" in reply.get_json()["error"]["message"]
            logged = " ".join(record.getMessage() for record in caplog.records)
            assert ("MOODTAPE_PROXY_HOPS" in logged and "MOODTAPE_TRUSTED_PROXIES" in logged) is names_the_settings
    finally:
        session.SCHEME_ONLY_WARNINGS.close()
