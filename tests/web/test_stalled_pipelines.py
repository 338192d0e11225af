"""Clients that pipeline large answers and never read them, read them a trickle at a time, or open
too many connections from one address (found by an outside probe).

Before: four connections that pipelined GETs of the 11 MB ONNX Runtime file and read nothing held
all four worker threads forever (each waited for room in its connection's output); 200 connections
reading that file 512 bytes every 3 s kept everyone else out for as long as they liked.
Thresholds are shortened here so that each test takes seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from webtools import closed_by_server

from moodtape.web import buffered_server, eviction
from moodtape.web.buffered_server import BufferedServer

BIG = 4 * 1024 * 1024  # four pipelined answers are past waitress's 16 MiB high watermark


def small_app() -> Flask:
    app = Flask(__name__)
    payload = b"x" * BIG
    app.add_url_rule("/big", "big", lambda: (payload, 200, {"Content-Type": "application/octet-stream"}))
    app.add_url_rule("/small", "small", lambda: "ok")
    return app


@contextmanager
def serving(threads: int) -> Iterator[int]:
    server = BufferedServer(small_app(), "127.0.0.1", 0, threads=threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server.bound_port
    finally:
        server.stop()
        thread.join(timeout=10)


def connect(port: int, source: str = "127.0.0.1", small_window: bool = False) -> socket.socket:
    sock = socket.socket()
    if small_window:  # the kernel takes little of an answer the client does not read
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(15)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def get_small(port: int, source: str = "127.0.0.1", timeout: float = 15) -> bytes:
    """The status line of ``GET /small`` on a new connection from ``source``."""
    with connect(port, source) as sock:
        sock.settimeout(timeout)
        sock.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return sock.recv(100).split(b"\r\n", 1)[0]


def answer_begun(sock: socket.socket) -> bool:
    """Whether the server read ``sock``'s request and began its answer (waits up to the socket's timeout).

    What a test that needs a busy connection waits for: a fixed pause was a guess at how soon the
    server's loop reads the request, and a loaded machine can take longer (the connection then looks
    silent, not busy)."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except TimeoutError:
        return False


def never_reads(port: int, stack: ExitStack, pipelined: int, source: str = "127.0.0.1") -> socket.socket:
    sock = stack.enter_context(connect(port, source, small_window=True))
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n" * pipelined)
    return sock


# --- 1. pipelines that are never read ---


def test_pipelined_answers_never_read_do_not_hold_the_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most two requests of a connection are queued, so no worker waits for its output to drain."""
    monkeypatch.setattr(eviction, "OUTPUT_STALL_S", 600.0, raising=False)  # only the pipeline bound helps here
    with serving(threads=2) as port, ExitStack() as stack:
        for _ in range(2):
            never_reads(port, stack, pipelined=8)
        time.sleep(0.5)
        assert get_small(port, timeout=10) == b"HTTP/1.1 200 OK"


def test_an_answer_that_stops_moving_is_closed_even_with_requests_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    """Here the pipeline bound is lifted, so the one worker waits on the unread output until the
    connection is closed: before, waitress's idle timeout and the eviction both skipped it forever."""
    monkeypatch.setattr(buffered_server, "PIPELINE_DEPTH", 100, raising=False)
    monkeypatch.setattr(eviction, "OUTPUT_STALL_S", 1.0, raising=False)
    monkeypatch.setattr(eviction, "SWEEP_S", 0.2, raising=False)
    with serving(threads=1) as port, ExitStack() as stack:
        stuck = never_reads(port, stack, pipelined=8)
        time.sleep(0.5)
        assert get_small(port) == b"HTTP/1.1 200 OK"
        assert closed_by_server(stuck, wait=10)


def test_pipelined_requests_are_all_answered_in_order_to_a_client_that_reads() -> None:
    requests = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n" * 4
    requests += b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with serving(threads=2) as port, connect(port) as sock:
        sock.sendall(requests)
        answer = b""
        while chunk := sock.recv(1 << 20):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 8
    assert answer.endswith(b"ok") and answer.count(b"x" * 1000) >= 3 * BIG // 1000 - 3


