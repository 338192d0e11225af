"""The provider response cache in Redis, shared by every instance (the same two methods as
:class:`moodtape.providers.http.TTLCache`, the in-process default).

Values are stored as JSON, never pickled: whoever can write to Redis must not be able to make
moodtape run code. A provider whose values are not plain JSON passes an ``encode``/``decode`` pair.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from moodtape.metrics import count_lookup
from moodtape.state.connection import PREFIX, redis_errors

if TYPE_CHECKING:
    import redis

V = TypeVar("V")


def _identity(value: Any) -> Any:
    return value


class RedisCache(Generic[V]):
    """Entries expire after ``ttl`` seconds (Redis does the expiry; there is no size bound here:
    configure Redis with ``maxmemory`` and an LRU policy, see docs/deployment.md).

    Args:
        client: the Redis client.
        name: a namespace (``spotify``, ``youtube``, ``deezer``…) so providers never share keys.
        ttl: default lifetime in seconds.
        encode, decode: value to JSON-able and back; identity by default.
    """

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        ttl: float,
        *,
        encode: Callable[[V], Any] = _identity,
        decode: Callable[[Any], V] = _identity,
    ) -> None:
        if ttl < 0:
            raise ValueError("ttl must be >= 0")
        self.ttl = ttl
        self.name = name
        self._client = client
        self._encode = encode
        self._decode = decode

    def _key(self, key: Hashable) -> str:
        # repr of the tuples of strings and numbers the providers use is stable across processes.
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return f"{PREFIX}cache:{self.name}:{digest}"

    def get(self, key: Hashable) -> V | None:
        """The value stored under ``key``, or None when absent or expired."""
        with redis_errors(self._client):
            raw = self._client.get(self._key(key))
        count_lookup(self.name, raw is not None)
        if raw is None:
            return None
        return self._decode(json.loads(raw))

    def set(self, key: Hashable, value: V, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default: the cache's own TTL); 0 stores nothing."""
        lifetime_ms = round((self.ttl if ttl is None else ttl) * 1000)
        if lifetime_ms <= 0:
            return
        data = json.dumps(self._encode(value), separators=(",", ":"))
        with redis_errors(self._client):
            self._client.set(self._key(key), data, px=lifetime_ms)
