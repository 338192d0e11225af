"""``moodtape serve --processes 2 --threads 2`` against slow clients and the one-process limit tests, HTTP and HTTPS.

Before, gunicorn's gthread workers read each request in a request thread: four connections
trickling their headers or body one byte a second held all four threads, and /healthz and
/api/analyze timed out for everyone else (``benchmarks/slow_clients.py``); with ``--certfile`` it
was gunicorn's own TLS, same weakness. Now each worker runs the one-process server's event loop
(``moodtape.web.gunicorn_worker``), so 12 such clients cost sockets, not threads.

The same reasoning says every limit and refusal of the one-process server holds here too: the
tests of ``test_server_limits`` and ``test_http_framing`` that take a running server are imported
below and run again against this one (through the ``live`` and ``port`` fixtures defined here).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from benchmarks.slow_clients_single import SlowClients, client_tls, probe
from test_http_framing import Target
from test_http_framing import test_a_body_sent_after_100_continue_is_still_read as test_a_body_after_100_continue
from test_http_framing import test_a_get_with_expect_continue_is_answered as test_a_get_with_expect_continue
from test_http_framing import (
    test_a_too_large_body_announced_with_expect_continue_gets_413_before_sending_it as test_an_expected_413,
)
from test_http_framing import test_an_empty_post_with_expect_continue_is_answered as test_an_empty_expected_post
from test_multiprocess import _finish
from test_server_limits import Live
from test_server_limits import test_5000_multipart_fields_get_the_right_message as test_5000_multipart_fields
from test_server_limits import test_200000_headers_and_an_8_mb_url_are_refused as test_200000_headers_8_mb_url
from test_server_limits import test_a_30_mb_header_line_is_refused as test_a_30_mb_header_line
from test_server_limits import test_a_chunked_upload_past_the_limit_is_a_json_413 as test_a_chunked_upload_too_large
from test_server_limits import (
    test_a_valid_png_over_the_limit_sent_chunked_is_a_413_not_truncated as test_a_chunked_png_too_large,
)
from test_server_limits import test_conflicting_content_lengths_are_refused as test_conflicting_content_lengths
from test_server_limits import test_urllib_reads_the_413_for_a_too_large_body as test_urllib_reads_the_413

from services import free_port, start_serve, wait_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs only on POSIX"),
]

SLOW_CLIENTS = 12


class Served(NamedTuple):
    url: str
    port: int
    https: bool


@pytest.fixture(scope="module", params=["http", "https"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("prefork")
    port = free_port()
    options = ["--processes", "2", "--threads", "2"]
    if request.param == "https":
        certfile, keyfile = request.getfixturevalue("tls_files")
        options += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
    settings = {"MOODTAPE_THREADS": "1", "MOODTAPE_RATE_LIMIT": "0", "MOODTAPE_SHUTDOWN_SECONDS": "2"}
    process = start_serve(folder, port, *options, settings=settings)
    url = f"{request.param}://127.0.0.1:{port}"
    try:
        wait_ready(url, process, 90, in_a_row=6)  # six: both workers have loaded the model
        yield Served(url, port, request.param == "https")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = _finish(process)
        assert process.returncode == 0, stderr


def test_slow_clients_do_not_stop_others_being_answered(served: Served, frame_640: bytes) -> None:
    modes = ("headers", "body", "handshake") if served.https else ("headers", "body")
    for mode in modes:
        with SlowClients(
            served.port, SLOW_CLIENTS, mode, interval=1.0, tls=client_tls() if served.https else None
        ) as slow:
            assert len(slow.sockets) == SLOW_CLIENTS, mode
            time.sleep(1.2)  # every slow connection has been accepted and has sent a byte more
            result = probe(served.url, frame_640, seconds=3.0, timeout=10.0)  # generous: CI is slow
        assert sum(result.failed.values()) == 0 and min(result.ok.values()) >= 1, (mode, result)


@pytest.fixture
def live(served: Served) -> Live:
    """The running server as ``test_server_limits``' tests take it."""
    return Live(served.url, served.port, client_tls() if served.https else None)


@pytest.fixture
def port(served: Served) -> Target:
    """The running server as ``test_http_framing``'s tests take it."""
    return Target(served.port, client_tls() if served.https else None)


__all__ = [  # run here again, against serve --processes 2
    "test_5000_multipart_fields",
    "test_200000_headers_8_mb_url",
    "test_a_30_mb_header_line",
    "test_a_body_after_100_continue",
    "test_a_chunked_png_too_large",
    "test_a_chunked_upload_too_large",
    "test_a_get_with_expect_continue",
    "test_an_empty_expected_post",
    "test_an_expected_413",
    "test_conflicting_content_lengths",
    "test_urllib_reads_the_413",
]
