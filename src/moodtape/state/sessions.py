"""Each session's short-lived state (lists on screen, undo, recent feedback) in Redis.

A :class:`moodtape.session_state.SessionMemory` that every instance shares: one JSON document per
session under ``moodtape:session:<id>``, forgotten after :data:`~moodtape.session_state.IDLE_SECONDS`
unused. :meth:`RedisSessionMemory.update` is atomic across instances: an optimistic transaction
(``WATCH``, read, change, ``MULTI``/``SET``) that starts over if another instance wrote the session
in between, so two requests of one session on two instances never lose each other's change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moodtape.session_state import IDLE_SECONDS, SessionState
from moodtape.state.connection import PREFIX, redis_errors

if TYPE_CHECKING:
    import redis


class RedisSessionMemory:
    """:class:`~moodtape.session_state.SessionMemory` in Redis (see the module docstring)."""

    def __init__(self, client: redis.Redis, idle_seconds: float = IDLE_SECONDS) -> None:
        self._client = client
        self._idle_ms = max(1, round(idle_seconds * 1000))

    @staticmethod
    def _key(session_id: str) -> str:
        return f"{PREFIX}session:{session_id}"

    def get(self, session_id: str) -> SessionState:
        with redis_errors(self._client):
            raw = self._client.get(self._key(session_id))
        return SessionState.from_stored(raw)

    def update(self, session_id: str, change: Callable[[SessionState], SessionState]) -> SessionState:
        key = self._key(session_id)
        result: list[SessionState] = []

        def attempt(pipe: Any) -> None:
            new = change(SessionState.from_stored(pipe.get(key)))
            pipe.multi()
            pipe.set(key, new.to_json(), px=self._idle_ms)
            result[:] = [new]

        with redis_errors(self._client):
            self._client.transaction(attempt, key)
        return result[0]

    def delete(self, session_id: str) -> None:
        with redis_errors(self._client):
            self._client.delete(self._key(session_id))
