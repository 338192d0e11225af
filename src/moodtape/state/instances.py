"""What the instances sharing one Redis are running: each notes it at its readiness polls (and,
for the secret key, at a heartbeat of its own, :func:`hold`).

Some things must be the same on every instance behind a balancer: the secret key (else a visit
that crosses instances starts afresh, web/secret_key.py), the emotion model (else a calibration
made on one does not apply on the other), the catalog (else a list, or a disliked song's
replacement, comes from whichever catalog answers) and the history limits (else the instance with
the shortest retention or the lowest cap deletes or trims everyone's history). Each instance notes a
fingerprint of its own in a sorted set, scored by the time (the catalog under the instance's id, as
it changes while the instance runs), at each readiness poll all three in one round trip
(:func:`note_instance`); fingerprints not noted again for :data:`NOTED_FOR_S` belong to instances
that are gone (or a rollout that has finished).

The time is Redis's own (``TIME``), not the instance's: scored by each instance's clock, one whose
clock ran minutes behind had its fingerprint aged out at once by the others, so only it saw the
mismatch, and one running ahead kept a stopped instance's fingerprint alive for minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import redis

#: A fingerprint not noted again for this long is forgotten.
NOTED_FOR_S: Final[float] = 120.0
#: The set where instances note the emotion model they run (its SHA-256, shortened).
MODELS_KEY: Final[str] = "moodtape:emotion-models"


#: The hash where instances note the catalog they recommend from (instance id → a digest of its
#: items), beside each instance's last note in :data:`CATALOG_BEATS_KEY`. Per instance, unlike the
#: sets above: a catalog changes while its instance runs (``moodtape catalog import``), and noted as
#: a value alone, the instance's own old digest stayed "another catalog" for two minutes.
CATALOGS_KEY: Final[str] = "moodtape:catalogs"
CATALOG_BEATS_KEY: Final[str] = "moodtape:catalog-beats"
#: The set where instances note the history limits they apply, as words ("30 days, 50 lists"): not
#: secret, and the message that names a disagreement can then say which values are in use.
HISTORY_LIMITS_KEY: Final[str] = "moodtape:history-limits"

#: The Lua that notes, at Redis's time ``now``, that instance ``{name}`` holds ``{value}`` in the
#: hash ``{holders}``, beside its beat in the sorted set ``{beats}``; forgets the instances not noted
#: since ``oldest`` (or whose beat is missing) and keeps both keys ``{keep}`` seconds. One snippet for
#: the catalogs (:data:`_NOTE_INSTANCE`) and the holders of :func:`hold`, so the two cannot drift.
_NOTE_HOLDER: Final[str] = """
redis.call('HSET', {holders}, {name}, {value})
redis.call('ZADD', {beats}, now, {name})
for _, held_by in ipairs(redis.call('HKEYS', {holders})) do
  local beat = redis.call('ZSCORE', {beats}, held_by)
  if not beat or tonumber(beat) < oldest then
    redis.call('HDEL', {holders}, held_by)
    redis.call('ZREM', {beats}, held_by)
  end
end
redis.call('ZREMRANGEBYSCORE', {beats}, '-inf', oldest)
redis.call('EXPIRE', {holders}, {keep})
redis.call('EXPIRE', {beats}, {keep})
"""

#: Redis's time, in seconds, as ``now`` (a script's first lines).
_NOW: Final[str] = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

#: Note at Redis's time the model ARGV[3] in the set KEYS[1] and the history limits ARGV[4] in the
#: set KEYS[2] (each skipped when empty), and that instance ARGV[5] recommends from catalog ARGV[6]
#: (skipped when empty) in the hash KEYS[3] beside its note in KEYS[4]; forget what was noted more
#: than ARGV[1] seconds ago, keep all four for ARGV[2] seconds, and return what each holds.
_NOTE_INSTANCE: Final[str] = (
    _NOW
    + """
local oldest = now - tonumber(ARGV[1])
local function note(key, value)
  if value == '' then return {} end
  redis.call('ZADD', key, now, value)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', oldest)
  redis.call('EXPIRE', key, ARGV[2])
  return redis.call('ZRANGE', key, 0, -1)
