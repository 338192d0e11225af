"""A 304 keeps its connection open, against the real server over raw sockets, HTTP and HTTPS.

Before: waitress closes the connection after any answer without ``Content-Length``, and a 304 has
none (it has no body; RFC 9112 §6.3 ends it at its blank line). Every revalidation on a kept-alive
connection (a browser's ``If-None-Match``, a cache's, a proxy's connection pool) closed it: 200
conditional GETs of ``/static/style.css`` on one ``http.client`` connection opened 199 connections.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, everything_sent, first_answer, serving_raw


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _etag(port: Target, coding: bytes) -> bytes:
    """The ETag of the style sheet as sent with ``Accept-Encoding: coding`` (the gzipped copy has its own)."""
    request = b"GET /static/style.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: " + coding + b"\r\n\r\n"
    status, head, _ = first_answer(port, request, timeout=5)
    assert status == 200
    return next(line[6:].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"etag:"))


def _revalidation(etag: bytes, coding: bytes, version: bytes = b"1.1", connection: bytes = b"") -> bytes:
    said = b"Connection: " + connection + b"\r\n" if connection else b""
    return (
        b"GET /static/style.css HTTP/" + version + b"\r\nHost: x\r\nAccept-Encoding: " + coding + b"\r\n"
        b"If-None-Match: " + etag + b"\r\n" + said + b"\r\n"
    )


def _heads(data: bytes) -> list[bytes]:
    """The status line and headers of each answer in ``data`` (304s and the health check's JSON)."""
    return [part for part in data.split(b"\r\n\r\n") if part.startswith(b"HTTP/1.")]


@pytest.mark.parametrize("coding", [b"identity", b"gzip"])
def test_a_request_after_a_304_is_answered_on_the_same_connection(port: Target, coding: bytes) -> None:
    revalidate = _revalidation(_etag(port, coding), coding)
    last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    heads = _heads(everything_sent(port, revalidate * 2 + last))
    assert [head.split(b" ", 2)[1] for head in heads] == [b"304", b"304", b"200"]
    assert not any(b"Connection: close" in head for head in heads[:2])


def test_an_http10_client_asking_to_keep_the_connection_is_told_so_after_a_304(port: Target) -> None:
    revalidate = _revalidation(_etag(port, b"identity"), b"identity", b"1.0", b"keep-alive")
    heads = _heads(everything_sent(port, revalidate + b"GET /healthz HTTP/1.0\r\n\r\n"))
    assert [head.split(b" ", 2)[1] for head in heads] == [b"304", b"200"]
    assert b"\r\nConnection: Keep-Alive" in heads[0] and b"Connection: close" not in heads[0]


@pytest.mark.parametrize(
    ("version", "connection"), [(b"1.1", b"close"), (b"1.1", b"TE, close"), (b"1.0", b""), (b"1.0", b"close")]
)
def test_a_304_still_closes_when_the_client_did_not_keep_the_connection(
    port: Target, version: bytes, connection: bytes
) -> None:
    revalidate = _revalidation(_etag(port, b"identity"), b"identity", version, connection)
    heads = _heads(everything_sent(port, revalidate + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert len(heads) == 1 and heads[0].split(b" ", 2)[1] == b"304"
    assert b"\r\nConnection: close" in heads[0] and b"Keep-Alive" not in heads[0]
