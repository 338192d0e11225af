"""When connections crowd the server, make room by closing the ones that do the least.

waitress keeps at most ``connection_limit`` connections open; at the limit it stops accepting, and
new clients wait in the listen backlog until one closes. Idle connections close only after
``channel_timeout`` (60 s), so one client that opened 250 sockets and sent nothing kept everyone
else out for a minute (``/healthz`` timed out). Servers such as nginx and HAProxy answer this by
reclaiming idle connections when they run short; this module does the same for our waitress server.

At the limit, before the server decides whether to accept, up to :data:`EVICT_FRACTION` of the
limit is marked to close, chosen in this order:

1. connections with nothing in progress (never sent a byte, or idle between keep-alive requests)
   that have been silent for at least :data:`GRACE_S`, the longest silent first — closing one
   loses nothing, a client simply connects again;
2. then connections whose answer is ready but whose client has read none of it for
   :data:`STALLED_READ_S`, the longest stalled first — 200 clients that asked for the 3.6 MB model
   and never read kept everyone else out for a minute; a real client reads, however slowly;
3. then connections still sending an unfinished request, the longest open first — a client that
   trickles its request for minutes is the attack; a real upload finishes in seconds;
4. last, connections opened less than :data:`GRACE_S` ago that have not spoken yet, the oldest
   first: the newest connection is usually a real client about to send its request.

Connections whose request a worker is answering, or whose answer is still being read, are never
chosen. Below the limit nothing changes.

The same goes for memory. Request bodies are held in memory until complete (photos are never
spooled to disk), so 60 connections that each sent 10 MB of an upload and then stalled held 610 MB.
Unfinished requests may together hold at most a budget of bytes (``body_budget``); over it, the
longest-open unfinished requests are closed until the rest fit.
"""

from __future__ import annotations

import time
from typing import Any, Final

#: Share of the connection limit freed at once when it is reached (so the next clients fit too).
EVICT_FRACTION: Final[float] = 0.1
#: Seconds a connection may stay silent before it counts as idle rather than about to speak.
GRACE_S: Final[float] = 2.0
#: Seconds a client may read nothing of its answer before, at the limit, it may be closed.
STALLED_READ_S: Final[float] = 10.0


def evict_when_full(server: Any, body_budget: int) -> None:
    """Make ``server`` (a waitress server from ``create_server``) reclaim connections at its limit,
    and close unfinished requests that together hold more than ``body_budget`` bytes."""
    decide = server.readable

    def readable() -> bool:
        # waitress asks this once per pass of its loop, before deciding whether to accept.
        channels = list(server.active_channels.values())
        victims = over_budget(channels, body_budget)
        if server.accepting and len(server._map) >= server.adj.connection_limit:
            victims += choose_victims(channels, server.adj.connection_limit, time.time())
        for channel in victims:
            channel.will_close = True  # the loop closes it on its next pass, as waitress's own timeout does
        return bool(decide())

    server.readable = readable


def buffered_bytes(channel: Any) -> int:
    """Bytes of an unfinished request that ``channel`` holds in memory (headers and body so far)."""
    request = channel.request
    if request is None or channel.will_close:
        return 0
    body = request.body_rcv
    return len(request.header_plus) + (len(body) if body is not None else 0)


def over_budget(channels: list[Any], budget: int) -> list[Any]:
    """Unfinished requests to close, the longest open first, until the bytes the rest hold fit ``budget``."""
    held = sum(buffered_bytes(channel) for channel in channels)
    if held <= budget:
        return []  # the usual case, on every turn of the loop: no sorting
    victims = []
    for channel in sorted(channels, key=lambda c: c.creation_time):
        if held <= budget:
            break
        size = buffered_bytes(channel)
        if size:
            victims.append(channel)
            held -= size
    return victims


def choose_victims(channels: list[Any], limit: int, now: float) -> list[Any]:
    """The connections to close, in the order above: at most :data:`EVICT_FRACTION` of ``limit``."""
    wanted = max(1, int(limit * EVICT_FRACTION))
    closing = sum(1 for channel in channels if channel.will_close)
    if closing >= wanted:
        return []  # already making room: wait for those to close
    open_ = [c for c in channels if not (c.will_close or c.requests)]
    # Refused and lingering (web/buffered_server.py): the answer is out, only the client's leftovers come.
    lingering = [c for c in open_ if getattr(c, "lingering", False)]
    open_ = [c for c in open_ if not getattr(c, "lingering", False)]
    # waitress moves last_activity whenever the client takes some of the answer.
    unread = [c for c in open_ if c.total_outbufs_len and c.last_activity <= now - STALLED_READ_S]
    stalled = sorted(unread, key=lambda c: c.last_activity)
    candidates = [c for c in open_ if not c.total_outbufs_len]
    silent = [c for c in candidates if c.request is None]
    idle = sorted((c for c in silent if c.last_activity <= now - GRACE_S), key=lambda c: c.last_activity)
    unfinished = sorted((c for c in candidates if c.request is not None), key=lambda c: c.creation_time)
    newcomers = sorted((c for c in silent if c.last_activity > now - GRACE_S), key=lambda c: c.creation_time)
    return (lingering + idle + stalled + unfinished + newcomers)[: wanted - closing]
