"""Webcam streams of this process: one :class:`StreamAnalyzer` per (session, stream id).

A stream's smoothing state (face tracks, smoothed probabilities) lives in the process that
answered its frames; it is short-lived by nature (a track dies after a second unseen), so it is
kept in memory, bounded in number and dropped after a minute of silence. With several processes
behind a load balancer, frames of one stream should reach the same process (sticky sessions);
otherwise each process smooths the frames it sees, which is still correct, just less smooth
(see ``docs/deployment.md``).

Stream ids are chosen by the page and scoped by the anonymous session, so one visitor cannot feed
frames into another's stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from moodtape.errors import DataError
from moodtape.vision.stream import StreamAnalyzer
from moodtape.web.lru import BoundedLRU

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
        self._streams: BoundedLRU[tuple[str, str], StreamAnalyzer] = BoundedLRU(max_streams, idle_seconds)

    def get(self, session_id: str, stream_id: str) -> StreamAnalyzer:
        """The stream's analyzer, made on first use."""
        return self._streams.get_or_create((session_id, check_stream_id(stream_id)), self._factory)

    def __len__(self) -> int:
        return len(self._streams)
