"""Webcam streams: one :class:`StreamAnalyzer` state per (session, stream id).

A stream's smoothing state (face tracks, smoothed probabilities) is short-lived by nature (a track
dies after a second unseen), so it is dropped after a minute of silence. Two registries keep it:

- :class:`StreamRegistry`, the default: in this process's memory, bounded in number.
- :class:`RedisStreamRegistry` (``MOODTAPE_REDIS_URL``): in Redis, loaded before and saved after
  each frame, so consecutive frames of one stream may reach different instances and the smoothing
  carries over (no sticky sessions). Time is then Redis's clock, the one clock all instances
  share (their own may disagree by more than the smoothing's time constant).

Stream ids are chosen by the page and scoped by the anonymous session, so one visitor cannot feed
frames into another's stream. Deleting history (``DELETE /api/history``) drops the session's
streams at once (:meth:`Streams.forget`), in Redis and in this process; in Redis, a frame in flight
during the deletion cannot save the state it read from before it (:class:`RedisStreamRegistry`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from moodtape.errors import DataError
from moodtape.state.connection import PREFIX, redis_errors
from moodtape.types import Face
from moodtape.vision.calibration import Profile
from moodtape.vision.stream import StreamAnalyzer
from moodtape.web.lru import BoundedLRU
from moodtape.web.owners import client_owner

if TYPE_CHECKING:
    import redis

log = logging.getLogger("moodtape.web")

_STREAM_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Streams kept per process: far more than the webcams one process can serve at 10 frames/s.
MAX_STREAMS: Final[int] = 512
#: Seconds of silence after which a stream is forgotten (its face tracks expire after one anyway).
STREAM_IDLE_SECONDS: Final[float] = 60.0
#: Full-frame face detection on every 3rd frame of a stream; in between, each known face is looked
#: for only near its last box. Full detection is most of a frame's cost (Haar over 640×480), so this
#: roughly halves the average; a newcomer is found within 3 frames (0.1–0.3 s at 10–30 frames/s).
STREAM_DETECT_EVERY: Final[int] = 3


def check_stream_id(stream_id: str) -> str:
    """``stream_id`` if it is 1–64 letters, digits, ``-`` or ``_``; else a :class:`DataError` (400)."""
    if not _STREAM_ID.fullmatch(stream_id):
        raise DataError("stream must be 1–64 letters, digits, '-' or '_'")
    return stream_id


class Streams(Protocol):
    """Where streams live; :meth:`process` runs one frame of one stream."""

    def process(
        self, session_id: str, stream_id: str, gray: npt.NDArray[np.uint8], profile: Profile | None = None
    ) -> list[Face]:
        """Smoothed faces of this frame of the session's stream ``stream_id``, calibrated by ``profile``."""
        ...

    def forget(self, session_id: str) -> None:
        """Drop every stream of the session now (its person deleted their history), not a minute later."""
        ...


class StreamRegistry:
    """The live streams of this process, least recently used first out.

    Args:
        factory: makes a fresh :class:`StreamAnalyzer` (called on a stream's first frame).
    """

    def __init__(
        self,
        factory: Callable[[], StreamAnalyzer],
        max_streams: int = MAX_STREAMS,
        idle_seconds: float = STREAM_IDLE_SECONDS,
    ) -> None:
        self._factory = factory
        self._idle_seconds = idle_seconds
        self._streams: BoundedLRU[tuple[str, str], StreamAnalyzer] = BoundedLRU(
            max_streams, idle_seconds, owner=client_owner
        )
        #: Session ids deleted lately, with when each stops counting (monotonic), oldest first.
        self._retired: OrderedDict[str, float] = OrderedDict()
        self._retired_lock = threading.Lock()

    def get(self, session_id: str, stream_id: str) -> StreamAnalyzer:
        """The stream's analyzer, made on first use; a fresh one, kept nowhere, for a deleted session's id.

        A frame that resolved its session before "Delete everything" and reached here after it
        otherwise made the deleted session's stream again, kept for another minute under the
        retired id (as :class:`RedisStreamRegistry`'s ``deleted`` epoch prevents in Redis).
        """
        check_stream_id(stream_id)
        if self._is_retired(session_id):
            return self._factory()
        return self._streams.get_or_create((session_id, stream_id), self._factory)

    def process(
        self, session_id: str, stream_id: str, gray: npt.NDArray[np.uint8], profile: Profile | None = None
    ) -> list[Face]:
        stream = self.get(session_id, stream_id)
        stream.profile = profile
        return stream.process(gray, time.monotonic())

    def forget(self, session_id: str) -> None:
        with self._retired_lock:
            self._retired.pop(session_id, None)
            self._retired[session_id] = time.monotonic() + self._idle_seconds
            while len(self._retired) > MAX_RETIRED_SESSIONS:
                self._retired.popitem(last=False)
        self._streams.pop_where(lambda key: key[0] == session_id)

    def _is_retired(self, session_id: str) -> bool:
        with self._retired_lock:
            now = time.monotonic()
            while self._retired and next(iter(self._retired.values())) <= now:
                self._retired.popitem(last=False)  # oldest first: each entry lasts the same time
            return session_id in self._retired

    def __len__(self) -> int:
        return len(self._streams)


