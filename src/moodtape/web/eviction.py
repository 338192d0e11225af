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
3. then connections reading their answer slower than :data:`MIN_RATE` bytes a second (measured
   once the answer has waited :data:`RATE_GRACE_S`, over at least :data:`RATE_SPAN_S` more), the
   slowest first — 200 clients reading the 11 MB ONNX Runtime file 512 bytes every 3 s kept
   everyone out for as long as they liked; a slow phone still reads kilobytes a second;
4. then connections still sending an unfinished request, the longest open first — a client that
   trickles its request for minutes is the attack; a real upload finishes in seconds;
5. last, connections opened less than :data:`GRACE_S` ago (and :data:`NEWCOMER_S` or more) that have
   not spoken yet, the oldest first: the newest connection is usually a real client about to send
   its request. A keep-alive connection whose last answer began less than :data:`GRACE_S` ago is
   none of these (its next request is on its way): when too few of the above make room, the oldest
   such are asked to close after their next answer instead. No connection whose next request waits
   in its socket, unread, is closed as a silent one (before, ``ab -k -c 198`` stopped at once at a
   reset: its next request was on its way).

Connections whose request a worker is answering, or whose answer is still being read fast enough,
are never chosen. Below the limit nothing changes.

Always, whatever the number of connections:

- **An answer that does not move is closed.** A connection whose unsent answer has not moved for
  :data:`OUTPUT_STALL_S` is closed, even with requests queued behind it (waitress's own idle timeout
  skips those). A client that pipelined large GETs and never read held a worker thread each
  forever (the worker waits for room in the connection's output), and four of them stopped every
  request; closing the connection wakes the worker (waitress's ``ClientDisconnected``).
- **One client address holds at most** :data:`PER_CLIENT` **connections** (an IPv6 client counts by
  its /64, as in :mod:`moodtape.web.owners`). A new connection past that closes the address's own
  least useful one (in the order above, newcomers excepted), or, when all of them are busy, is
  closed at once. A browser opens about 6 connections a page. Loopback clients are exempt (a proxy
  on the same machine), and so is everyone when ``MOODTAPE_PROXY_HOPS`` trusts a proxy (every
  connection then comes from it): the proxy must limit addresses itself (docs/deployment.md).

The same goes for memory. Request bodies are held in memory until complete (photos are never
spooled to disk), so 60 connections that each sent 10 MB of an upload and then stalled held 610 MB.
Unfinished requests may together hold at most a budget of bytes (``body_budget``); over it, the
longest-open unfinished requests let go of their bodies until the rest fit: the rest of each is read
and dropped as it comes, and its client, once it has sent it all, hears a 503 with ``Retry-After``
(:func:`shed`). Before session 38 they were closed at once, and a client still sending saw
"connection reset" instead of an answer; one whose headers are still arriving is closed still.

Two clocks: waitress stamps ``last_activity`` and ``creation_time`` with the wall clock, so they are
compared with ``now`` (``time.time()``); how answers move (:class:`OutputWatch`: the 20 s stall, the
reading rate) is timed by ``tick`` (``time.monotonic()``), which no clock adjustment moves. Timed by
the wall clock, an NTP step or a suspended VM's resume of 20 s or more closed every connection whose
answer had not moved since the last look, a second before.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final

from moodtape.web import owners

#: Share of the connection limit freed at once when it is reached (so the next clients fit too).
EVICT_FRACTION: Final[float] = 0.1
#: Seconds a connection may stay silent before it counts as idle rather than about to speak.
GRACE_S: Final[float] = 2.0
#: Seconds a newcomer is left to send its first bytes before, at the limit, it may be closed: a client
#: sends its request as it connects, and one closed before its bytes are read is reset, not refused.
NEWCOMER_S: Final[float] = 0.25
#: Seconds a client may read nothing of its answer before, at the limit, it may be closed.
STALLED_READ_S: Final[float] = 10.0
#: Seconds an unsent answer may stay where it is (not one byte taken by the client) before the
#: connection is closed, requests queued or not. Long enough for a phone that loses its signal in a
#: lift; short enough that threads held by clients that never read come back quickly.
OUTPUT_STALL_S: Final[float] = 20.0
#: Bytes a second below which, at the limit, a client reading its answer may be closed (Kestrel's
#: minimum response data rate).
MIN_RATE: Final[float] = 240.0
#: Seconds an answer waits before its rate is measured: the kernel's buffers take the first
#: hundreds of kilobytes at once, whatever the client reads.
RATE_GRACE_S: Final[float] = 10.0
#: Seconds, after the grace, before a rate counts: the client's window opens in bursts of kilobytes.
RATE_SPAN_S: Final[float] = 10.0
#: Connections one client address (an IPv6 /64) may hold at once.
PER_CLIENT: Final[int] = 32
#: Loopback clients are not counted against :data:`PER_CLIENT` (tests switch this off).
EXEMPT_LOOPBACK: Final[bool] = True
#: Seconds between two looks at how every connection's answer is moving.
SWEEP_S: Final[float] = 1.0


@dataclass
class OutputWatch:
    """How one connection's unsent answer has been leaving, since it began to wait."""

    waiting_since: float
    moved_at: float  # the last look that found more bytes sent (or when the wait began)
    sent_seen: int  # the channel's ``bytes_sent`` at that look
    measured_from: tuple[float, int] | None = None  # (time, bytes sent) once past the grace

    def rate(self, now: float, sent: int) -> float | None:
        """Bytes a second taken by the client since the grace; None before :data:`RATE_SPAN_S` of it."""
        if self.measured_from is None:
            return None
        start, sent_then = self.measured_from
        if now - start < RATE_SPAN_S:
            return None
        return (sent - sent_then) / (now - start)


def evict_when_full(
    server: Any, body_budget: int, per_client: int | None = PER_CLIENT, exempt: Callable[[str], bool] | None = None
) -> None:
    """Make ``server`` (a waitress server from ``create_server``) reclaim connections at its limit,
    close unfinished requests that together hold more than ``body_budget`` bytes, close answers
    that stopped moving, and hold each client address to ``per_client`` connections (None: no cap),
    those from a peer address ``exempt`` names (a trusted proxy's) excepted."""
    decide = server.readable
    accept = server.handle_accept
    next_sweep = 0.0

    def readable() -> bool:
        # waitress asks this once per pass of its loop, before deciding whether to accept.
        nonlocal next_sweep
        now, tick = time.time(), time.monotonic()
        channels = list(server.active_channels.values())
        victims = [channel for channel in over_budget(channels, body_budget) if not shed(channel)]
        if tick >= next_sweep:
            next_sweep = tick + SWEEP_S
            victims += watch_output(channels, tick)
        if server.accepting and len(server._map) >= server.adj.connection_limit:
            victims += choose_victims(channels, server.adj.connection_limit, now, tick=tick)
        for channel in victims:
            close_soon(channel)
        if victims:
            server.pull_trigger()  # they close on the next turn: let it come at once
        return bool(decide())

    def handle_accept() -> None:
        known = set(server.active_channels)
        accept()
        if per_client is None:
            return
        for fd, channel in list(server.active_channels.items()):
            if fd not in known and not (exempt is not None and exempt(_peer(channel.addr))):
                admit(channel, list(server.active_channels.values()), per_client, time.time(), tick=time.monotonic())

    server.readable = readable
    server.handle_accept = handle_accept


def _peer(addr: Any) -> str:
    """A channel's peer address as text ("" for a Unix socket's)."""
    return str(addr[0]) if isinstance(addr, tuple) and addr else ""


def shed(channel: Any) -> bool:
    """Have ``channel`` let go of its unfinished request's body and refuse it once it has come (503,
    web/buffered_server.py), rather than be closed under a client still sending; False when it cannot."""
    shed_unfinished = getattr(channel, "shed_unfinished", None)
    return bool(shed_unfinished()) if callable(shed_unfinished) else False


def close_soon(channel: Any) -> None:
    """Mark ``channel`` to close on the loop's next pass, even when its socket takes no more bytes.

    waitress closes a channel marked ``will_close`` when it next writes, and a client that reads
    nothing never lets it write: marked victims stayed open, and counted as "already closing".
    """
    channel.will_close = True
    channel.close_at_once = True


def client_of(addr: Any) -> Hashable:
    """The client a peer address counts as (:func:`moodtape.web.owners.client_of`: an address, or an
    IPv6 /64); None when not counted (a loopback client, or no address)."""
    if not isinstance(addr, tuple) or not addr:
        return None  # a Unix socket: no address to tell clients apart
    try:
        parsed = ipaddress.ip_address(str(addr[0]))
    except ValueError:
        return None
    if EXEMPT_LOOPBACK and (getattr(parsed, "ipv4_mapped", None) or parsed).is_loopback:
        return None
    return owners.client_of(str(addr[0]))


def admit(new: Any, channels: list[Any], cap: int, now: float, *, tick: float) -> None:
    """Keep ``new``'s client within ``cap`` connections: close its least useful other one, or ``new``.

    ``now`` is wall-clock time, ``tick`` monotonic (see the module docstring).
    """
    client = client_of(new.addr)
    new.client = client
    if client is None:
        return
    others = [c for c in channels if c is not new and not c.will_close and getattr(c, "client", None) == client]
    if len(others) < cap:
        return
    ranked = _first(_ranked(others, now, tick=tick), 1)
    if ranked:
        close_soon(ranked[0])
    else:
        (getattr(new, "close_now", None) or new.handle_close)()  # not polled yet: closed at once


def unsent(channel: Any) -> int:
    """Bytes of answers ``channel`` holds that the client has not taken yet."""
    measure = getattr(channel, "unsent", None)
    return int(measure()) if callable(measure) else int(channel.total_outbufs_len)


def watch_output(channels: list[Any], now: float) -> list[Any]:
    """Note how each connection's answer moves; the connections whose answer has not moved for
    :data:`OUTPUT_STALL_S` (to close, requests queued or not). ``now`` is monotonic time."""
    stuck = []
    for channel in channels:
        if channel.will_close:
            continue
        sent = getattr(channel, "bytes_sent", 0)
        watch: OutputWatch | None = getattr(channel, "output_watch", None)
        if not unsent(channel):
            channel.output_watch = None
        elif watch is None:
            channel.output_watch = OutputWatch(waiting_since=now, moved_at=now, sent_seen=sent)
        else:
            if sent != watch.sent_seen:
                watch.moved_at, watch.sent_seen = now, sent
            if watch.measured_from is None and now - watch.waiting_since >= RATE_GRACE_S:
                watch.measured_from = (now, sent)
            if now - watch.moved_at >= OUTPUT_STALL_S:
                stuck.append(channel)
    return stuck


def reading_rate(channel: Any, now: float) -> float | None:
    """How fast ``channel``'s client takes its answer (bytes a second); None when not measured yet.

    ``now`` is on :func:`watch_output`'s clock (monotonic)."""
    watch: OutputWatch | None = getattr(channel, "output_watch", None)
    return None if watch is None else watch.rate(now, getattr(channel, "bytes_sent", 0))


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


def _sent_a_request(channel: Any) -> bool:
    """Whether ``channel`` holds (part of) a request: blank lines alone are none (web/buffered_server.py
    skips them, and their parser's ``begun`` says so), so such a connection ranks as a silent one, not
    as an unfinished request that outlives every idle connection."""
    request = channel.request
    if request is None:
        return False
    begun = getattr(request, "begun", None)
    return True if begun is None else bool(begun())


def _silent(channel: Any) -> bool:
    """Whether ``channel`` waits for its client's next request: not closing or lingering, no request
    being answered or under way, no answer left to send (the connections that rank as silent)."""
    return not (
        channel.will_close
        or channel.requests
        or getattr(channel, "lingering", False)
        or channel.total_outbufs_len
        or _sent_a_request(channel)
    )


def _answered_lately(channel: Any, now: float) -> bool:
    """Whether ``channel`` started an answer less than :data:`GRACE_S` ago (``answered_at``, stamped by
    web/buffered_server.py as each answer's head is built): a keep-alive client's next request is then
    on its way. Not ``last_activity``, which every read moves: a client sending a blank line (skipped
    before a request) or a ``GET /healthz`` every 1.5 s looked like one answered a moment ago for
    ever, was never closed, and ~7 addresses held the server at its limit (new clients timed out)."""
    return bool(getattr(channel, "answered_at", 0.0) > now - GRACE_S)


def _request_waiting(channel: Any) -> bool:
    """Whether a silent ``channel`` has bytes in its socket that the loop has not read yet.

    The loop accepts a connection and reads it in two passes, and the limit is looked at in between:
    ab and wrk send their request with the connect (or the next one as the answer arrives), and a
    connection closed with bytes unread is reset, so the client loses its request instead of being
    answered. Asked only of the few about to be closed (one ``recv`` each).
    """
    sock = getattr(channel, "socket", None)
    if sock is None or not _silent(channel):
        return False  # the bytes a lingering or unfinished connection has waiting change nothing
    try:
        # waitress's sockets do not block: nothing waiting is a BlockingIOError, a closed peer b"".
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (OSError, ValueError):  # an ssl.SSLSocket refuses flags (ValueError): not known, so not waiting
        return False


def _first(ranked: list[Any], count: int) -> list[Any]:
    """The first ``count`` of ``ranked`` whose request is not already waiting to be read."""
    return list(itertools.islice((c for c in ranked if not _request_waiting(c)), max(count, 0)))


def _ranked(channels: list[Any], now: float, *, tick: float, newcomers: bool = False) -> list[Any]:
    """``channels`` that may be closed, in the order of the module's docstring (``now``: wall clock,
    for waitress's stamps; ``tick``: monotonic, for the reading rates)."""
    open_ = [c for c in channels if not (c.will_close or c.requests)]
    # Refused and lingering (web/buffered_server.py): the answer is out, only the client's leftovers come.
    lingering = [c for c in open_ if getattr(c, "lingering", False)]
    open_ = [c for c in open_ if not getattr(c, "lingering", False)]
    # waitress moves last_activity whenever the client takes some of the answer.
    unread = [c for c in open_ if c.total_outbufs_len and c.last_activity <= now - STALLED_READ_S]
    stalled = sorted(unread, key=lambda c: c.last_activity)
    unread_ids = {id(c) for c in unread}
    rates = {id(c): reading_rate(c, tick) for c in open_ if c.total_outbufs_len and id(c) not in unread_ids}
    slow = sorted(
        (c for c in open_ if (rate := rates.get(id(c))) is not None and rate < MIN_RATE),
        key=lambda c: rates[id(c)] or 0.0,
    )
    candidates = [c for c in open_ if not c.total_outbufs_len]
    silent = [c for c in candidates if not _sent_a_request(c)]
    idle = sorted((c for c in silent if c.last_activity <= now - GRACE_S), key=lambda c: c.last_activity)
    unfinished = sorted((c for c in candidates if _sent_a_request(c)), key=lambda c: c.creation_time)
    # A keep-alive connection answered a moment ago is about to send its next request (ab -k, wrk, a
    # browser): closing it loses that request or resets the client. It is asked to close after its next
    # answer instead (:func:`choose_victims`); one that only reads (blank lines) is no longer spared.
    fresh = sorted(
        (
            c
            for c in silent
            if c.last_activity > now - GRACE_S and c.creation_time <= now - NEWCOMER_S and not _answered_lately(c, now)
        ),
        key=lambda c: c.creation_time,
    )
    return lingering + idle + stalled + slow + unfinished + (fresh if newcomers else [])


def choose_victims(channels: list[Any], limit: int, now: float, *, tick: float) -> list[Any]:
    """The connections to close, in the order above: at most :data:`EVICT_FRACTION` of ``limit``
    (``now``: wall clock, ``tick``: monotonic; a test keeping one clock passes it twice)."""
    wanted = max(1, int(limit * EVICT_FRACTION))
    closing = sum(1 for channel in channels if channel.will_close)
    if closing >= wanted:
        return []  # already making room: wait for those to close
    chosen = _first(_ranked(channels, now, newcomers=True, tick=tick), wanted - closing)
    close_after_next_answer(channels, wanted - closing - len(chosen), now)
    return chosen


def close_after_next_answer(channels: list[Any], count: int, now: float) -> None:
    """Ask up to ``count`` keep-alive connections answered a moment ago (the oldest first) to close
    after their next answer, those already asked counted: room the closes above could not make.

    Spared for ever, they held the server at its limit: a client asking ``GET /healthz`` (exempt from
    the rate limit) every 1.5 s on each of its connections was never idle. Told ``Connection: close``
    with its next answer, a client (ab, wrk, a browser) connects again, behind whoever waits.
    """
    spared = [c for c in channels if _silent(c) and _answered_lately(c, now)]
    asked = [c for c in spared if getattr(c, "close_after_answer", False)]
    unasked = sorted((c for c in spared if not getattr(c, "close_after_answer", False)), key=lambda c: c.creation_time)
    for channel in unasked[: max(count - len(asked), 0)]:
        channel.close_after_answer = True
