"""A live service's pause in Redis, so that every instance keeps it, not only the one that met it.

A service that said "not so often" (a 429) or "not with this key" (refused credentials) said it
of moodtape's key, which every instance uses: :class:`moodtape.providers.http.ServiceClient`
pauses itself, and with ``MOODTAPE_REDIS_URL`` also writes the pause here, under
``moodtape:pause:<service>`` with the pause's length as its expiry. Before calling the service,
an instance that is not paused itself reads that key and takes over what is left of the pause,
so the other instances stop calling too (a service asked again during its ``Retry-After`` may
lengthen it). A connection failure or timeout is not shared: it may be one machine's network.

Redis names the time left (``PTTL``), so instances whose clocks disagree keep the same pause. A
Redis that is down or slow loses nothing but the sharing: each instance then keeps its own
pauses, as without Redis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from moodtape.errors import ProviderAuthError, ProviderError, QuotaExceededError
from moodtape.state.connection import PREFIX, SharedStateError, redis_errors

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

#: The pauses worth sharing, by the name stored in Redis: what the service said of moodtape's key.
#: Stored as a name, not a class path, so nothing in Redis chooses what moodtape raises.
SHARED_KINDS: Final[dict[str, type[ProviderError]]] = {"quota": QuotaExceededError, "auth": ProviderAuthError}


@dataclass(frozen=True)
class SharedPause:
    """A pause another instance (or this one) wrote: the visitor's ``reason``, the error ``kind``
    to raise meanwhile, and the ``seconds`` left of it."""

    reason: str
    kind: type[ProviderError]
    seconds: float


def shared_kind_name(kind: type[ProviderError]) -> str | None:
    """The name under which a pause of ``kind`` is shared, or None when it stays this process's own."""
    for name, base in SHARED_KINDS.items():
        if issubclass(kind, base):
            return name
    return None


class RedisPauses:
    """The pauses of live services, shared by every instance through ``client``."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @staticmethod
    def _key(service: str) -> str:
        return f"{PREFIX}pause:{service.lower()}"

    def get(self, service: str) -> SharedPause | None:
        """The pause of ``service`` in force now, or None (none, or Redis could not say)."""
        try:
            with redis_errors(self._client):
                pipe = self._client.pipeline(transaction=True)
                pipe.get(self._key(service))
                pipe.pttl(self._key(service))
                raw, left_ms = pipe.execute()
        except SharedStateError as exc:
            log.debug("shared pauses: not read (%s)", exc)
            return None
        if raw is None or not isinstance(left_ms, int) or left_ms <= 0:
            return None
        try:
            stored = json.loads(raw)
            kind = SHARED_KINDS[stored["kind"]]
            reason = str(stored["reason"])
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or an older shape: no pause is better than a wrong one
        return SharedPause(reason, kind, left_ms / 1000)

    def put(self, service: str, reason: str, kind: type[ProviderError], seconds: float) -> None:
        """Share a pause of ``seconds``; kinds not in :data:`SHARED_KINDS` stay this process's own."""
        name = shared_kind_name(kind)
        lifetime_ms = round(seconds * 1000)
        if name is None or lifetime_ms <= 0:
            return
        data = json.dumps({"kind": name, "reason": reason}, separators=(",", ":"))
        try:
            with redis_errors(self._client):
                self._client.set(self._key(service), data, px=lifetime_ms)
        except SharedStateError as exc:
            log.info("shared pauses: %s's pause kept by this process only (%s)", service, exc)
