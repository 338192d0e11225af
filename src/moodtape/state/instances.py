"""What the instances sharing one Redis are running, as each noted it at its last readiness poll.

Some things must be the same on every instance behind a balancer: the secret key (else a visit
that crosses instances starts afresh, web/secret_key.py) and the emotion model (else a calibration
made on one is started afresh on the other, and they take turns wiping it). Each instance notes a
fingerprint of its own in a sorted set, scored by the time; fingerprints not noted again for
:data:`NOTED_FOR_S` belong to instances that are gone (or a rollout that has finished).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

#: A fingerprint not noted again for this long is forgotten.
NOTED_FOR_S: Final[float] = 120.0
#: The set where instances note the emotion model they run (its SHA-256, shortened).
MODELS_KEY: Final[str] = "moodtape:emotion-models"


def note_and_list(client: redis.Redis, set_key: str, fingerprint: str, now: float) -> set[str]:
    """Note ``fingerprint`` in ``set_key`` and return every fingerprint noted there lately.

    One round trip (a transaction); the set itself expires when no instance notes anything.
    """
    pipe = client.pipeline(transaction=True)
    pipe.zadd(set_key, {fingerprint: now})
    pipe.zremrangebyscore(set_key, "-inf", now - NOTED_FOR_S)
    pipe.expire(set_key, int(NOTED_FOR_S) * 2)
    pipe.zrange(set_key, 0, -1)
    return {item.decode() if isinstance(item, bytes) else str(item) for item in pipe.execute()[-1]}


def other_models(client: redis.Redis, model_id: str, now: float) -> int:
    """How many other emotion models the instances sharing ``client`` run (0: all run this one)."""
    return len(note_and_list(client, MODELS_KEY, model_id[:16], now) - {model_id[:16]})
