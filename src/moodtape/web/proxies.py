"""Which connections' ``X-Forwarded-*`` headers are used: ``MOODTAPE_PROXY_HOPS`` and ``MOODTAPE_TRUSTED_PROXIES``.

With ``MOODTAPE_PROXY_HOPS`` = N > 0, werkzeug's ``ProxyFix`` takes the client's address from the
last N entries of ``X-Forwarded-For`` (and the scheme from ``X-Forwarded-Proto``), but of every
connection: a client that reaches the instance's port directly (a firewall rule forgotten, a
second network interface) writes that entry itself and picks its own address, past the rate limit
and every per-address budget (measured: 40 of 40 requests answered under a limit of 5 a second).
gunicorn (``forwarded_allow_ips``) and uvicorn (``--forwarded-allow-ips``) trust those headers only
from the proxies' own addresses; ``MOODTAPE_TRUSTED_PROXIES`` does the same here: a connection from
any other address is taken as it came, its ``X-Forwarded-*`` headers unused. Empty (the default),
every connection's are used, as before.

Only the connection's own peer is checked: with ``MOODTAPE_PROXY_HOPS`` > 1, the nearest proxy
must be listed, and the entries it passes on from the proxies further out are taken as it wrote
them. Peers are compared as IPv4 where they are IPv4 addresses mapped into IPv6 (a dual-stack
socket's ``::ffff:10.1.2.3``), and so are listed networks written that way (``::ffff:10.0.0.0/104``
is ``10.0.0.0/8``): left as IPv6, such an entry never matched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxyFix:
    """``ProxyFix`` for ``hops`` proxies, applied only to connections from ``proxies`` (all when empty).

    X-Forwarded-Host and -Port are never used: the documented proxies pass the browser's Host on and
    set neither, so a client's own would come through (docs/deployment.md).
    """

    def __init__(self, app: WSGIApplication, hops: int, proxies: Iterable[Network] = ()) -> None:
        self.direct = app
        self.forwarded = ProxyFix(app, x_for=hops, x_proto=hops, x_host=0, x_port=0)
        self.proxies = trusted_networks(proxies)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.from_a_proxy(environ.get("REMOTE_ADDR", "")):
            return self.forwarded(environ, start_response)
        return self.direct(environ, start_response)

    def from_a_proxy(self, peer: str) -> bool:
        """Whether a connection from ``peer`` may say whom it forwards (any peer, with no list)."""
        return not self.proxies or from_one_of(peer, self.proxies)


def trusted_networks(networks: Iterable[Network]) -> tuple[Network, ...]:
    """``networks``, each IPv4 network written as IPv4-mapped IPv6 (``::ffff:10.0.0.0/104``) as the
    IPv4 one (``10.0.0.0/8``): peers are compared as IPv4 (see :func:`_address`)."""
    return tuple(_as_ipv4(network) for network in networks)


def from_one_of(peer: str, proxies: Iterable[Network]) -> bool:
    """Whether ``peer`` (a connection's address) lies in one of ``proxies`` (see :func:`trusted_networks`)."""
    address = _address(peer)
    return address is not None and any(address in network for network in proxies)


def _as_ipv4(network: Network) -> Network:
    mapped = network.network_address.ipv4_mapped if isinstance(network, ipaddress.IPv6Network) else None
    if mapped is None or network.prefixlen < 96:
        return network  # not a mapped IPv4 network (one under /96 reaches past the mapped block)
    return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")


def _address(peer: str) -> Any:
    """``peer`` as an address (an IPv4 address mapped into IPv6 as the IPv4 one), or None."""
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return None  # a Unix socket's peer, or none: not a listed proxy
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
