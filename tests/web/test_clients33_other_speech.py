"""Clients that speak something else (session 33): what the server asks of them, and what it answers.

- An HTTP/2 client (``curl --http2-prior-knowledge``) got an HTTP/1.1 505 it cannot read: curl said
  "Empty reply from server" (exit 52). It is told HTTP_1_1_REQUIRED in HTTP/2's frames, and curl
  asks again in HTTP/1.1.
- ``OPTIONS *`` with ``Expect: 100-continue`` and a body: the app answers it without reading the
  body, yet the server said ``100 Continue`` and curl uploaded all 5 MB before the empty 200.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from flask import Flask
from tests.web.raw_http import everything_sent, serving_raw

#: What an HTTP/2 client sends first: the connection preface, an empty SETTINGS frame, then the
#: HEADERS frame of its first request on stream 1 (its header block is not looked at).
HTTP2_CLIENT_START = (
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    + b"\x00\x00\x01\x01\x05\x00\x00\x00\x01\x82"
)
#: HTTP/2's frame types (RFC 9113 §6) and the error code HTTP_1_1_REQUIRED (§7).
SETTINGS, RST_STREAM, GOAWAY, HTTP_1_1_REQUIRED = 4, 3, 7, 0xD


def _frames(data: bytes) -> list[tuple[int, int, bytes]]:
    """The HTTP/2 frames in ``data``, each as its type, stream and payload (RFC 9113 §4.1)."""
    frames = []
    while data:
        assert len(data) >= 9, data
        length = int.from_bytes(data[:3], "big")
        stream = struct.unpack(">I", data[5:9])[0] & 0x7FFFFFFF
        frames.append((data[3], stream, data[9 : 9 + length]))
        data = data[9 + length :]
    return frames


def test_an_http2_client_is_told_in_http2_to_use_http_1_1(app: Flask) -> None:
    """Before: ``HTTP/1.1 505 ...`` and JSON, which no HTTP/2 client reads as frames."""
    with serving_raw(app, None) as target:
        sent = everything_sent(target, HTTP2_CLIENT_START)
    frames = _frames(sent)
    # Since session 35 the client's SETTINGS is acknowledged, and GOAWAY ends the connection
    # (tests/web/test_clients35_http2_streams.py).
    assert [(kind, stream) for kind, stream, _ in frames] == [
        (SETTINGS, 0),
        (SETTINGS, 0),
        (RST_STREAM, 1),
        (GOAWAY, 0),
    ]
    assert frames[0][2] == b"" and struct.unpack(">I", frames[2][2])[0] == HTTP_1_1_REQUIRED


def _curl_speaks_http2() -> bool:
    curl = shutil.which("curl")
    if curl is None:
        return False
    version = subprocess.run([curl, "--version"], capture_output=True, text=True, check=False).stdout
    return "HTTP2" in version


@pytest.mark.skipif(not _curl_speaks_http2(), reason="needs curl built with HTTP/2")
def test_curl_with_http2_prior_knowledge_is_answered_in_http_1_1(app: Flask) -> None:
    """Before: curl exit 52, "Empty reply from server"; now it retries in HTTP/1.1 and gets /healthz."""
    with serving_raw(app, None) as target:
        done = subprocess.run(
            [
                "curl",
                "-sS",
                "-m",
                "10",
                "--http2-prior-knowledge",
                "-w",
                "\n%{http_code} %{http_version}",
                f"http://127.0.0.1:{target.port}/healthz",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "200 1.1"


#: The head of an ``OPTIONS *`` asking for ``100 Continue`` before a 5 MB body.
OPTIONS_STAR_EXPECTING = (
    b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"
)
#: The same in absolute form without a path, which RFC 9112 §3.2.4 makes the same question.
OPTIONS_AUTHORITY_EXPECTING = (
    b"OPTIONS http://127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    b"Expect: 100-continue\r\n\r\n"
)


@pytest.mark.parametrize("head", [OPTIONS_STAR_EXPECTING, OPTIONS_AUTHORITY_EXPECTING], ids=["star", "absolute"])
def test_options_star_is_answered_without_asking_for_its_body(app: Flask, head: bytes) -> None:
    """Before: ``100 Continue``, and no answer until the whole body had come."""
    with serving_raw(app, None) as target:
        sent = everything_sent(target, head)
    assert sent.startswith(b"HTTP/1.1 200 "), sent[:60]
    assert b"100 Continue" not in sent
    status_head = sent.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nallow: " in status_head and b"\r\nconnection: close" in status_head


def test_a_body_sent_anyway_is_never_read_as_a_request(app: Flask) -> None:
    """A client that stops waiting for ``100 Continue`` sends its body: whatever it holds, one answer
    comes, and the connection closes (a body shaped like a request is no second request)."""
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    head = OPTIONS_STAR_EXPECTING.replace(b"5000000", str(len(smuggled)).encode())
    with serving_raw(app, None) as target:
        sent = everything_sent(target, head + smuggled)
    assert sent.startswith(b"HTTP/1.1 200 "), sent[:60]
    assert sent.count(b"HTTP/1.1 ") == 1, sent[:300]


def test_a_post_is_still_asked_for_its_body(app: Flask) -> None:
    """Only ``OPTIONS *`` goes without: a POST's body is the app's to read (a route's ``OPTIONS``:
    tests/web/test_hostile33_continue.py)."""
    post = b"POST /api/analyze HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
    with serving_raw(app, None) as target, target.connect(10.0) as sock:
        sock.sendall(post + b"Content-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
