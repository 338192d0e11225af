"""What the instances sharing one Redis are running, as each noted it at its last readiness poll.

Some things must be the same on every instance behind a balancer: the secret key (else a visit
that crosses instances starts afresh, web/secret_key.py) and the emotion model (else a calibration
made on one is started afresh on the other, and they take turns wiping it). Each instance notes a
fingerprint of its own in a sorted set, scored by the time; fingerprints not noted again for
:data:`NOTED_FOR_S` belong to instances that are gone (or a rollout that has finished).

The time is Redis's own (``TIME``), not the instance's: scored by each instance's clock, one whose
clock ran minutes behind had its fingerprint aged out at once by the others, so only it saw the
mismatch, and one running ahead kept a stopped instance's fingerprint alive for minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

#: A fingerprint not noted again for this long is forgotten.
NOTED_FOR_S: Final[float] = 120.0
#: The set where instances note the emotion model they run (its SHA-256, shortened).
MODELS_KEY: Final[str] = "moodtape:emotion-models"


#: Note ARGV[1] at Redis's time, forget what was noted more than ARGV[2] seconds ago, keep the set
#: for ARGV[3] seconds, and return what is left.
_NOTE_AND_LIST: Final[str] = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def note_and_list(client: redis.Redis, set_key: str, fingerprint: str) -> set[str]:
    """Note ``fingerprint`` in ``set_key`` and return every fingerprint noted there lately.

    One round trip (a script, so atomic); the set itself expires when no instance notes anything.
    """
    listed = client.eval(_NOTE_AND_LIST, 1, set_key, fingerprint, NOTED_FOR_S, int(NOTED_FOR_S) * 2)
    return {item.decode() if isinstance(item, bytes) else str(item) for item in listed}


def other_models(client: redis.Redis, model_id: str) -> int:
    """How many other emotion models the instances sharing ``client`` run (0: all run this one)."""
    return len(note_and_list(client, MODELS_KEY, model_id[:16]) - {model_id[:16]})
