"""A live service's pause in Redis, so that every instance with the same credentials keeps it.

A service that said "not so often" (a 429) or "not with this key" (refused credentials) said it
of the credentials that were sent: :class:`moodtape.providers.http.ServiceClient` pauses itself,
and with ``MOODTAPE_REDIS_URL`` also writes the pause here, under
``moodtape:pause:<service>:<fingerprint>`` (``moodtape:pause:deezer`` and
``moodtape:pause:itunes-search`` for the keyless services, whose limits count by address: every
instance sharing Redis is taken to share it, as the iTunes calls a minute already are) with the
pause's length as its expiry. The fingerprint
(:func:`credentials_fingerprint`) names the credentials without holding them, so the instances
that share a key share its pauses, while an instance holding another one (mid-rotation, while the
old instances still hold the revoked secret, or one with a typo) neither pauses the others nor is
paused by them. Before calling the service, an instance that is not paused itself reads that key
and takes over what is left of the pause, so the other instances stop calling too (a service asked
again during its ``Retry-After`` may lengthen it). A connection failure or timeout is not shared:
it may be one machine's network; nor is a refusal of the caller rather than the key
(:class:`~moodtape.errors.CallerRefusedError`: a YouTube key's IP address, website or app
restriction, a bare 403), which the workers of one machine share (``state/process_pauses.py``) but
Redis never holds: before, one instance outside the key's IP allow-list paused YouTube for every
instance for 5 minutes, again each time its own pause ended. An answer of "no pause" is kept
:data:`NO_PAUSE_KEPT_S` in the process, so a busy one does not ask Redis before every call: another
instance's pause may be seen that much late (a pause this process met is seen at once, by its own
breaker).

Redis names the time left (``PTTL``), so instances whose clocks disagree keep the same pause; a
pause written while a longer one is in force leaves the longer one (a 1 h ``Retry-After`` is not
cut to another instance's 10 s). A Redis that is down or slow loses nothing but the sharing: each
instance then keeps its own pauses, as without Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from moodtape.errors import CallerRefusedError, ProviderAuthError, ProviderError, QuotaExceededError
from moodtape.state.connection import PREFIX, SharedStateError, redis_errors

if TYPE_CHECKING:
    import redis

    from moodtape.providers.http import SharedPauses

log = logging.getLogger(__name__)

#: The pauses worth sharing, by the name stored: what the service said of the credentials (the
#: most particular kind first: :func:`shared_kind_name` takes the first that fits). Stored as a
#: name, not a class path, so nothing in Redis chooses what moodtape raises.
SHARED_KINDS: Final[dict[str, type[ProviderError]]] = {
    "quota": QuotaExceededError,
    "caller": CallerRefusedError,
    "auth": ProviderAuthError,
}
#: Kinds shared only by the processes of one machine (``state/process_pauses.py``), never through
#: Redis: the service refused this machine (its address, website or app), not the key everywhere.
MACHINE_KINDS: Final = frozenset({"caller"})
#: The kinds Redis holds, and the only ones read back from it.
_REDIS_KINDS: Final = {name: kind for name, kind in SHARED_KINDS.items() if name not in MACHINE_KINDS}


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


#: Seconds a process keeps Redis's answer "no pause" for a service before asking again.
NO_PAUSE_KEPT_S: Final = 1.0

#: Sets the pause only when none as long is in force: SET ... PX alone let a later, shorter pause
#: (another instance's 10 s) replace a longer one (a 1 h Retry-After). PTTL is -2 without the key
#: and -1 without an expiry, both shorter than any pause. Returns 1 when it wrote the pause.
_PUT_LONGER: Final = """
if redis.call('PTTL', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


def credentials_fingerprint(*parts: str) -> str:
    """A short, one-way name for credentials (``client_id``, ``secret``): instances with the same
    credentials share pauses, others don't, and neither Redis nor a log ever holds the secret."""
    return hashlib.blake2b(":".join(parts).encode(), digest_size=8).hexdigest()


class RedisPauses:
    """The pauses of live services, shared through ``client`` by every instance whose credentials
    have the same ``fingerprint`` (:func:`credentials_fingerprint`; "" shares with every instance).
    ``clock`` times how long "no pause" is believed (:data:`NO_PAUSE_KEPT_S`)."""

    def __init__(self, client: redis.Redis, fingerprint: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._fingerprint = fingerprint
        self._clock = clock
        #: Per service, until when "no pause" is believed without asking Redis again.
        self._none_until: dict[str, float] = {}

    def _key(self, service: str) -> str:
        key = f"{PREFIX}pause:{'-'.join(service.lower().split())}"
        return f"{key}:{self._fingerprint}" if self._fingerprint else key

    def get(self, service: str) -> SharedPause | None:
        """The pause of ``service`` in force now, or None (none, or Redis could not say: either is
        believed for :data:`NO_PAUSE_KEPT_S` before Redis is asked again)."""
        if self._clock() < self._none_until.get(service, 0.0):
            return None
        pause = self._read(service)
        if pause is None:
            self._none_until[service] = self._clock() + NO_PAUSE_KEPT_S
        return pause

    def _read(self, service: str) -> SharedPause | None:
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
            kind = _REDIS_KINDS[stored["kind"]]
            reason = str(stored["reason"])
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or an older shape: no pause is better than a wrong one
        return SharedPause(reason, kind, left_ms / 1000)

    def put(self, service: str, reason: str, kind: type[ProviderError], seconds: float) -> None:
        """Share a pause of ``seconds``, unless a longer one is in force (it stays); kinds not in
        :data:`SHARED_KINDS` stay this process's own, and those in :data:`MACHINE_KINDS` this
        machine's."""
        name = shared_kind_name(kind)
        lifetime_ms = round(seconds * 1000)
        if name is None or name in MACHINE_KINDS or lifetime_ms <= 0:
            return
        self._none_until.pop(service, None)  # this process's own pause: no "none" kept from before
        data = json.dumps({"kind": name, "reason": reason}, separators=(",", ":"))
        try:
            with redis_errors(self._client):
                self._client.eval(_PUT_LONGER, 1, self._key(service), data, lifetime_ms)
        except SharedStateError as exc:
            log.info("shared pauses: %s's pause kept by this process only (%s)", service, exc)


class LayeredPauses:
    """The workers' table (``near``) before Redis (``far``), for ``serve --processes N`` with Redis:
    a sibling's pause is seen at once, without asking Redis, and one read from Redis is copied into
    the table, so the siblings need not ask Redis for it either."""

    def __init__(self, near: SharedPauses, far: SharedPauses) -> None:
        self._near = near
        self._far = far

    def get(self, service: str) -> SharedPause | None:
        pause = self._near.get(service)
        if pause is None:
            pause = self._far.get(service)
            if pause is not None:
                self._near.put(service, pause.reason, pause.kind, pause.seconds)
        return pause

    def put(self, service: str, reason: str, kind: type[ProviderError], seconds: float) -> None:
        self._near.put(service, reason, kind, seconds)
        self._far.put(service, reason, kind, seconds)


def shared_pauses(near: SharedPauses | None, far: SharedPauses | None) -> SharedPauses | None:
    """Where a service's pauses are shared: the workers' table, Redis, both, or neither (None)."""
    if near is not None and far is not None:
        return LayeredPauses(near, far)
    return near if near is not None else far
