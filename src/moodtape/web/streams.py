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
streams at once (:meth:`Streams.forget`), in Redis and in this process.
"""

from __future__ import annotations

import json
import logging
import re
import time
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
        self._streams: BoundedLRU[tuple[str, str], StreamAnalyzer] = BoundedLRU(
            max_streams, idle_seconds, owner=client_owner
        )

    def get(self, session_id: str, stream_id: str) -> StreamAnalyzer:
        """The stream's analyzer, made on first use."""
        return self._streams.get_or_create((session_id, check_stream_id(stream_id)), self._factory)

    def process(
        self, session_id: str, stream_id: str, gray: npt.NDArray[np.uint8], profile: Profile | None = None
    ) -> list[Face]:
        stream = self.get(session_id, stream_id)
        stream.profile = profile
        return stream.process(gray, time.monotonic())

    def forget(self, session_id: str) -> None:
        self._streams.pop_where(lambda key: key[0] == session_id)

    def __len__(self) -> int:
        return len(self._streams)


class RedisStreamRegistry:
    """Streams whose state lives in Redis under ``moodtape:stream:<session>:<stream>``, with a TTL.

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
        key = f"{PREFIX}stream:{session_id}:{check_stream_id(stream_id)}"
        raw, now = self._read(key)
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
            self._client.set(key, state, px=self._idle_ms)
        return faces

    def forget(self, session_id: str) -> None:
        """Delete the session's stream keys, found with ``SCAN`` (deleting history is rare; frames
        then pay for no index). Session ids are letters, digits, ``-`` and ``_``; any other
        character is escaped so the pattern matches this one session only."""
        pattern = f"{PREFIX}stream:{_glob_escape(session_id)}:*"
        with redis_errors(self._client):
            keys = list(self._client.scan_iter(match=pattern, count=1000))
            if keys:
                self._client.delete(*keys)

    def _read(self, key: str) -> tuple[bytes | None, float]:
        """The stream's stored state and the frame's time, in one round trip."""
        with redis_errors(self._client):
            if self._clock is not None:
                stored: Any = self._client.get(key)
                return stored, self._clock()
            pipe: Any = self._client.pipeline(transaction=False)
            raw, (seconds, microseconds) = pipe.get(key).time().execute()
        return raw, seconds + microseconds / 1e6


def _glob_escape(text: str) -> str:
    """``text`` with Redis's glob characters escaped, to match itself only in ``SCAN MATCH``."""
    return re.sub(r"([*?\[\]\\^])", r"\\\1", text)
