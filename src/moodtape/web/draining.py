"""The drain before a stop: on SIGTERM, ``/readyz`` answers 503 while every other request is still served.

Why: a stop closes the listening socket at once (new connections are refused), but a balancer
learns that an instance is going only from its next failed checks of ``/readyz``: HAProxy with
``inter 2s fall 3`` keeps sending new connections for up to 6 s, and without retries each of them
got "connection refused" (a 503 from the balancer). With ``MOODTAPE_DRAIN_SECONDS`` set, the first
SIGTERM only marks the instance as draining: ``/readyz`` says 503 ``draining``, the balancer takes
it out of rotation, and the port closes once the window is over, when no new request comes any
more. Then the stop goes on as before (requests in flight get ``MOODTAPE_SHUTDOWN_SECONDS``).

SIGINT (Ctrl+C) does not drain: a person at a terminal expects a prompt stop, and nothing polls a
laptop's ``/readyz``. A second SIGTERM or SIGINT during the window stops at once.

With ``--processes N`` the gunicorn master gets the signal and the workers answer ``/readyz``, so
the mark lives in memory shared with every process forked after it was made (:class:`DrainMark`):
the master sets it, every worker (one replaced during the window too) reads it.
"""

from __future__ import annotations

import mmap
import time
from typing import Final

from flask import Flask

_EXTENSION: Final = "moodtape.draining"


class DrainMark:
    """Whether this instance is draining: one byte of memory shared with the processes forked after it.

    An anonymous ``mmap`` is shared (not copied) across ``fork``: gunicorn's master creates the app,
    and with it this mark, before it forks the workers.
    """

    def __init__(self) -> None:
        self._byte = mmap.mmap(-1, 1)

    def set(self) -> None:
        """From now on, ``/readyz`` of every process sharing the mark answers 503 ``draining``."""
        self._byte[0] = 1

    @property
    def is_set(self) -> bool:
        return self._byte[0] == 1


def install_drain_mark(app: Flask) -> DrainMark:
    """Give ``app`` its drain mark (made once, before any fork)."""
    mark: DrainMark | None = app.extensions.get(_EXTENSION)
    if mark is None:  # not setdefault: that would map a second shared page each call
        mark = app.extensions[_EXTENSION] = DrainMark()
    return mark


def drain_mark(app: Flask) -> DrainMark | None:
    """``app``'s drain mark, or None for an app built without one."""
    return app.extensions.get(_EXTENSION)


class DrainWindow:
    """The drain of one stop: :meth:`begin` at the first SIGTERM, :meth:`over` once ``seconds`` have passed.

    Args:
        mark: the app's :class:`DrainMark`, set by :meth:`begin`.
        seconds: ``MOODTAPE_DRAIN_SECONDS``; 0 means no drain (:meth:`begin` says False).
    """

    def __init__(self, mark: DrainMark | None, seconds: float) -> None:
        self._mark = mark
        self.seconds = seconds
        self._ends_at: float | None = None

    def begin(self) -> bool:
        """Start the window now; False when there is none (0 s, no mark) or it has already begun."""
        if self._mark is None or self.seconds <= 0 or self.began:
            return False
        self._mark.set()
        self._ends_at = time.monotonic() + self.seconds
        return True

    @property
    def began(self) -> bool:
        return self._ends_at is not None

    def left(self) -> float:
        """Seconds until the window ends (0 when it has not begun or is over)."""
        return 0.0 if self._ends_at is None else max(0.0, self._ends_at - time.monotonic())

    def over(self) -> bool:
        """The window began and its time is up: the port may close now."""
        return self.began and self.left() <= 0

    def announcement(self) -> str:
        """What the server says when the window begins."""
        return (
            f"draining for {self.seconds:g} s: /readyz answers 503 so the balancer stops sending new requests, "
            "everything else is still served; a second SIGTERM or Ctrl+C stops at once"
        )
