"""How a server process stops: signals become requests, and the exit cannot be aborted by a thread.

Signals as requests: ``moodtape serve`` used to raise ``KeyboardInterrupt`` from its SIGINT/SIGTERM
handler. Python runs a handler between any two bytecodes of the main thread, so the exception could
land inside waitress's loop halfway through reading or writing a connection, which the graceful
drain then carried on with; and during start-up a library that catches every exception (a database
driver, a migration) could swallow it, and the server ran on. :class:`StopRequests` only counts the
signal and wakes the loop; the loop and the start-up check the count where it is safe to stop.

The exit: the model loads in a background thread (``moodtape-warm``) so that the first request does
not wait for it. A process that exits while that thread (or a request past its grace) is inside
native code makes the C++ runtime abort it during the interpreter's teardown ("terminate called
without an active exception", exit -6). :func:`exit_if_native_threads_run` exits before that
teardown instead.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

#: The name of the thread that loads the model and catalog in the background.
WARM_THREAD = "moodtape-warm"


class StopRequests:
    """Counts SIGINT and SIGTERM, and wakes whatever loop waits, instead of raising in the middle of it.

    During start-up (before :meth:`serving`), a second signal raises ``KeyboardInterrupt`` after
    all: the first one is only seen at the next safe point, and a start-up that hangs (a database
    that does not answer) must still give way to a person pressing Ctrl+C again.
    """

    def __init__(self) -> None:
        self.count = 0
        #: The signal that came first: SIGTERM (a service manager) drains before stopping, SIGINT
        #: (Ctrl+C at a terminal) does not (web/draining.py).
        self.first: signal.Signals | None = None
        self._wake: Callable[[], None] | None = None

    def install(self) -> None:
        """Handle both signals from now on (both explicitly: a server started with ``&`` inherits SIGINT ignored)."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def serving(self, wake: Callable[[], None]) -> None:
        """The loop runs now: each signal calls ``wake`` (safe in a handler) and never raises."""
        self._wake = wake

    @property
    def asked(self) -> bool:
        """At least one signal came."""
        return self.count > 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.first is None:
            self.first = signal.Signals(signum)
        if self._wake is not None:
            self._wake()
        elif self.count > 1:
            raise KeyboardInterrupt


def ignore_stop_signals() -> None:
    """From here on the clean-up runs to its end, whatever is pressed."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_warming(services: Any, warn: Callable[[str], None] | None = None) -> threading.Thread:
    """Load the model and catalog in a daemon thread so the first analysis does not wait for them.

    A missing or broken model is said once through ``warn`` (default: the log); requests say it again.
    """
    thread = threading.Thread(target=_warm, args=(services, warn), name=WARM_THREAD, daemon=True)
    thread.start()
    return thread


def _warm(services: Any, warn: Callable[[str], None] | None) -> None:
    from moodtape.errors import MoodtapeError

    try:
        services.warm()
    except MoodtapeError as exc:
        if warn is None:
            logging.getLogger("moodtape.web").warning("%s", exc)
        else:
            warn(str(exc))


def warming() -> bool:
    """Whether this process's model is still loading (the thread of :func:`start_warming` runs)."""
    return any(thread.name == WARM_THREAD and thread.is_alive() for thread in threading.enumerate())


def exit_if_native_threads_run(still_running: int = 0) -> None:
    """Exit the process now, skipping the interpreter's teardown, if a thread may be in native code.

    ``still_running`` counts request threads past their grace (``BufferedServer.stop``'s answer);
    the model-loading thread is found by its name. Logs and output are flushed first; nothing else
    is pending (every write to the database is committed by its request). Otherwise returns, and
    the process exits as usual.
    """
    if not (still_running or warming()):
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
