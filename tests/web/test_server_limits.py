"""The server's limits, over real sockets: slow clients, too-large bodies (chunked or not), headers.

Each test reproduces a finding of issue 10 against ``moodtape serve``'s server, over HTTP and over
HTTPS (``--certfile``, TLS on loopback with a certificate made for the test run).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import NamedTuple

import cv2
import httpx
import numpy as np
import pytest
from benchmarks.slow_clients_single import SlowClients, client_tls, probe
from flask import Flask

from moodtape.web.server import make_server
from services import free_port


class Live(NamedTuple):
    """A running server: its base URL, its port, and the client TLS context when it serves HTTPS."""

    url: str
    port: int
    tls: ssl.SSLContext | None


@pytest.fixture(params=["http", "https"])
def live(request: pytest.FixtureRequest, app: Flask) -> Iterator[Live]:
    certfile, keyfile = request.getfixturevalue("tls_files") if request.param == "https" else (None, None)
    port = free_port()
    server = make_server(app, "127.0.0.1", port, threads=4, certfile=certfile, keyfile=keyfile)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield Live(f"{request.param}://127.0.0.1:{port}", port, client_tls() if certfile else None)
    finally:
        server.stop()


def _raw(live: Live, request: bytes, body_chunks: Iterator[bytes] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` (and chunks) on a raw socket; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", live.port), timeout=20) as plain:
        sock = live.tls.wrap_socket(plain, server_hostname="localhost") if live.tls else plain
        sock.sendall(request)
        try:
            for chunk in body_chunks or iter(()):
                sock.sendall(chunk)
        except OSError:
            pass  # the server may answer and close before everything is sent
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + _length(answer):
            try:
                data = sock.recv(65536)
            except ssl.SSLError:  # a reset after the answer, seen through TLS
                break
            if not data:
                break
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, str]:
    assert status == expected, body[:200]
    assert headers["content-type"].startswith("application/json")
    assert headers["x-content-type-options"] == "nosniff" and "content-security-policy" in headers
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"}
    return dict(error)


def _chunked(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def test_twenty_slow_clients_do_not_stop_others_being_answered(live: Live, frame_640: bytes) -> None:
    """Before: 4 slow connections made every /healthz time out (cheroot's 4 threads were all reading).

    Over HTTPS the handshake itself trickles too; with cheroot (HTTPS before) new connections then timed out.
    """
    modes = ("headers", "body", "handshake") if live.tls else ("headers", "body")
    for mode in modes:
        with SlowClients(live.port, 20, mode, interval=1.0, tls=live.tls) as slow:
            assert len(slow.sockets) == 20, mode
            time.sleep(1.2)
            result = probe(live.url, frame_640, seconds=2.5, timeout=10.0)  # generous: a loaded CI machine is slow
        assert sum(result.failed.values()) == 0 and min(result.ok.values()) >= 1, (mode, result)


def test_a_chunked_upload_past_the_limit_is_a_json_413(live: Live, astronaut_jpeg_bytes: bytes) -> None:
    """Before: an 8 KB face JPEG followed by 30 MB of zeros, chunked, answered 200 with a face."""
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, headers, body = _raw(live, head, _chunked(astronaut_jpeg_bytes + bytes(30 * 1024 * 1024)))
    assert _assert_json_error(status, headers, body, 413)["code"] == "too_large"


def test_a_valid_png_over_the_limit_sent_chunked_is_a_413_not_truncated(live: Live) -> None:
    """Before: a valid 12 MB PNG sent chunked was cut at 10 MiB and answered 422 "truncated"."""
    noise = np.random.default_rng(0).integers(0, 256, (2100, 2100, 3), dtype=np.uint8)
    ok, png = cv2.imencode(".png", noise)
    assert ok and len(png) > 11 * 1024 * 1024
    head = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, headers, body = _raw(live, head, _chunked(png.tobytes()))
    _assert_json_error(status, headers, body, 413)


@pytest.mark.parametrize("megabytes", [11, 25])
def test_urllib_reads_the_413_for_a_too_large_body(live: Live, megabytes: int) -> None:
    """Before: Python's urllib got "Broken pipe" at every size; over 21 MiB the answer was plain text."""
    request = urllib.request.Request(
        f"{live.url}/api/analyze", data=b"\xff\xd8\xff" + bytes(megabytes * 1024 * 1024), method="POST"
    )
    request.add_header("Content-Type", "image/jpeg")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30, context=live.tls)
    assert caught.value.code == 413
    assert caught.value.headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(caught.value.read())["error"]["code"] == "too_large"


def test_a_30_mb_header_line_is_refused(live: Live) -> None:

    def rest() -> Iterator[bytes]:
        for _ in range(30 * 16):
            yield b"a" * 65536
        yield b"\r\n\r\n"

    status, headers, body = _raw(live, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", rest())
    _assert_json_error(status, headers, body, 431)


def test_200000_headers_and_an_8_mb_url_are_refused(live: Live) -> None:
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(200_000)) + b"\r\n"
    _assert_json_error(*_raw(live, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", _pieces(many)), 431)
    url = b"GET /healthz?" + b"a" * 8_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    _assert_json_error(*_raw(live, url[:100], _pieces(url[100:])), 414)  # the address is at fault (session 26)


def _pieces(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_conflicting_content_lengths_are_refused(live: Live) -> None:
    request = b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
    _assert_json_error(*_raw(live, request), 400)


def test_5000_multipart_fields_get_the_right_message(live: Live) -> None:
    """Before: refused as "upload too large", which sends the user looking at the file's size."""
    fields = {f"f{i}": "x" for i in range(5000)}
    reply = httpx.post(
        f"{live.url}/api/analyze", data=fields, files={"image": ("a.jpg", b"\xff\xd8\xff")}, timeout=30, verify=False
    )
    assert reply.status_code in (400, 413)
    assert "field" in reply.json()["error"]["message"] and "too large" not in reply.json()["error"]["message"]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_stalled_upload_does_not_delay_stopping(request: pytest.FixtureRequest, app: Flask, scheme: str) -> None:
    """Before: a stalled upload delayed every stop by 5 s."""
    certfile, keyfile = request.getfixturevalue("tls_files") if scheme == "https" else (None, None)
    port = free_port()
    server = make_server(app, "127.0.0.1", port, threads=2, certfile=certfile, keyfile=keyfile)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    if certfile is not None:
        stalled = client_tls().wrap_socket(stalled, server_hostname="localhost")
    stalled.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n\xff\xd8")
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 3.0 and not thread.is_alive()  # was 5 s: the stall's read timeout
    stalled.close()
