"""The day's YouTube search count in Redis, so every instance spends from one allowance.

A drop-in :class:`moodtape.providers.budget.BudgetStore`. Every change is one Lua script, so the
check and the count are atomic across instances (no overshoot when several race for the day's last
searches). The counts live in one hash, ``moodtape:youtube-budget`` (a field per quota day, and
``<day>:closed`` once YouTube said the quota is spent), that has **no expiry**: under the
documented ``volatile-lru`` policy a full Redis evicts only keys with an expiry, and a day's count
evicted at noon would let the budget be spent twice. Each change deletes the fields of days before
the caller's yesterday, so the hash holds at most three days, and a new day starts at 0. Keeping
yesterday matters at midnight: an instance whose clock runs ahead is already counting the new day
while the others still spend the old one, and deleting the old day's count there let them spend
it all again.

The day itself is named by Redis's clock (``TIME``, through :attr:`RedisBudgetStore.clock`), not
each instance's: an instance whose clock ran 2 h ahead began the next quota day 2 h before
YouTube's reset, with the whole allowance again. (Counts kept by earlier versions, one key per
day, are not read: on the day of the upgrade the budget starts again at 0, once.)
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from moodtape.state.connection import PREFIX, redis_errors
from moodtape.state.redis_clock import redis_clock

if TYPE_CHECKING:
    import redis

#: The hash holding the counts; one key, never expiring (see the module docstring).
BUDGET_KEY: Final[str] = f"{PREFIX}youtube-budget"

#: Delete every field of a day before ARGV[3], the caller's yesterday (run first by every changing
#: script). Days written YYYY-MM-DD sort as text, and "<day>:closed" sorts between its day and the
#: next, so neither an instance whose clock is a little behind at midnight nor one a little ahead
#: deletes the day another instance is counting.
_FORGET_OTHER_DAYS: Final[str] = """
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if field < ARGV[3] then redis.call('HDEL', KEYS[1], field) end
end
"""

#: Count one call unless ``limit`` (ARGV[2]) are counted already; 1 when counted, 0 when spent.
_RESERVE: Final[str] = (
    _FORGET_OTHER_DAYS
    + """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if used >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1
"""
)

#: Take one call back, never below 0.
_RELEASE: Final[str] = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if used > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 1
"""

#: Raise the count to ``limit`` (ARGV[2]) unless it is already higher, atomically.
_EXHAUST: Final[str] = (
    _FORGET_OTHER_DAYS
    + """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if used < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""
)

#: Mark the day closed (YouTube's own ``quotaExceeded``).
_CLOSE: Final[str] = (
    _FORGET_OTHER_DAYS
    + """
redis.call('HSET', KEYS[1], ARGV[1] .. ':closed', 1)
return 1
"""
)


class RedisBudgetStore:
    """Counts search calls per quota day in the hash :data:`BUDGET_KEY` (see the module docstring)."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        #: Seconds since the epoch by Redis's clock, which names the quota day for every instance.
        self.clock = redis_clock(client)

    def used(self, day: str) -> int:
        with redis_errors(self._client):
            raw = self._client.hget(BUDGET_KEY, day)
        return int(raw) if raw is not None else 0

    def reserve(self, day: str, limit: int) -> bool:
        with redis_errors(self._client):
            return bool(self._client.eval(_RESERVE, 1, BUDGET_KEY, day, limit, _day_before(day)))

    def release(self, day: str) -> None:
        with redis_errors(self._client):
            self._client.eval(_RELEASE, 1, BUDGET_KEY, day)

    def exhaust(self, day: str, limit: int) -> None:
        with redis_errors(self._client):
            self._client.eval(_EXHAUST, 1, BUDGET_KEY, day, limit, _day_before(day))

    def close_day(self, day: str) -> None:
        with redis_errors(self._client):
            self._client.eval(_CLOSE, 1, BUDGET_KEY, day, "", _day_before(day))

    def closed(self, day: str) -> bool:
        with redis_errors(self._client):
            return bool(self._client.hexists(BUDGET_KEY, f"{day}:closed"))


def _day_before(day: str) -> str:
    """The day before ``day`` (``YYYY-MM-DD``), in the same form."""
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