#: Deleted session ids a :class:`StreamRegistry` remembers (for a stream's idle time each): a frame
#: in flight during a deletion arrives within seconds, and each id costs about 100 bytes.
MAX_RETIRED_SESSIONS: Final[int] = 4096


class RedisStreamRegistry:
    """Streams whose state lives in Redis under ``moodtape:stream:<session>:<stream>``, with a TTL.

    Beside them, one hash per session, ``moodtape:streams:<session>``, names the session's streams
    (a field per stream id) and holds the session's *epoch* (field ``#epoch``), with the same TTL:

    - "Delete my history" (:meth:`forget`) deletes the named stream keys and sets a new epoch in one
      atomic step: no ``SCAN`` of the keyspace (1.2 s of round trips per million keys).
    - A frame reads the epoch with the state and saves only while it is unchanged (one script), so
      a frame in flight during a deletion, on any instance, cannot save the state it read from
      before the deletion: it is answered, and its stream starts afresh at the next frame.
    - The epoch a deletion sets (:data:`DELETED`) takes no saves at all: a deleted session's id is
      retired (the person goes on under a new one), and a frame that had resolved the old id before
      the deletion but read the epoch after it otherwise saved its smoothing under that id for
      another minute.
    - A session holds at most :data:`MAX_SESSION_STREAMS` streams: each field's value is when its
      stream expires, and past the bound the same script drops the expired names, then the streams
      that would expire first.

    Two frames of one stream answered at the same moment by two instances both start from the
    same state and the later save wins: the page sends a stream's frames one at a time, so this
    only happens with clients that do not, and costs them a little smoothing, nothing more.

    Args:
        client: the Redis client.
        factory: makes a fresh :class:`StreamAnalyzer`; the stored state is restored into it.
        idle_seconds: a stream unheard of for this long is forgotten (Redis expires the key).
        clock: seconds for each frame; by default Redis's own clock (``TIME``, read in the same
            round trip as the state), because the machines' clocks need not agree: a machine half
            a second behind gave its frames no weight in the smoothing, one over a second ahead
            dropped the face's track on every other frame. Tests pass a fake.
    """

    def __init__(
        self,
        client: redis.Redis,
        factory: Callable[[], StreamAnalyzer],
        idle_seconds: float = STREAM_IDLE_SECONDS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._factory = factory
        self._idle_ms = max(1, round(idle_seconds * 1000))
        self._clock = clock

    def process(
        self, session_id: str, stream_id: str, gray: npt.NDArray[np.uint8], profile: Profile | None = None
    ) -> list[Face]:
        stream_id = check_stream_id(stream_id)
        key, index = _stream_key(session_id, stream_id), _index_key(session_id)
        raw, epoch, now = self._read(key, index)
        stream = self._factory()
        stream.profile = profile
        if raw is not None:
            try:
                stream.restore(json.loads(raw))
            except ValueError as exc:  # json.JSONDecodeError is a ValueError too
                log.warning("starting stream afresh: its stored state is unreadable (%s)", exc)
        faces = stream.process(gray, now)
        state = json.dumps(stream.state(), separators=(",", ":"))
        with redis_errors(self._client):
            self._client.eval(
                _SAVE,
                2,
                key,
                index,
                epoch or b"",
                state,
                self._idle_ms,
                stream_id,
                _stream_key(session_id, ""),
                MAX_SESSION_STREAMS,
            )
        return faces

    def forget(self, session_id: str) -> None:
        """Delete the session's streams named in its index, and give the session a new epoch, in one
        transaction (a frame of any instance that read the old epoch then saves nothing)."""
        index = _index_key(session_id)

        def delete(pipe: Any) -> None:
            named = [field for field in pipe.hkeys(index) if not field.startswith(_EPOCH)]
            keys = [_stream_key(session_id, field.decode("ascii", "replace")) for field in named]
            pipe.multi()
            if keys:
                pipe.delete(*keys)
            pipe.delete(index)
            pipe.hset(index, _EPOCH, DELETED)
            pipe.pexpire(index, self._idle_ms)

        with redis_errors(self._client):
            self._client.transaction(delete, index)

    def _read(self, key: str, index: str) -> tuple[bytes | None, bytes | None, float]:
        """The stream's stored state, its session's epoch and the frame's time, in one round trip."""
        with redis_errors(self._client):
            pipe: Any = self._client.pipeline(transaction=False)
            pipe.get(key).hget(index, _EPOCH)
            if self._clock is not None:
                raw, epoch = pipe.execute()
                return raw, epoch, self._clock()
            raw, epoch, (seconds, microseconds) = pipe.time().execute()
        return raw, epoch, seconds + microseconds / 1e6


#: The field of a session's stream index holding its epoch (stream ids never start with ``#``).
_EPOCH: Final[bytes] = b"#epoch"
#: The epoch of a deleted session, for as long as its index lives (a stream's idle time): no frame
#: saves then, whichever epoch it read (:data:`_SAVE`).
DELETED: Final[str] = "deleted"

#: Streams one session may hold in Redis at once: the page runs one per tab. Past it, streams
#: whose time is up leave the index, then the stream that would expire first goes (its state too).
#: Before, a client sending every frame with a new stream id grew the session's index by one field
#: per frame for as long as any of its streams lived, and kept a state per id for a minute.
MAX_SESSION_STREAMS: Final[int] = 16

#: Save the state ARGV[2] of stream ARGV[4] under KEYS[1] for ARGV[3] ms, and name it in the
#: session's index KEYS[2] with the time it expires (Redis's clock, ms), unless the session's epoch
#: is no longer ARGV[1] (a deletion since the frame read the state) or is :data:`DELETED` (a frame
#: that read the epoch after the deletion, with a session id resolved before it): then save nothing. Past
#: ARGV[6] streams the index is pruned (see :data:`MAX_SESSION_STREAMS`); ARGV[5] is the prefix of
#: the session's stream keys. 1 when saved, 0 when not.
_SAVE: Final[str] = """
if redis.replicate_commands then redis.replicate_commands() end
local epoch = redis.call('HGET', KEYS[2], '#epoch') or ''
if epoch ~= ARGV[1] or epoch == 'deleted' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], now + tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local cap = tonumber(ARGV[6])
local named = redis.call('HLEN', KEYS[2]) - redis.call('HEXISTS', KEYS[2], '#epoch')
if named <= cap then return 1 end
local fields = redis.call('HGETALL', KEYS[2])
local live = {}
for i = 1, #fields, 2 do
  local name, until_ms = fields[i], tonumber(fields[i + 1])
  if name ~= '#epoch' and name ~= ARGV[4] then
    if until_ms == nil or until_ms <= now then
      redis.call('HDEL', KEYS[2], name)
    else
      live[#live + 1] = {until_ms, name}
    end
  end
end
table.sort(live, function(a, b) return a[1] < b[1] end)
for i = 1, #live - (cap - 1) do
  redis.call('HDEL', KEYS[2], live[i][2])
  redis.call('DEL', ARGV[5] .. live[i][2])
end
return 1
"""


def _stream_key(session_id: str, stream_id: str) -> str:
    return f"{PREFIX}stream:{session_id}:{stream_id}"


def _index_key(session_id: str) -> str:
    return f"{PREFIX}streams:{session_id}"
