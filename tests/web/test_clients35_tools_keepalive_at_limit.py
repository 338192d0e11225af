"""Load tools that keep their connections alive at the connection limit (ab -k, wrk, h2load --h1).

`ab -k -n 3000 -c 198` against `moodtape serve` stopped at once with "apr_socket_recv: Connection reset
by peer" (`-c 197` passed, 0 failed): 198 connections and the server's own two sockets reach the
limit of 200, and the eviction (web/eviction.py) took a keep-alive connection answered a moment ago
for a newcomer that had not spoken yet, and closed it while the tool's next request was on its way.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from webtools import AppFactory, running_server

from moodtape.web import buffered_server
from moodtape.web.eviction import choose_victims

LIMIT = 12
ROUNDS = 6


def channel(name: str, *, created: float, active: float, **state: Any) -> SimpleNamespace:
    defaults = {"will_close": False, "requests": [], "total_outbufs_len": 0, "request": None}
    return SimpleNamespace(name=name, creation_time=created, last_activity=active, **defaults | state)


def test_a_connection_answered_a_moment_ago_is_no_newcomer() -> None:
    """Before: ranked last but chosen, as if it had never spoken, and so was a connection opened a
    moment ago; now the one waits its GRACE_S like any idle connection, the other NEWCOMER_S."""
    channels = [
        channel("keepalive-answered-just-now", created=1, active=99.9, answered_at=99.9),
        channel("just-connected", created=99.5, active=99.5),
        channel("keepalive-quiet-lately", created=1, active=90, answered_at=90),
        channel("connected-a-moment-ago", created=99.9, active=99.9),  # its request may be on its way
    ]
    chosen = [c.name for c in choose_victims(channels, limit=80, now=100, tick=100)]
    assert chosen == ["keepalive-quiet-lately", "just-connected"]


def _keep_alive_client(port: int) -> list[str]:
    """One ab -k connection: ROUNDS GETs one after the other on one socket, connecting again after an
    answer that does not say ``Connection: Keep-Alive`` (as ab does); the status of each, or what went
    wrong."""
    seen: list[str] = []
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        reader = conn.makefile("rb")
        for _ in range(ROUNDS):
            keep_alive = False
            try:
                conn.sendall(b"GET /healthz HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
                status = reader.readline()
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                    keep_alive = keep_alive or line.lower().replace(b" ", b"") == b"connection:keep-alive\r\n"
                reader.read(length)
            except OSError as error:  # a reset: what ab reports before it gives up
                seen.append(type(error).__name__)
                break
            seen.append(status.split(b" ")[1].decode() if status else "closed")
            if not status:
                break
            if not keep_alive:  # the server closes after this answer: a new connection for the next
                reader.close()
                conn.close()
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                reader = conn.makefile("rb")
    finally:
        conn.close()
    return seen


@pytest.mark.parametrize("clients", [LIMIT - 2, LIMIT + 4], ids=["at-the-limit", "past-it"])
def test_keep_alive_clients_at_the_connection_limit_lose_no_request(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, clients: int
) -> None:
    """Every request of every connection is answered, as by a plain waitress (those past the limit
    wait in the backlog until others close). Before: some connections were closed between two
    requests, so a request was lost ("closed", or a reset)."""
    monkeypatch.setattr(buffered_server, "CONNECTION_LIMIT", LIMIT)
    with running_server(make_app(MOODTAPE_RATE_LIMIT="100000")) as url:
        port = int(url.rsplit(":", 1)[1])
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda _: _keep_alive_client(port), range(clients)))
    assert results == [["200"] * ROUNDS] * clients
