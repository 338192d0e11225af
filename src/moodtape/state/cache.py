"""The provider response cache in Redis, shared by every instance (the same methods as
:class:`moodtape.providers.http.TTLCache`, the in-process default).

Values are stored as JSON, never pickled: whoever can write to Redis must not be able to make
moodtape run code. A provider whose values are not plain JSON passes an ``encode``/``decode`` pair.

:meth:`RedisCache.claim` is the shared half of :func:`moodtape.providers.http.fetch_once`: a short
``SET NX PX`` under ``moodtape:claim:<name>:<digest>``, so that of the instances missing one entry
at the same moment only one calls the service.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from moodtape.metrics import count_lookup
from moodtape.state.connection import PREFIX, SharedStateError, redis_errors

if TYPE_CHECKING:
    import redis

    from moodtape.providers.http import Release

log = logging.getLogger(__name__)

V = TypeVar("V")

#: Delete the claim KEYS[1] only while it is still ARGV[1]'s: a holder slower than its claim must
#: not give back the claim another caller has taken since.
_RELEASE: Final[str] = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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

    def _key(self, key: Hashable, kind: str = "cache") -> str:
        # repr of the tuples of strings and numbers the providers use is stable across processes.
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        return f"{PREFIX}{kind}:{self.name}:{digest}"

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

    def claim(self, key: Hashable, seconds: float) -> Release | None:
        """The right to fill ``key`` for ``seconds``, shared by every instance; None while another holds it.

        Redis expires the claim by itself, so a holder that dies blocks nobody for longer.
        """
        claim_key = self._key(key, "claim")
        token = secrets.token_hex(8)
        with redis_errors(self._client):
            taken = self._client.set(claim_key, token, nx=True, px=max(1, round(seconds * 1000)))
        if not taken:
            return None

        def release() -> None:
            try:
                with redis_errors(self._client):
                    self._client.eval(_RELEASE, 1, claim_key, token)
            except SharedStateError as exc:  # the answer is in hand: the claim expires by itself
                log.info("shared cache: a claim was not given back (%s); it expires in %.0f s", exc, seconds)

        return release
