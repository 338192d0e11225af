"""The day's YouTube search count in Redis, so every instance spends from one allowance.

A drop-in :class:`moodtape.providers.budget.BudgetStore`. Every change is one Lua script, so the
check and the count are atomic across instances (no overshoot when several race for the day's last
searches). The keys expire an hour after their UTC day ends, so nothing needs cleaning up and a new
day starts at 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from moodtape.state.connection import PREFIX, redis_errors

if TYPE_CHECKING:
    import redis

#: Count one call unless ``limit`` are counted already; 1 when counted, 0 when the budget is spent.
_RESERVE: Final[str] = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"""

#: Take one call back, never below 0, and only while the day's key still exists.
_RELEASE: Final[str] = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""

#: Raise the count to ``limit`` unless it is already higher, atomically, and set the expiry.
_EXHAUST: Final[str] = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"""


def _expires_at(day: str) -> int:
    """Unix time one hour after the end of UTC ``day`` (``YYYY-MM-DD``)."""
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return int((start + timedelta(days=1, hours=1)).timestamp())


class RedisBudgetStore:
    """Counts search calls per UTC day under ``moodtape:youtube-budget:<day>``; a closed day under ``…:closed``."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def _key(day: str) -> str:
        return f"{PREFIX}youtube-budget:{day}"

    def used(self, day: str) -> int:
        with redis_errors(self._client):
            raw = self._client.get(self._key(day))
        return int(raw) if raw is not None else 0

    def reserve(self, day: str, limit: int) -> bool:
        with redis_errors(self._client):
            return bool(self._client.eval(_RESERVE, 1, self._key(day), limit, _expires_at(day)))

    def release(self, day: str) -> None:
        with redis_errors(self._client):
            self._client.eval(_RELEASE, 1, self._key(day))

    def exhaust(self, day: str, limit: int) -> None:
        with redis_errors(self._client):
            self._client.eval(_EXHAUST, 1, self._key(day), limit, _expires_at(day))

    def close_day(self, day: str) -> None:
        with redis_errors(self._client):
            self._client.set(f"{self._key(day)}:closed", 1, exat=_expires_at(day))

    def closed(self, day: str) -> bool:
        with redis_errors(self._client):
            return bool(self._client.exists(f"{self._key(day)}:closed"))
