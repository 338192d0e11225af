"""A ``Transfer-Encoding`` whose list has ``chunked`` before another coding: a 400 that closes.

RFC 9112 §6.3: when a request's Transfer-Encoding does not end in chunked, its body's length cannot
be told, and the server must answer 400 and close the connection. waitress answered
``chunked, identity`` (or ``chunked, gzip``, or the two on separate lines) with a 501 "that
Transfer-Encoding is not supported; send the body as it is or chunked", to a client that had sent
chunked. A coding this server does not know, alone or before chunked (``gzip``, ``gzip, chunked``),
stays the 501 of RFC 9112 §6.1, and that refusal closes the connection too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from raw_http import Target, everything_sent, serving_raw

#: What a proxy in front that reads the body by another framing might take for the next request.
BEHIND: bytes = b"GET /api/config HTTP/1.1\r\nHost: smuggled\r\nConnection: close\r\n\r\n"


@pytest.fixture(params=["http", "https"])
def port(request: pytest.FixtureRequest, app: Flask) -> Iterator[Target]:
    with serving_raw(app, request.getfixturevalue("tls_files") if request.param == "https" else None) as target:
        yield target


def _answers(port: Target, codings: bytes) -> list[tuple[int, bytes, dict[str, object]]]:
    """Every answer the server sends to a chunked POST with ``codings`` (header lines) and a request
    pipelined behind it, until it closes: status, head, JSON body."""
    request = (
        b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        + codings
        + b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        + BEHIND
    )
    sent = everything_sent(port, request)
    answers = []
    for answer in sent.split(b"HTTP/1.1 ")[1:]:
        head, _, body = answer.partition(b"\r\n\r\n")
        answers.append((int(answer[:3]), head, json.loads(body)))
    return answers


@pytest.mark.parametrize(
    "codings",
    [
        b"Transfer-Encoding: chunked, identity",
        b"Transfer-Encoding: chunked, gzip",
        b"Transfer-Encoding: CHUNKED ,\tgzip",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
        b"Transfer-Encoding: gzip, chunked, identity",
    ],
    ids=["identity", "gzip", "spaced", "two-lines", "between"],
)
def test_chunked_before_another_coding_is_a_400_that_closes(port: Target, codings: bytes) -> None:
    """Before: 501 "that Transfer-Encoding is not supported"."""
    answers = _answers(port, codings)
    assert len(answers) == 1, answers  # the request behind it is never read
    status, head, body = answers[0]
    assert status == 400, head
    assert b"connection: close" in head.lower()
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "bad_request"
    assert "must end with chunked" in error["message"]


@pytest.mark.parametrize(
    "codings", [b"Transfer-Encoding: gzip", b"Transfer-Encoding: identity", b"Transfer-Encoding: gzip, chunked"]
)
def test_a_coding_not_known_stays_a_501_that_closes(port: Target, codings: bytes) -> None:
    answers = _answers(port, codings)
    assert len(answers) == 1, answers
    status, head, body = answers[0]
    assert status == 501 and b"connection: close" in head.lower()
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "not_implemented"


@pytest.mark.parametrize("codings", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, "])
def test_chunked_last_is_read(port: Target, codings: bytes) -> None:
    """The app reads ``abc``, finds no picture in it (415), and answers the request behind it."""
    answers = _answers(port, codings)
    assert [status for status, _, _ in answers] == [415, 200]
