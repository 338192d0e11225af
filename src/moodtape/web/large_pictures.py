"""A bound on large pictures worked on at once, so that they never take every request thread.

Decoding and searching a 40-megapixel photo takes seconds and hundreds of megabytes. The server
has a few request threads (``MOODTAPE_WORKERS``, 4 by default); four such uploads at once held all
of them, and ``/healthz``, the page and every webcam frame waited behind them for seconds
(``benchmarks/heavy_uploads.py`` measures it).

So a picture over :data:`LARGE_PICTURE_PIXELS` (declared in its header, read before any pixel is
decoded) needs one of ``MOODTAPE_LARGE_PICTURES`` slots. When none is free it is refused at once
with a 503 and ``Retry-After`` (:class:`~moodtape.errors.ServerBusyError`), which frees its thread
instead of queueing on it; the page tries again by itself. Webcam frames and ordinary photos are
under the bound and never wait. The bound is per process: with ``--processes N`` each worker has
its own slots, as it has its own threads.

Slots are shared fairly: one client address (web/owners.py) may hold at most half of them (at
least one). Before, one client re-sending a 40-megapixel picture that decodes to black held both
default slots, and every other visitor's phone photo was refused for as long as it went on.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Final

from PIL import Image

from moodtape.errors import ServerBusyError

#: Pictures with more pixels than this need a slot: a 1080p frame is 2.1 MP, a phone photo 12 MP.
LARGE_PICTURE_PIXELS: Final[int] = 4_000_000
#: Seconds a refused client is asked to wait: about what one large picture takes.
RETRY_AFTER_S: Final[int] = 2


def declared_pixels(data: bytes, formats: tuple[str, ...] | None = None) -> int:
    """Width × height from the image's header, without decoding pixels; 0 when it cannot be read.

    0 lets an unreadable file through to the decoder, whose error message says what is wrong.
    ``formats``: the Pillow formats that may read the header (None: every one).
    """
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            width, height = image.size
    except Exception:  # any failure here is reported by the real decode, in its own words
        return 0
    return int(width) * int(height)


class LargePictureGate:
    """At most ``slots`` large pictures at once, at most half of them for one client; more are
    refused, not queued.

    Args:
        slots: large pictures worked on at once (``MOODTAPE_LARGE_PICTURES``).
        threshold: pixels above which a picture counts as large.
    """

    def __init__(self, slots: int, threshold: int = LARGE_PICTURE_PIXELS) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.per_client = max(1, slots // 2)
        self.threshold = threshold
        self._held: Counter[Hashable] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, pixels: int, client: Hashable = None) -> Iterator[None]:
        """Run the block for a picture of ``pixels`` sent by ``client``; a large one holds a slot.

        Raises:
            ServerBusyError: the picture is large and every slot is taken, or ``client`` already
                holds its share of them.
        """
        if pixels <= self.threshold:
            yield
            return
        self._take(client)
        try:
            yield
        finally:
            with self._lock:
                self._held[client] -= 1
                if not self._held[client]:
                    del self._held[client]

    def _take(self, client: Hashable) -> None:
        never_wait = f"pictures up to {self.threshold / 1e6:g} megapixels never wait"
        with self._lock:
            if self._held[client] >= self.per_client:
                raise ServerBusyError(
                    f"your other large picture(s) are still being worked on; try again in a few seconds ({never_wait})",
                    retry_after=RETRY_AFTER_S,
                )
            if self._held.total() >= self.slots:
                raise ServerBusyError(
                    f"the server is busy with {self.slots} other large picture(s); try again in a few seconds "
                    f"({never_wait})",
                    retry_after=RETRY_AFTER_S,
                )
            self._held[client] += 1
