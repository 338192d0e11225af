"""Each session's personal calibration in Redis, so every instance applies it.

A :class:`moodtape.web.profiles.ProfileStore` under ``moodtape:profile:<session>``: the JSON of
:meth:`Calibration.to_dict` (running sums the model read, never a pixel; 20.6 KB for one model
with 512 features, 61.6 KB with two other models' examples kept beside during a rollout, which are
dropped once no instance runs their model), forgotten after
:data:`~moodtape.web.profiles.PROFILE_IDLE_SECONDS` unused. Reading refits the profile from those
sums with this instance's analyzer, which also checks it against the model. Each update drops the
examples of other models no instance noted lately (``moodtape:emotion-models``,
state/instances.py): a finished rollout's old model stops costing every frame its read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moodtape.state.connection import PREFIX, redis_errors
from moodtape.state.instances import MODELS_KEY
from moodtape.web.profiles import PROFILE_IDLE_SECONDS, Calibration

if TYPE_CHECKING:
    import redis

    from moodtape.vision.pipeline import Analyzer


class RedisProfileStore:
    """:class:`~moodtape.web.profiles.ProfileStore` in Redis (see the module docstring).

    Args:
        client: the Redis client.
        analyzer: gives this instance's analyzer (the profile is refitted with it on reading).
    """

    def __init__(
        self, client: redis.Redis, analyzer: Callable[[], Analyzer], idle_seconds: float = PROFILE_IDLE_SECONDS
    ) -> None:
        self._client = client
        self._analyzer = analyzer
        self._idle_ms = max(1, round(idle_seconds * 1000))

    @staticmethod
    def _key(session_id: str) -> str:
        return f"{PREFIX}profile:{session_id}"

    def get(self, session_id: str) -> Calibration | None:
        key = self._key(session_id)
        with redis_errors(self._client):
            raw = self._client.get(key)
            if raw is not None:
                self._client.pexpire(key, self._idle_ms)  # in use: keep it another idle period
        return None if raw is None else Calibration.from_text(raw, self._analyzer())

    def update(self, session_id: str, change: Callable[[Calibration | None], Calibration]) -> Calibration:
        key = self._key(session_id)
        analyzer = self._analyzer()
        result: list[Calibration] = []

        def attempt(pipe: Any) -> None:  # WATCH key, read, MULTI, write: run again if another instance wrote
            raw = pipe.get(key)
            live = {name.decode() if isinstance(name, bytes) else str(name) for name in pipe.zrange(MODELS_KEY, 0, -1)}
            new = change(None if raw is None else Calibration.from_text(raw, analyzer)).keeping_others_of(live)
            pipe.multi()
            pipe.set(key, new.to_text(), px=self._idle_ms)
            result[:] = [new]

        with redis_errors(self._client):
            self._client.transaction(attempt, key)
        return result[0]
