"""Who wrote a piece of per-process state: the client's address, so that eviction can be fair.

The maps that hold visitors' calibrations, lists and webcam streams are bounded (web/lru.py). When
one is full, the entry to go is taken from the address holding the most, so one client making
thousands of sessions evicts its own entries and not everybody else's. The address is what the
rate limit counts by: the socket's peer, or the client a trusted proxy names
(``MOODTAPE_PROXY_HOPS``). An IPv6 client usually holds a whole /64 and can pick any address in
it, so IPv6 addresses count by their /64.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Hashable

from flask import current_app, has_request_context, request

#: The IPv6 prefix one client is assumed to control (a typical home or mobile allocation).
IPV6_CLIENT_PREFIX = 64


def client_owner() -> Hashable:
    """The current request's client, as an address or an IPv6 /64; None outside a request."""
    if not has_request_context():
        return None
    return client_of(request.remote_addr or "unknown")


def client_pseudonym() -> str | None:
    """The current request's client (as :func:`client_owner`) as a keyed digest; None outside a request.

    For what outlives the request: the store counts each client's history writes by it
    (store/write_budget.py) for a day or two, and must not hold addresses. A plain hash of an IPv4
    address is read back by hashing all 2³² of them; keyed with the app's secret key it is not.
    Every instance shares that key (sessions need it), so they count one client in one place.
    """
    if not has_request_context():
        return None
    key = current_app.secret_key or b""
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    client = client_of(request.remote_addr or "unknown")
    return hmac.new(secret, b"write-budget\x00" + client.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def client_of(address: str) -> str:
    """The client ``address`` belongs to: an IPv4 address itself, an IPv6 one's /64 (``2001:db8::/64``).

    The rate limit (web/ratelimit.py) counts by this too. Anything that is not an address is
    returned as it is.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(parsed.ipv4_mapped)
        # From the packed bytes: a scoped address (fe80::1%eth0) counts by its /64 too.
        return str(ipaddress.IPv6Network((parsed.packed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)