def test_a_short_answer_waiting_behind_a_slow_pipelined_request_is_not_a_stall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A guard (a review feared it): a short answer ahead of a pipelined request slower than the
    stall time must reach the client, and the connection must not be closed as stalled."""
    monkeypatch.setattr(eviction, "OUTPUT_STALL_S", 1.0, raising=False)
    monkeypatch.setattr(eviction, "SWEEP_S", 0.2, raising=False)
    app = small_app()

    def slow() -> str:
        time.sleep(2.5)
        return "slow"

    app.add_url_rule("/slow", "slow", slow)
    server = BufferedServer(app, "127.0.0.1", 0, threads=2)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        with connect(server.bound_port) as sock:
            sock.sendall(
                b"GET /small HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(1 << 16):
                answer += chunk
    finally:
        server.stop()
        thread.join(timeout=10)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2 and answer.endswith(b"slow"), answer[-200:]


def test_an_answer_is_stuck_once_it_has_not_moved_for_the_stall_time() -> None:
    stall = eviction.OUTPUT_STALL_S
    unread = SimpleNamespace(will_close=False, bytes_sent=0, total_outbufs_len=BIG, output_watch=None)
    reading = SimpleNamespace(will_close=False, bytes_sent=0, total_outbufs_len=BIG, output_watch=None)
    done = SimpleNamespace(will_close=False, bytes_sent=0, total_outbufs_len=0, output_watch=None)
    channels: list[Any] = [unread, reading, done]
    for now in (0.0, stall / 2, stall - 0.5):
        reading.bytes_sent += 10_000
        assert eviction.watch_output(channels, now) == []
    reading.bytes_sent += 10_000
    assert eviction.watch_output(channels, stall + 0.1) == [unread]
    assert done.output_watch is None


# --- 2. slow readers, and connections per client address ---


def _watched(rate: float, now: float) -> SimpleNamespace:
    """A connection whose answer has been read at ``rate`` bytes a second since its measure began."""
    span = eviction.RATE_SPAN_S + 5
    watch = eviction.OutputWatch(waiting_since=0, moved_at=now, sent_seen=0, measured_from=(now - span, 0))
    return SimpleNamespace(
        name=f"reading-at-{rate:g}",
        creation_time=0,
        last_activity=now - 1,
        request=None,
        will_close=False,
        requests=[],
        total_outbufs_len=BIG,
        bytes_sent=int(rate * span),
        output_watch=watch,
    )


def test_at_the_limit_readers_below_the_minimum_rate_go_after_stalled_ones_and_before_unfinished() -> None:
    now = 1000.0
    stalled = SimpleNamespace(
        name="stalled", creation_time=0, last_activity=now - 60, request=None, will_close=False, requests=[]
    )
    stalled.total_outbufs_len = BIG
    unfinished = SimpleNamespace(
        name="unfinished", creation_time=1, last_activity=now, request=object(), will_close=False, requests=[]
    )
    unfinished.total_outbufs_len = 0
    channels = [unfinished, _watched(10_000, now), _watched(200, now), stalled, _watched(20, now)]
    chosen = [c.name for c in eviction.choose_victims(channels, limit=100, now=now, tick=now)]
    assert chosen == ["stalled", "reading-at-20", "reading-at-200", "unfinished"]


def test_slow_readers_at_the_connection_limit_make_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a reader taking a trickle of its answer was never chosen, so at the limit the newcomer
    (here the probe) was the one closed, for as long as the readers went on."""
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", 20)
    monkeypatch.setattr(eviction, "RATE_GRACE_S", 0.3, raising=False)
    monkeypatch.setattr(eviction, "RATE_SPAN_S", 0.5, raising=False)
    monkeypatch.setattr(eviction, "MIN_RATE", 500_000.0, raising=False)  # the trickle is about 2 KB/s
    monkeypatch.setattr(eviction, "SWEEP_S", 0.2, raising=False)
    stop = threading.Event()
    with serving(threads=2) as port, ExitStack() as stack:
        readers = [never_reads(port, stack, pipelined=1) for _ in range(20)]

        def trickle() -> None:
            while not stop.wait(0.25):
                for sock in readers:
                    try:
                        sock.setblocking(False)
                        sock.recv(512)
                    except (BlockingIOError, OSError):
                        pass

        reading = threading.Thread(target=trickle, daemon=True)
        reading.start()
        try:
            time.sleep(4)  # the loop turns about once a second when idle: a few turns to measure the rates
            for _ in range(3):
                assert get_small(port) == b"HTTP/1.1 200 OK"
        finally:
            stop.set()
            reading.join(timeout=5)


