"""The ids of sessions ended by "Delete everything", shared by processes and instances.

The same interface as :class:`moodtape.web.retired.MemoryRetiredSessions` (whose module says why
they are kept and for how long): in Redis in the sorted set ``moodtape:retired``, or in the store's
``short_lived`` table (kind ``retired``) when several processes share no Redis. A marker is the
id alone, with its expiry; nothing of what the session did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from moodtape.state.connection import PREFIX, redis_errors
from moodtape.state.redis_clock import redis_clock
from moodtape.store.database import Database
from moodtape.store.short_lived import ShortLived

if TYPE_CHECKING:
    import redis

#: Retired ids kept at most, in one process's memory (about 200 bytes each with the map's
#: bookkeeping: 13 MB), in Redis or in the store (``web/retired.py`` says why they are kept).
MAX_RETIRED: Final[int] = 65_536

#: What a marker row holds: its key (kind and id) says everything.
_MARK: Final[str] = "retired"


class RedisRetiredSessions:
    """:class:`~moodtape.web.retired.RetiredSessions` in Redis: one sorted set of ids scored by expiry.

    Bounded as one process's memory is (:data:`MAX_RETIRED` ids, the soonest
    to expire dropped first): each "Delete everything" answer hands out the next session's token, so
    one address deleting in a loop could otherwise add a key a request for a month (about 2.3 GB of
    Redis a day at the rate limit, measured at 133 bytes a key).
    """

    def __init__(self, client: redis.Redis, keep_seconds: float, clock: Callable[[], float] | None = None) -> None:
        self._client = client
        self._keep_ms = max(1, round(keep_seconds * 1000))
        # Redis's clock, not this instance's (state/redis_clock.py): one 2 h ahead ended markers 2 h early.
        self._clock = clock if clock is not None else redis_clock(client)
        self._key = f"{PREFIX}retired"

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def retire(self, session_id: str) -> None:
        now = self._now_ms()
        with redis_errors(self._client):
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(self._key, {session_id: now + self._keep_ms})
            pipe.zremrangebyscore(self._key, "-inf", now)
            pipe.zremrangebyrank(self._key, 0, -(MAX_RETIRED + 1))
            pipe.pexpire(self._key, self._keep_ms)
            pipe.execute()

    def is_retired(self, session_id: str) -> bool:
        with redis_errors(self._client):
            expires = self._client.zscore(self._key, session_id)
        return expires is not None and float(expires) > self._now_ms()

    def restore(self, session_id: str) -> None:
        with redis_errors(self._client):
            self._client.zrem(self._key, session_id)


class StoreRetiredSessions:
    """:class:`~moodtape.web.retired.RetiredSessions` in the store's ``short_lived`` table.

    Bounded by count as one process's memory is (:data:`MAX_RETIRED`
    markers), but not fairly by client address: the table's sweep deletes the least recently written
    beyond that, whoever wrote them. A flood of deletions can so end markers early; the late-write
    check (``web/retired.py``) still forgets what an old session wrote during its deletion.
    """

    def __init__(self, database: Database, keep_seconds: float, clock: Callable[[], float] | None = None) -> None:
        self.documents = ShortLived(database, "retired", keep_seconds, clock=clock, max_bytes=MAX_RETIRED * len(_MARK))

    def retire(self, session_id: str) -> None:
        self.documents.put(session_id, _MARK)

    def is_retired(self, session_id: str) -> bool:
        return self.documents.get(session_id) is not None

    def restore(self, session_id: str) -> None:
        self.documents.delete(session_id)
