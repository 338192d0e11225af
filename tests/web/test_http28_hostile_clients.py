"""Hostile clients at the HTTP server layer, over raw sockets to the real server (session 28).

Before: a CR alone, a VT, an FF, a space or a tab before the request line was skipped as if it were
an empty line, and the request after it served (``\\rGET /healthz`` a 200). RFC 9112 §2.2 lets a server
ignore empty lines (CR LF) there, nothing else: a proxy in front that reads such a byte otherwise sees
another request than this server. Now a 400 with ``Connection: close``, in the version the request
line says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, everything_sent, parsed_by_server, serving_raw

from moodtape.web.buffered_server import MAX_CHUNK_EXTENSIONS, MAX_CHUNK_LINE

HOST = b"Host: x\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"


@pytest.fixture
def port(app: Flask) -> Iterator[Target]:
    with serving_raw(app, None) as target:
        yield target


def _head(answer: bytes) -> list[bytes]:
    return answer.partition(b"\r\n\r\n")[0].split(b"\r\n")


@pytest.mark.parametrize(
    "lead",
    [b"\r", b"\x0b", b"\x0c", b" ", b"\t", b"\r\n\r", b"\r\n\x0b", b"\r\r\n", b"\n\r"],
    ids=["cr", "vt", "ff", "space", "tab", "crlf-then-cr", "crlf-then-vt", "cr-cr-lf", "lf-cr"],
)
def test_whitespace_other_than_empty_lines_before_a_request_line_is_refused(port: Target, lead: bytes) -> None:
    answer = everything_sent(port, lead + HEALTHZ)
    head = _head(answer)
    assert head[0].startswith(b"HTTP/1.1 400 "), head[0]
    assert b"Connection: close" in head
    assert b"before the request line" in answer


@pytest.mark.parametrize("lead", [b"\r\n", b"\n", b"\r\n\n\r\n"], ids=["crlf", "lf", "mixed"])
def test_empty_lines_before_a_request_line_are_still_skipped(port: Target, lead: bytes) -> None:
    assert everything_sent(port, lead + HEALTHZ).startswith(b"HTTP/1.1 200 ")


def test_the_refusal_answers_in_the_version_of_the_request_line(port: Target) -> None:
    answer = everything_sent(port, b"\x0bGET /healthz HTTP/1.0\r\n\r\n")
    assert _head(answer)[0].startswith(b"HTTP/1.0 400 ")


@pytest.mark.parametrize("version", [b"1.1", b"1.0"])
@pytest.mark.parametrize(
    "lead",
    [b"\x0c", b"\x0b" * 70, b"\r\n" + b" " * 100, b"\t\x0b\x0c " * 40],
    ids=["ff", "70-vt", "crlf-100-spaces", "160-mixed"],
)
def test_a_refused_head_gets_the_headers_alone(port: Target, lead: bytes, version: bytes) -> None:
    """With 64 or more stray bytes first, the request's first 64 bytes (kept to tell its method) held
    no ``HEAD``: the 400 came with its 160-byte body."""
    request = lead + b"HEAD /healthz HTTP/" + version + b"\r\n" + HOST + b"\r\n"
    head, _, body = everything_sent(port, request).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/" + version + b" 400 "), head[:40]
    assert body == b""


@pytest.mark.parametrize("piece", [0, 1, 30], ids=["one-read", "byte-by-byte", "30-bytes"])
def test_the_method_is_told_after_stray_bytes_however_they_arrive(piece: int) -> None:
    """Strays in reads of their own (nothing kept of them) and a ``HEAD`` in a later read."""
    parser = parsed_by_server(b"\x0b" * 70 + b"HEAD /healthz HTTP/1.0\r\n\r\n", piece)
    assert parser.completed and parser.error is not None and parser.error.code == 400
    assert parser.asked_for_head() and parser.answer_version() == "1.0"


def test_a_cr_ending_one_read_is_judged_with_the_next(port: Target) -> None:
    """A CR LF split between two reads is an empty line; a CR whose next read begins with no LF is not."""
    for second, status in ((b"\n" + HEALTHZ, b"200"), (HEALTHZ, b"400")):
        with port.connect(10.0) as sock:
            sock.sendall(b"\r\n\r")
            time.sleep(0.1)  # two reads on the server
            sock.sendall(second)
            answer = b""
            while more := sock.recv(65536):
                answer += more
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), (second[:3], answer[:40])


@pytest.mark.parametrize("piece", [0, 1, 2], ids=["one-read", "byte-by-byte", "two-bytes"])
@pytest.mark.parametrize("lead", [b"\r\n\r", b"\r\r\n\r\n", b"\r\n\r\r\n\r\n", b" \r\n\r\n"])
def test_the_parser_refuses_a_lone_cr_however_it_arrives(piece: int, lead: bytes) -> None:
    """Arriving in pieces, ``\\r`` then ``\\r\\n\\r\\n`` was an empty request of waitress's, and the
    request after it was served."""
    parser = parsed_by_server(lead + b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n", piece)
    assert parser.completed and not parser.empty
    assert parser.error is not None and parser.error.code == 400


def test_a_pipelined_request_after_a_stray_byte_is_not_served(port: Target) -> None:
    """A proxy that reads ``\\x0bGET`` as garbage (or as part of the body before it) must not see this
    server answer it as a request."""
    first = b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
    answer = everything_sent(port, first + b"\x0c" + HEALTHZ)
    assert answer.count(b"HTTP/1.1 200 ") == 1 and answer.count(b"HTTP/1.1 400 ") == 1


def test_the_connection_closes_after_the_refusal(port: Target) -> None:
    with port.connect(10.0) as sock:
        sock.sendall(b"\x0b" + b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
        sock.settimeout(5.0)
        answer = b""
        try:
            while more := sock.recv(65536):
                answer += more
        except TimeoutError:
            pytest.fail("the connection stayed open after the refusal")
    assert answer.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize(
    "target",
    [b"metrics", b"healthz", b"api/config", b"?x", b"healthz?x", b".."],
)
def test_a_target_without_its_leading_slash_is_refused(port: Target, target: bytes) -> None:
    """``GET metrics HTTP/1.1`` was served as ``/metrics`` (``?x`` was a 308 to ``/``): a proxy rule that
    matches paths by their leading slash let it through. RFC 9112 §3.2: origin-form begins with ``/``."""
    answer = everything_sent(port, b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert _head(answer)[0].startswith(b"HTTP/1.1 400 "), _head(answer)[0]
    assert b"the request target must begin with / (or be an http or https URI)" in answer


@pytest.mark.parametrize(
    "line",
    [b"OPTIONS * HTTP/1.1", b"GET http://x/healthz HTTP/1.1", b"GET http://x HTTP/1.1", b"GET /healthz HTTP/1.1"],
)
def test_the_other_forms_of_target_are_still_served(port: Target, line: bytes) -> None:
    answer = everything_sent(port, line + b"\r\n" + HOST + b"Connection: close\r\n\r\n")
    assert _head(answer)[0].startswith(b"HTTP/1.1 200 "), _head(answer)[0]


CHUNKED_POST = (
    b"POST /api/analyze HTTP/1.1\r\n" + HOST + b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.parametrize("piece", [0, 1000], ids=["one-read", "in-pieces"])
def test_chunk_extensions_over_their_bound_in_one_body_are_refused(piece: int) -> None:
    """Each line within its own bound, together over :data:`MAX_CHUNK_EXTENSIONS`. Checking them cost the
    shared loop about 100 ns a byte: 10 MB of ``;a;a;a…`` took 0.87-1 s of it (a plain body: 33 ms), and
    the 413 came only once the body limit was reached."""
    line = b"1" + b";a" * ((MAX_CHUNK_LINE - 8) // 2) + b"\r\nx\r\n"
    count = MAX_CHUNK_EXTENSIONS // (MAX_CHUNK_LINE - 8) + 1
    parser = parsed_by_server(CHUNKED_POST + line * count + b"0\r\n\r\n", piece)
    assert parser.completed and parser.error is not None and parser.error.code == 400
    assert "chunk extensions" in parser.error.body


def _extensions_body(extension_bytes: int) -> bytes:
    """One-byte chunks whose size lines carry ``extension_bytes`` of extensions in all (the last,
    empty chunk's line carries none), each line within :data:`MAX_CHUNK_LINE`."""
    per_line = MAX_CHUNK_LINE - 8
    lines = [b"1;" + b"a" * (per_line - 1) + b"\r\nx\r\n"] * (extension_bytes // per_line)
    if extension_bytes % per_line:
        lines.append(b"1;" + b"a" * (extension_bytes % per_line - 1) + b"\r\nx\r\n")
    return b"".join(lines) + b"0\r\n\r\n"


@pytest.mark.parametrize("piece", [0, 1000], ids=["one-read", "in-pieces"])
@pytest.mark.parametrize("extra, refused", [(0, False), (1, True)], ids=["at-the-bound", "one-byte-over"])
def test_chunk_extensions_are_bounded_at_exactly_their_limit(piece: int, extra: int, refused: bool) -> None:
    body = _extensions_body(MAX_CHUNK_EXTENSIONS + extra)
    parser = parsed_by_server(CHUNKED_POST + body, piece)
    assert parser.completed
    if refused:
        assert parser.error is not None and parser.error.code == 400
        assert "chunk extensions" in parser.error.body
    else:
        assert parser.error is None
        assert parser.get_body_stream().read() == b"x" * body.count(b"\r\nx\r\n")


def test_the_extension_bound_is_per_body_on_a_kept_alive_connection(port: Target) -> None:
    """Two bodies of 60 KiB of extensions each (120 KiB on one connection, each body under 64 KiB) are
    both read, and the request after them answered: the count starts again with each request (an
    empty ``OPTIONS`` answer keeps the connection open, where a refusal would close it)."""
    body = _extensions_body(60 * 1024)
    upload = b"OPTIONS /api/analyze HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    with port.connect(10.0) as sock:
        sock.sendall(upload + body + upload + body + HEALTHZ)
        answer = b""
        while more := sock.recv(65536):
            answer += more
    statuses = [line.split(b" ")[1] for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    assert statuses == [b"200", b"200", b"200"], answer[:300]


def test_chunk_extensions_as_clients_send_them_are_read() -> None:
    """A signature on each chunk (AWS's streaming uploads, ``;chunk-signature=`` and 64 hex digits): 10 MB
    sent in 64 KiB chunks carries 13 KB of them; here 110 chunks of 8 KiB, 9.5 KB of extensions."""
    signature = b";chunk-signature=" + b"0" * 64
    line = b"2000" + signature + b"\r\n" + b"x" * 8192 + b"\r\n"
    parser = parsed_by_server(CHUNKED_POST + line * 110 + b"0" + signature + b"\r\n\r\n", 65536)
    assert parser.completed and parser.error is None
    assert len(parser.get_body_stream().read()) == 110 * 8192
