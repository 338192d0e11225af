"""The Host header (web/hosts.py), the rate limit's IPv6 clients and /readyz's parameters.

A hostile-client probe found: HTTP/1.1 requests without Host, with two, or with ``Host: a b`` got
200 (RFC 9112 §3.2: 400); ``GET /api//config`` with ``Host: evil.example`` got an HTML 308 to
``http://evil.example/api/config``; a DNS-rebinding page (any Host, from 127.0.0.1) read the
loopback-only ``/metrics``; 40 addresses of one IPv6 /64 got 40 × 200 under a limit of 5; and
``/readyz?strict=1&strict=0`` answered by the first value.
"""

from __future__ import annotations

import socket

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webtools import AppFactory, running_server


def _raw(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while data := connection.recv(1 << 16):
            answer += data
    return answer


@pytest.mark.parametrize(
    "headers",
    [b"", b"Host: a\r\nHost: b\r\n", b"Host: a b\r\n", b"Host: a,b\r\n", b"Host: x/y\r\n", b"Host: [::1\r\n"],
    ids=["none", "two", "space", "comma", "slash", "bracket"],
)
def test_a_bad_host_is_a_json_400(app: Flask, headers: bytes) -> None:
    with running_server(app) as base:
        answer = _raw(base, b"GET /healthz HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b'"code":"bad_request"' in answer.replace(b" ", b"")


@pytest.mark.parametrize(
    "request_head",
    [
        b"GET /healthz HTTP/1.1\r\nHost: localhost:5000\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: [::1]:8443\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: moodtape.example.org\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: \r\n",  # empty: RFC 9112's form for a target without authority
        b"GET /healthz HTTP/1.0\r\n",  # HTTP/1.0 needs no Host
    ],
)
def test_good_hosts_pass(app: Flask, request_head: bytes) -> None:
    with running_server(app) as base:
        answer = _raw(base, request_head + b"Connection: close\r\n\r\n")
    assert answer.split(b"\r\n")[0].endswith(b"200 OK"), answer[:200]


@pytest.mark.parametrize(
    ("path", "moved_to"), [("/api//config", "/api/config"), ("/api//config?kind=x", "/api/config?kind=x")]
)
def test_redirects_name_no_host(client: FlaskClient, path: str, moved_to: str) -> None:
    reply = client.get(path, headers={"Host": "evil.example"})
    assert reply.status_code == 308
    assert reply.headers["Location"] == moved_to, "a relative Location: the client's own address, not Host"
    assert reply.get_json()["error"]["code"] == "moved"


@pytest.mark.parametrize(
    ("target", "moved_to"),
    [(b"/api//config", b"/api/config"), (b"/static//style.css", b"/static/style.css"), (b"///evil.example//x", None)],
)
def test_a_redirect_never_names_another_host_on_the_wire(app: Flask, target: bytes, moved_to: bytes | None) -> None:
    """The probe's request on a real server; and never a ``Location: //elsewhere``."""
    with running_server(app) as base:
        answer = _raw(base, b"GET " + target + b" HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    head = answer.split(b"\r\n\r\n")[0].split(b"\r\n")
    locations = [line.split(b":", 1)[1].strip() for line in head if line.lower().startswith(b"location:")]
    assert b"evil.example" not in b"".join(locations), head
    if moved_to is not None:
        assert head[0].startswith(b"HTTP/1.1 308") and locations == [moved_to], head


def test_static_redirects_name_no_host_either(client: FlaskClient) -> None:
    reply = client.get("/static//style.css", headers={"Host": "evil.example"})
    assert reply.status_code == 308 and reply.headers["Location"] == "/static/style.css"
    assert reply.mimetype == "application/json"


def test_metrics_need_a_loopback_host_as_well_as_a_loopback_client(make_app: AppFactory) -> None:
    """A DNS-rebinding page runs on this machine (loopback) but sends its own name as Host."""
    client = make_app().test_client()
    for host in ("localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "127.0.0.2"):
        assert client.get("/metrics", headers={"Host": host}).status_code == 200, host
    for host in ("rebind.attacker.example", "rebind.attacker.example:5000", "localhost.attacker.example"):
        assert client.get("/metrics", headers={"Host": host}).status_code == 404, host
    # The token still opens it from anywhere, whatever the Host; "open" stays open.
    tokened = make_app(MOODTAPE_METRICS_TOKEN="s3cret-metrics-token").test_client()
    bearer = {"Authorization": "Bearer s3cret-metrics-token", "Host": "metrics.example.org"}
    assert tokened.get("/metrics", headers=bearer, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    opened = make_app(MOODTAPE_METRICS="open").test_client()
    assert opened.get("/metrics", headers={"Host": "metrics.example.org"}).status_code == 200


def test_loopback_host_names() -> None:
    from moodtape.web.hosts import loopback_host

    assert all(map(loopback_host, ["localhost", "LOCALHOST.", "127.0.0.1:80", "[::1]", "[::1]:5000", "127.1.2.3"]))
    assert not any(map(loopback_host, ["", "example.org", "[::2]:5000", "10.0.0.1", "localhost.evil", "[::1"]))


@pytest.mark.usefixtures("still_limiter_clock")  # 40 requests may take over a second on a busy machine
@pytest.mark.parametrize("hops", ["0", "1"])
def test_the_rate_limit_counts_an_ipv6_client_by_its_64(make_app: AppFactory, hops: str) -> None:
    client = make_app(MOODTAPE_RATE_LIMIT="5", MOODTAPE_PROXY_HOPS=hops).test_client()

    def get(address: str) -> int:
        if hops == "1":  # the proxy names the client; the socket's peer is the proxy
            reply = client.get("/api/config", headers={"X-Forwarded-For": address})
        else:
            reply = client.get("/api/config", environ_base={"REMOTE_ADDR": address})
        return int(reply.status_code)

    rotating = [get(f"2001:db8:1:2::{i:x}") for i in range(2, 42)]
    assert rotating.count(200) == 5 and rotating.count(429) == 35, "40 addresses of one /64 are one client"
    assert get("2001:db8:1:3::1") == 200, "the next /64 is another client"
    assert [get("203.0.113.7") for _ in range(6)].count(200) == 5, "IPv4 as before: each address its own"
    assert get("203.0.113.8") == 200
    assert get("::ffff:203.0.113.7") == 429, "an IPv4-mapped address is that IPv4 client"


@pytest.mark.parametrize(
    "query", ["strict=1&strict=0", "strict=true&strict=true", "strict=", "stict=true", "strict=true&verbose=1"]
)
def test_readyz_refuses_repeated_empty_and_unknown_parameters(client: FlaskClient, query: str) -> None:
    reply = client.get(f"/readyz?{query}")
    assert reply.status_code == 400, query
    assert reply.get_json()["error"]["code"] == "bad_request"


def test_readyz_still_takes_strict_once(client: FlaskClient) -> None:
    for query in ("", "?strict=true", "?strict=0"):
        assert client.get(f"/readyz{query}").status_code == 200, query