end
local models = note(KEYS[1], ARGV[3])
local limits = note(KEYS[2], ARGV[4])
local catalogs = {}
if ARGV[6] ~= '' then"""
    + _NOTE_HOLDER.format(holders="KEYS[3]", beats="KEYS[4]", name="ARGV[5]", value="ARGV[6]", keep="ARGV[2]")
    + """catalogs = redis.call('HVALS', KEYS[3])
end
return {models, limits, catalogs}
"""
)


@dataclass(frozen=True)
class Others:
    """What the other instances sharing one Redis run, where it differs from this one's."""

    #: How many other emotion models are in use.
    models: int
    #: How many other catalogs are in use.
    catalogs: int
    #: The other history limits in use, as words.
    history_limits: set[str]


def note_instance(
    client: redis.Redis, instance_id: str, *, model_id: str | None, history_limits: str, catalog: str | None
) -> Others:
    """Note this instance's model, history limits and catalog, and say what the others run instead.

    One round trip for the three (a script, so atomic): a readiness poll runs within 1 s, and one
    round trip more per fingerprint put a Redis 190 ms away past it. ``model_id`` is None while the
    model loads, ``catalog`` None for a provider whose items cannot be listed: neither is noted.
    The catalog is noted per instance (``instance_id``), so its new digest after an import replaces
    its old one.
    """
    model = model_id[:16] if model_id else ""
    listed = client.eval(
        _NOTE_INSTANCE,
        4,
        MODELS_KEY,
        HISTORY_LIMITS_KEY,
        CATALOGS_KEY,
        CATALOG_BEATS_KEY,
        NOTED_FOR_S,
        int(NOTED_FOR_S) * 2,
        model,
        history_limits,
        instance_id,
        catalog or "",
    )
    models, limits, catalogs = ({_text(item) for item in part} for part in listed)
    return Others(
        models=len(models - {model}) if model else 0,
        catalogs=len(catalogs - {catalog}) if catalog else 0,
        history_limits=limits - {history_limits},
    )


def _text(item: object) -> str:
    return item.decode() if isinstance(item, bytes) else str(item)


#: An instance's holder is forgotten when its heartbeat has not noted it for this long.
HELD_FOR_S: Final[float] = 20.0
#: How often an instance's heartbeat notes its holder (web/secret_key.py).
HEARTBEAT_S: Final[float] = 5.0

#: Note instance ARGV[1] as holding ARGV[2] in the hash KEYS[1], beside its beat in the sorted set
#: KEYS[2] at Redis's time; forget the instances not noted for ARGV[3] seconds (or whose beat is
#: missing), keep both for ARGV[4] seconds, and return what every live instance holds.
_HOLD: Final[str] = (
    _NOW
    + """
local oldest = now - tonumber(ARGV[3])"""
    + _NOTE_HOLDER.format(holders="KEYS[1]", beats="KEYS[2]", name="ARGV[1]", value="ARGV[2]", keep="ARGV[4]")
    + """return redis.call('HVALS', KEYS[1])
"""
)


def hold(client: redis.Redis, holders_key: str, beats_key: str, instance_id: str, value: str) -> list[str]:
    """Note that instance ``instance_id`` holds ``value``; return what each live instance holds (this one too).

    Instances, not values, are counted: three instances on one key are three. An instance is live
    while it was noted in the last :data:`HELD_FOR_S` (its heartbeat notes it every
    :data:`HEARTBEAT_S`), by Redis's clock. One round trip (a script, so atomic); after Redis lost
    its data, the next beat of each instance notes it again.
    """
    listed = client.eval(_HOLD, 2, holders_key, beats_key, instance_id, value, HELD_FOR_S, int(HELD_FOR_S) * 2)
    return [item.decode() if isinstance(item, bytes) else str(item) for item in listed]


def release(client: redis.Redis, holders_key: str, beats_key: str, instance_id: str) -> None:
    """Forget instance ``instance_id`` now (it drains before a stop), not :data:`HELD_FOR_S` later."""
    pipe = client.pipeline(transaction=True)
    pipe.hdel(holders_key, instance_id)
    pipe.zrem(beats_key, instance_id)
    pipe.execute()
