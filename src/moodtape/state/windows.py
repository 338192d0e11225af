"""A sliding window of calls in Redis, shared by every instance: "at most N calls in any S seconds".

iTunes Search allows about 20 calls a minute from one address. Counted in each process, two
instances (or ``serve --processes 2`` behind one address) asked twice that. The window lives in
one sorted set, ``moodtape:window:<name>``: a member per call, scored by Redis's clock (the one
clock every instance shares; theirs may disagree by minutes), trimmed and checked in one script,
so two instances never both take the last call. The key expires with the window.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Final

from moodtape.state.connection import PREFIX, redis_errors

if TYPE_CHECKING:
    import redis

#: Take one call in the window KEYS[1] of ARGV[2] ms unless ARGV[1] are taken already; 1 or 0.
#: Times are Redis's, in microseconds. (Redis before 5 needs effects replication for TIME.)
_TAKE: Final[str] = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local span = tonumber(ARGV[2]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RedisCallWindow:
    """Calls to one service in the last ``seconds``, counted once for the whole cluster.

    Args:
        client: the Redis client.
        name: the service (``itunes``); the key is ``moodtape:window:<name>``.
    """

    def __init__(self, client: redis.Redis, name: str) -> None:
        self._client = client
        self.key = f"{PREFIX}window:{name}"

    def take(self, limit: int, seconds: float) -> bool:
        """Count one call and return True, unless ``limit`` calls were made in the last ``seconds``.

        Raises:
            SharedStateError: Redis is not answering (the caller may count in its process instead).
        """
        with redis_errors(self._client):
            taken = self._client.eval(_TAKE, 1, self.key, limit, max(1, round(seconds * 1000)), secrets.token_hex(8))
        return bool(taken)
