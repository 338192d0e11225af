"""The day's YouTube search count in Redis, so every instance spends from one allowance.

A drop-in :class:`moodtape.providers.budget.BudgetStore`: ``spend`` is one atomic ``INCR``, and the
key expires an hour after its UTC day ends, so nothing needs cleaning up and a new day starts at 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from moodtape.state.connection import PREFIX, redis_errors

if TYPE_CHECKING:
    import redis

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
    """Counts search calls per UTC day under ``moodtape:youtube-budget:<day>``."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def _key(day: str) -> str:
        return f"{PREFIX}youtube-budget:{day}"

    def used(self, day: str) -> int:
        with redis_errors(self._client):
            raw = self._client.get(self._key(day))
        return int(raw) if raw is not None else 0

    def spend(self, day: str) -> None:
        key = self._key(day)
        with redis_errors(self._client):
            pipe = self._client.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expireat(key, _expires_at(day))
            pipe.execute()

    def exhaust(self, day: str, limit: int) -> None:
        with redis_errors(self._client):
            self._client.eval(_EXHAUST, 1, self._key(day), limit, _expires_at(day))
