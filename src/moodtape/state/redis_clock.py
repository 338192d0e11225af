"""Redis's clock, the one every instance sharing a Redis agrees on (theirs may be hours apart).

What several instances count or expire together in Redis by a time they compute themselves (a
quota day's name, a marker's expiry score) must use one clock: each instance's own, one 2 h ahead
began YouTube's next quota day 2 h early and ended "Delete everything" markers 2 h early. Scripts
that run in Redis read ``TIME`` themselves; Python reads it through :func:`redis_clock`, a
:class:`~moodtape.store.clock.SharedClock` (one ``TIME`` a minute, moved on by the steady clock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moodtape.state.connection import SharedStateError, redis_errors
from moodtape.store.clock import SharedClock

if TYPE_CHECKING:
    import redis


def redis_clock(client: redis.Redis) -> SharedClock:
    """Seconds since the epoch by ``client``'s Redis; while Redis cannot be asked, the last reading
    goes on (before any, this machine's clock)."""

    def read_epoch() -> float | None:
        try:
            with redis_errors(client):
                seconds, microseconds = client.time()
        except SharedStateError:
            return None
        return float(seconds) + float(microseconds) / 1e6

    return SharedClock(read_epoch)