def test_one_client_address_holds_at_most_its_share_of_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap a new connection closes the address's idle one, or is closed itself; other
    addresses are not affected. (Loopback is exempt in production; 127.0.0.x stand in for clients.)"""
    monkeypatch.setattr(buffered_server, "PER_CLIENT", 3, raising=False)
    monkeypatch.setattr(eviction, "EXEMPT_LOOPBACK", False, raising=False)
    monkeypatch.setattr(eviction, "GRACE_S", 0.2)
    with serving(threads=2) as port, ExitStack() as stack:
        busy = [never_reads(port, stack, pipelined=1, source="127.0.0.2") for _ in range(3)]
        assert all(answer_begun(each) for each in busy)
        extra = stack.enter_context(connect(port, "127.0.0.2"))
        assert closed_by_server(extra, wait=5), "all three are busy: the fourth is closed at once"
        assert get_small(port, source="127.0.0.3") == b"HTTP/1.1 200 OK"

        idle = [stack.enter_context(connect(port, "127.0.0.4")) for _ in range(3)]
        time.sleep(0.5)  # past the (shortened) grace: idle
        assert get_small(port, source="127.0.0.4") == b"HTTP/1.1 200 OK"
        assert closed_by_server(idle[0], wait=5), "the address's longest idle connection made room"


@pytest.mark.parametrize(
    ("addr", "client"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        (("::ffff:203.0.113.7", 5000, 0, 0), "203.0.113.7"),
        (("2001:db8:1:2:aaaa::1", 5000, 0, 0), "2001:db8:1:2::/64"),
        (("127.0.0.1", 5000), None),
        (("::1", 5000, 0, 0), None),
        ("/run/moodtape.sock", None),
    ],
)
def test_connections_count_by_address_or_ipv6_64_and_loopback_is_exempt(addr: Any, client: str | None) -> None:
    assert eviction.client_of(addr) == client


def test_behind_trusted_proxies_there_is_no_cap_per_address(make_app: Any) -> None:
    assert BufferedServer(make_app(MOODTAPE_PROXY_HOPS="1"), threads=1)._proxy_hops() == 1
    assert BufferedServer(make_app(), threads=1)._proxy_hops() == 0
    assert BufferedServer(small_app(), threads=1)._proxy_hops() == 0


def test_a_tls_client_reading_steadily_is_not_taken_for_stalled(
    monkeypatch: pytest.MonkeyPatch, tls_files: tuple[Any, Any]
) -> None:
    """A reviewer: over TLS only newly encrypted pieces (64 KiB each) counted as progress, not the
    encrypted bytes the socket took meanwhile, so a client reading below about 3 KiB/s looked
    stalled and was closed, with no pressure on the server at all. Here: 1.5 s counts as a stall
    and the client takes 512 bytes every 20 ms (25 KiB/s; a 64 KiB piece lasts 2.6 s)."""
    from benchmarks.slow_clients_single import client_tls

    from moodtape.web.tls_channel import TlsChannel, tls_context

    monkeypatch.setattr(eviction, "OUTPUT_STALL_S", 1.5, raising=False)
    monkeypatch.setattr(eviction, "SWEEP_S", 0.2, raising=False)
    made = TlsChannel.__init__

    def small_send_buffer(self: Any, server: Any, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        made(self, server, sock, *args, **kwargs)
        # Then a small kernel send buffer: encrypted bytes wait in the channel, as over a slow link.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

    monkeypatch.setattr(TlsChannel, "__init__", small_send_buffer)
    server = BufferedServer(small_app(), "127.0.0.1", 0, threads=2, tls=tls_context(*tls_files))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        raw = connect(server.bound_port, small_window=True)
        with client_tls().wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received, started = 0, time.monotonic()
            while time.monotonic() - started < 8:
                chunk = sock.recv(512)
                assert chunk, f"closed by the server after {received} bytes, reading steadily"
                received += len(chunk)
                time.sleep(0.02)
    finally:
        server.stop()
        thread.join(timeout=10)
