"""``MOODTAPE_TRUSTED_PROXIES``: whose ``X-Forwarded-For`` is used (web/proxies.py).

With ``MOODTAPE_PROXY_HOPS=1`` alone, a client that reached an instance's port directly wrote the
forwarded address itself: a new ``X-Forwarded-For`` on each request got 40 of 40 answered under a
limit of 5 a second. With the balancer's network listed, only its connections say whom they forward.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from contextlib import ExitStack

import pytest
from webtools import AppFactory, closed_by_server, running_server

from moodtape.errors import SettingsError
from moodtape.web import buffered_server, eviction
from moodtape.web.proxies import TrustedProxyFix

BALANCER = {"REMOTE_ADDR": "10.1.2.3"}
STRAY_CLIENT = {"REMOTE_ADDR": "203.0.113.5"}


def _statuses(make_app: AppFactory, peer: dict[str, str], **settings: str) -> list[int]:
    """One request a second allowed: three from ``peer``, each forwarding a new visitor's address."""
    client = make_app(MOODTAPE_RATE_LIMIT="1", MOODTAPE_PROXY_HOPS="1", **settings).test_client()
    return [
        client.get("/api/openapi.yaml", environ_base=peer, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(3)
    ]


@pytest.mark.usefixtures("still_limiter_clock")
def test_a_client_outside_the_trusted_proxies_cannot_pick_its_address(make_app: AppFactory) -> None:
    # Before, each request counted for the address it named: 200, 200, 200.
    assert _statuses(make_app, STRAY_CLIENT, MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8") == [200, 429, 429]


@pytest.mark.usefixtures("still_limiter_clock")
def test_the_trusted_proxy_forwards_each_visitors_own_address(make_app: AppFactory) -> None:
    assert _statuses(make_app, BALANCER, MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1") == [200, 200, 200]


@pytest.mark.usefixtures("still_limiter_clock")
def test_without_the_list_every_connection_is_trusted_as_before(make_app: AppFactory) -> None:
    assert _statuses(make_app, STRAY_CLIENT) == [200, 200, 200]


def test_a_stray_client_cannot_claim_to_be_local_for_the_metrics(make_app: AppFactory) -> None:
    client = make_app(MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8").test_client()
    assert (
        client.get("/metrics", environ_base=STRAY_CLIENT, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    )
    assert client.get("/metrics", environ_base=BALANCER, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_an_ipv4_proxy_seen_through_an_ipv6_socket_is_still_the_proxy() -> None:
    fix = TrustedProxyFix(lambda environ, start: [], 1, [ipaddress.ip_network("10.0.0.0/8")])
    assert fix.from_a_proxy("::ffff:10.1.2.3")
    assert not fix.from_a_proxy("::ffff:203.0.113.5")
    assert not fix.from_a_proxy("")  # a Unix socket's peer


def test_a_list_that_is_not_addresses_stops_the_server_at_start(make_app: AppFactory) -> None:
    with pytest.raises(SettingsError, match=r"MOODTAPE_TRUSTED_PROXIES='10\.0\.0\.300' is not allowed"):
        make_app(MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="10.0.0.300")


def test_a_proxy_listed_as_an_ipv4_mapped_network_is_still_the_proxy(make_app: AppFactory) -> None:
    """Peers are compared as IPv4, so ``::ffff:10.0.0.0/104`` was accepted and never matched."""
    client = make_app(MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="::ffff:10.0.0.0/104").test_client()
    for balancer in ("10.1.2.3", "::ffff:10.1.2.3"):
        forwarded = client.get(
            "/metrics", environ_base={"REMOTE_ADDR": balancer}, headers={"X-Forwarded-For": "127.0.0.1"}
        )
        assert forwarded.status_code == 200
    assert TrustedProxyFix(lambda environ, start: [], 1, [ipaddress.ip_network("::ffff:10.0.0.0/104")]).proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
    )


def test_a_list_of_proxies_without_hops_is_said_to_do_nothing(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="moodtape.web.app"):
        make_app(MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8")
    assert caplog.text.count("MOODTAPE_PROXY_HOPS is 0") == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="moodtape.web.app"):
        make_app(MOODTAPE_TRUSTED_PROXIES="10.0.0.0/8", MOODTAPE_PROXY_HOPS="1")
        make_app()
    assert "MOODTAPE_PROXY_HOPS is 0" not in caplog.text


def _idle_connections(port: int, source: str, count: int, stack: ExitStack) -> list[socket.socket]:
    made = []
    for _ in range(count):
        sock = stack.enter_context(socket.socket())
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        made.append(sock)
    return made


def test_behind_listed_proxies_only_a_stray_client_keeps_its_cap_of_connections(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``MOODTAPE_PROXY_HOPS`` > 0 every address was free of the cap (all connections were taken
    to come from the proxy), a client reaching the port directly too. (127.0.0.x stand in for
    addresses: loopback is exempt in production.)"""
    monkeypatch.setattr(buffered_server, "PER_CLIENT", 3, raising=False)
    monkeypatch.setattr(eviction, "EXEMPT_LOOPBACK", False, raising=False)
    monkeypatch.setattr(eviction, "GRACE_S", 0.2)
    app = make_app(MOODTAPE_PROXY_HOPS="1", MOODTAPE_TRUSTED_PROXIES="127.0.0.3")
    with running_server(app) as url, ExitStack() as stack:
        port = int(url.rsplit(":", 1)[1])
        stray = _idle_connections(port, "127.0.0.2", 3, stack)
        proxy = _idle_connections(port, "127.0.0.3", 3, stack)
        time.sleep(0.5)  # past the (shortened) grace: idle
        _idle_connections(port, "127.0.0.2", 1, stack)
        _idle_connections(port, "127.0.0.3", 1, stack)
        assert closed_by_server(stray[0], wait=5), "the stray address's idle connection made room"
        assert not closed_by_server(proxy[0], wait=1), "the proxy holds as many as it needs"
