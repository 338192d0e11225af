"""Run risky work in a child process with a time limit: a hang or a crash there is an error here.

Why: reading a user's Keras ``.h5`` file goes through h5py into the HDF5 C library, and a damaged
file can make HDF5 loop forever (seen in the fuzzing of the loader) or, in principle, crash. In
the server's process either would be fatal: a thread stuck for good, or the whole server gone. In
a child process the parent waits at most ``seconds``, then kills it, and a crash ends only the
child.

The child is a separate Python (``python -m moodtape.vision.child``) that reads pickled calls on
its stdin and writes pickled answers on its stdout. It is started on first use and kept for
:data:`IDLE_SECONDS` after the last call, so a series of files (the fuzz tests, a batch) pays the
second or so of importing h5py and onnx once. Not multiprocessing: its spawn and forkserver modes
run the caller's main script again in the child, which a user's script without an
``if __name__ == "__main__"`` guard does not survive.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, Final, TypeVar

T = TypeVar("T")

#: A child with no work for this long is closed (the next call starts a new one).
IDLE_SECONDS: Final[float] = 20.0
_HEADER = struct.Struct("!Q")  # each message: its length, then its pickle


class ChildTimeoutError(Exception):
    """The work did not finish within its time limit; the child was killed."""


class ChildCrashedError(Exception):
    """The child ended without an answer (a crash in C code, a signal, ``os._exit``)."""

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(describe_exit(exitcode))


def describe_exit(exitcode: int | None) -> str:
    """``"killed by SIGSEGV"`` or ``"exit status 3"``."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def run_bounded(function: Callable[..., T], *args: Any, seconds: float) -> T:
    """``function(*args)`` in the child process; its result, or its exception raised here.

    ``function`` must be importable by name (a module-level function) and ``args`` picklable.
    Calls are one at a time (a lock); each waits at most ``seconds`` once its turn comes.

    Raises:
        ChildTimeoutError: no answer within ``seconds`` (the child is killed).
        ChildCrashedError: the child ended without answering.
    """
    with _CHILD.lock:
        failed, value = _CHILD.call(pickle.dumps((function, args)), seconds)
    if failed:
        raise value
    result: T = value
    return result


class _Child:
    """The one child process, started on demand, closed when idle, killed on a timeout."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._idle: threading.Timer | None = None
        self._exit_hook = False

    def call(self, request: bytes, seconds: float) -> tuple[bool, Any]:
        if self._idle is not None:
            self._idle.cancel()
        process = self._process if self._process is not None and self._process.poll() is None else self._start()
        answer: list[bytes | None] = []
        reader = threading.Thread(target=lambda: answer.append(_read(process.stdout)), daemon=True)
        try:
            assert process.stdin is not None
            process.stdin.write(_HEADER.pack(len(request)) + request)
            process.stdin.flush()
        except OSError:
            pass  # it died; the reader sees the end of its output
        reader.start()
        reader.join(seconds)
        if reader.is_alive():
            self._kill()
            reader.join(5)
            raise ChildTimeoutError(f"no answer within {seconds:g} s")
        if not answer or answer[0] is None:
            exitcode = self._kill()
            raise ChildCrashedError(exitcode)
        self._idle = threading.Timer(IDLE_SECONDS, self._close_if_idle)
        self._idle.daemon = True
        self._idle.start()
        outcome: tuple[bool, Any] = pickle.loads(answer[0])
        return outcome

    def _start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moodtape.vision.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        if not self._exit_hook:  # close it when this process ends, rather than leave it to notice
            atexit.register(self._close_if_idle)
            self._exit_hook = True
        return self._process

    def _kill(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        exitcode = process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        return exitcode

    def _close_if_idle(self) -> None:
        if self.lock.acquire(blocking=False):  # a call in progress keeps it
            try:
                self._kill()
            finally:
                self.lock.release()


def _read(stream: IO[bytes] | None) -> bytes | None:
    """One message, or None when the stream ends first."""
    if stream is None:
        return None
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    body = stream.read(length)
    return body if len(body) == length else None


_CHILD = _Child()


def _serve() -> None:
    """The child's loop: read a call, run it, write the answer; end when the parent closes stdin."""
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed (HDF5 diagnostics) goes to stderr, never into the answers
    while (request := _read(requests)) is not None:
        try:
            function, args = pickle.loads(request)
            answer = pickle.dumps((False, function(*args)))
        except Exception as exc:
            try:
                answer = pickle.dumps((True, exc))
            except Exception:  # an exception that does not pickle: its text
                answer = pickle.dumps((True, RuntimeError(f"{type(exc).__name__}: {exc}")))
        answers.write(_HEADER.pack(len(answer)) + answer)
        answers.flush()


if __name__ == "__main__":
    _serve()
